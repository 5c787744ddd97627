/**
 * The KSR object, built from the API list like app_jsdt builds it from the
 * loaded modules' KEMI exports (app_jsdt_api.c sr_kemi_jsdt_exec_func_ex):
 * listed functions exist, anything else is absent (TypeError when called).
 * Each wrapper coerces arguments as Duktape does, enforces the declared
 * arity and return type, and calls the mock implementation — or throws when
 * the mock has none, so a test can never pass on an unmodelled call.
 */
import { kemiPath, type KemiApi, type KemiFunction } from '../build/kemi/api-list.ts';

/** A mock implementation; arguments are already coerced to the declared types. */
export type Impl = (...args: never[]) => unknown;
export type KsrValue = string | number | boolean | null | undefined;
export type KsrFunction = (...args: unknown[]) => KsrValue;
export interface KsrObject {
  [name: string]: KsrFunction | Record<string, KsrFunction>;
}

/** Thrown by KSR.x.exit()/drop() and recognised by app_jsdt_run_ex. */
export const EXIT_MARKER = '~~ksr~exit~~';

export interface SurfaceHooks {
  /** Throws when no SIP message is being processed (KSR use at module top level). */
  assertInMessage(path: string): void;
  /** KSR.x.drop(): sr_kemi_core_set_drop(). */
  markDrop(): void;
}

/** Checks implementations against the list; returns one line per problem. */
export function checkImplementations(api: KemiApi, impls: ReadonlyMap<string, Impl>): string[] {
  const problems: string[] = [];
  for (const [path, fn] of impls) {
    const decl = api.byPath.get(path);
    if (!decl) problems.push(`mock KSR: implementation ${path} is not in the API list`);
    else if (fn.length !== decl.params.length) {
      problems.push(`mock KSR: implementation ${path} takes ${fn.length} parameter(s), the API list declares ${decl.params.length}`);
    }
  }
  return problems;
}

export function buildKsr(api: KemiApi, impls: ReadonlyMap<string, Impl>, hooks: SurfaceHooks): KsrObject {
  const problems = checkImplementations(api, impls);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const ksr: KsrObject = {};
  for (const decl of api.functions) {
    const wrapper = wrap(decl, impls.get(kemiPath(decl.module, decl.name)), hooks);
    if (decl.module === '') {
      ksr[decl.name] = wrapper;
    } else {
      const mod = (ksr[decl.module] ??= {}) as Record<string, KsrFunction>;
      mod[decl.name] = wrapper;
    }
  }
  ksr['x'] = {
    exit: (): never => {
      hooks.assertInMessage('x.exit');
      throw EXIT_MARKER;
    },
    drop: (): never => {
      hooks.assertInMessage('x.drop');
      hooks.markDrop();
      throw EXIT_MARKER;
    },
    modf: (): never => {
      // kamailio/kamailio#4314, #2829: modf crashes or fails for many functions; not modelled.
      throw new Error('mock KSR: KSR.x.modf is not implemented (avoid it: it bypasses KEMI)');
    },
  };
  return ksr;
}

function wrap(decl: KemiFunction, impl: Impl | undefined, hooks: SurfaceHooks): KsrFunction {
  const path = `KSR.${kemiPath(decl.module, decl.name)}`;
  return (...args: unknown[]): KsrValue => {
    hooks.assertInMessage(path);
    const n = decl.params.length;
    if (args.length === 0 && n > 0) {
      // app_jsdt logs "invalid number of parameters" and returns false; the mock fails loudly.
      throw new Error(`mock KSR: ${path} called with no arguments, needs ${n} (Kamailio would return false)`);
    }
    if (args.length > n) {
      // app_jsdt silently ignores extra arguments (e.g. ds_is_from_list(1, 2) drops the mode).
      throw new Error(`mock KSR: ${path} takes ${n} argument(s), got ${args.length} (app_jsdt ignores the extra ones)`);
    }
    const coerced = decl.params.map((type, i) => {
      if (i >= args.length) throw new RangeError(`invalid stack index ${i}`);
      return type === 'int' ? toDukInt(args[i]) : String(args[i]);
    });
    if (!impl) throw new Error(`mock KSR: ${path} is not implemented`);
    return checkReturn(path, decl, (impl as (...a: unknown[]) => unknown)(...coerced));
  };
}

/** duk_to_int: ToNumber, NaN -> 0, clamp to C int, truncate toward zero. */
export function toDukInt(v: unknown): number {
  const n = Number(v);
  if (Number.isNaN(n)) return 0;
  return Math.trunc(Math.max(-2147483648, Math.min(2147483647, n)));
}

/** app_jsdt return mapping: int -> number, bool -> boolean, xval -> string/number/null/undefined, none -> false. */
function checkReturn(path: string, decl: KemiFunction, value: unknown): KsrValue {
  const bad = (): never => {
    throw new Error(`mock KSR: implementation of ${path} returned ${JSON.stringify(value)}, declared ${decl.ret}`);
  };
  switch (decl.ret) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? value : bad();
    case 'bool':
      return typeof value === 'boolean' ? value : bad();
    case 'none':
      // sr_kemi_jsdt_return_int pushes false for anything that is not int/bool.
      return value === undefined ? false : bad();
    case 'xval':
    case 'str':
      if (value === null || value === undefined || typeof value === 'string') return value;
      return typeof value === 'number' && Number.isInteger(value) ? value : bad();
  }
}
