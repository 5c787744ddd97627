/**
 * How a mock module is declared: its KEMI module name ('' for core) and a
 * factory returning implementations keyed by function name. Parameters are
 * declared like the API list (their count is checked against it), so
 * default or rest parameters are not allowed.
 */
import type { Engine } from '../runtime/engine.ts';
import type { Impl } from '../surface.ts';

export type Impls = Readonly<Record<string, Impl>>;

/** `T` keeps the function names, so tests can type the KSR object from the mock itself. */
export interface ModuleDef<T extends Impls = Impls> {
  readonly module: string;
  create(k: Engine): T;
}

export function defineModule<T extends Impls>(module: string, create: (k: Engine) => T): ModuleDef<T> {
  return { module, create };
}

/** KEMI's int convention for a boolean outcome: 1 true, -1 false. */
export function rc(ok: boolean): number {
  return ok ? 1 : -1;
}
