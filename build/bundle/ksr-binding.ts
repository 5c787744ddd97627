/**
 * Makes `KSR` a parameter of the bundle's IIFE, bound once per (re)load to
 * the global app_jsdt creates, instead of a global looked up on every call.
 *
 * Duktape resolves a name that is not a local of the running function by
 * name, scope by scope: a `KSR.tm.t_relay()` in a route function first
 * missed in the IIFE's scope (some 300 bindings: every function and constant
 * of the routing) and then found KSR on the global object. Bound by the
 * IIFE, the first lookup finds it. Measured with valgrind in Duktape 2.7
 * (`npm run bench:duk -- --baseline ... --counter instructions`): 6-8 % fewer
 * instructions per message, the same code otherwise.
 *
 * Top-level `this` is the global object in Duktape (and in any script); a
 * script loaded without a KSR global gets `undefined`, and fails at its first
 * KSR call, as it did before.
 */

/** esbuild's `format: 'iife'` wrapper, as it prints it. */
const IIFE_OPEN = /^var (\w+) = \(\(\) => \{$/m;
const IIFE_CLOSE = /^\}\)\(\);$/m;

export function bindKsrInBundle(code: string): string {
  const open = IIFE_OPEN.exec(code);
  const close = IIFE_CLOSE.exec(code);
  if (open === null || close === null || close.index < open.index) {
    throw new Error("esbuild's IIFE wrapper is not where ksr-binding.ts expects it (var NAME = (() => { ... })();): bundling changed");
  }
  return (
    code.slice(0, open.index) +
    `var ${open[1]} = ((KSR) => {` +
    code.slice(open.index + open[0].length, close.index) +
    '})(this.KSR);' +
    code.slice(close.index + close[0].length)
  );
}
