/**
 * The KEMI callbacks the routing arms on transactions. Each name is
 * constrained to a `ksr_*` function exported by src/main.ts, so a typo or a
 * callback that was renamed fails to type-check instead of being silently
 * skipped by Kamailio.
 */
import type * as Entry from '../main';
import { kemiCallback, type CallbackRoute, type KemiCallback } from '../ksr';

type EntryPoint = Extract<keyof typeof Entry, `ksr_${string}`>;

export function callback<R extends CallbackRoute>(route: R, name: EntryPoint): KemiCallback<R> {
  return kemiCallback(route, name);
}

export const ON_MEDIA_REPLY = callback('reply', 'ksr_onreply_manage');
export const ON_CALL_FAILURE = callback('failure', 'ksr_failure_manage');
export const ON_HANDOVER_FAILURE = callback('failure', 'ksr_failure_handover');
