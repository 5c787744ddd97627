/**
 * KEMI callback names. Kamailio finds failure/reply/branch routes by the NAME
 * of a global function, and silently skips a name that does not exist. So a
 * callback name is never a free string: it is a branded string that only
 * `kemiCallback()` makes, and src/routing/callbacks.ts constrains those names
 * to the `ksr_*` functions the entry module exports. The build re-checks it on
 * the bundle (build/guards/callback-names.ts).
 */

export type CallbackRoute = 'failure' | 'reply' | 'branch' | 'branch_failure';

declare const callbackBrand: unique symbol;

export type KemiCallback<R extends CallbackRoute> = string & { readonly [callbackBrand]: R };

/**
 * Brands `name` as a callback of route kind R. Use it once per callback, at
 * module top level, so nothing is built per message.
 */
export function kemiCallback<R extends CallbackRoute>(_route: R, name: `ksr_${string}`): KemiCallback<R> {
  return name as KemiCallback<R>;
}
