/**
 * How a mock module is declared: its KEMI module name ('' for core) and a
 * factory returning implementations keyed by function name. Parameters are
 * declared like the API list (their count is checked against it), so
 * default or rest parameters are not allowed.
 */
import type { Engine } from '../runtime/engine.ts';
import type { Impl } from '../surface.ts';

export interface ModuleDef {
  readonly module: string;
  create(k: Engine): Readonly<Record<string, Impl>>;
}

export function defineModule(module: string, create: (k: Engine) => Readonly<Record<string, Impl>>): ModuleDef {
  return { module, create };
}

/** KEMI's int convention for a boolean outcome: 1 true, -1 false. */
export function rc(ok: boolean): number {
  return ok ? 1 : -1;
}
