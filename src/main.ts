/**
 * KEMI entry points. Every export whose name starts with `ksr_` becomes a
 * global function in dist/kamailio.js, which is how app_jsdt finds it.
 * (placeholder until the routing lands)
 */
import { BUILD_ID } from './build-info';

declare const KSR: { sl: { sl_send_reply(code: number, reason: string): number }; is_method(m: string): boolean };

export function ksr_request_route(): void {
  if (KSR.is_method('OPTIONS')) {
    KSR.sl.sl_send_reply(200, 'OK build ' + BUILD_ID);
    return;
  }
  KSR.sl.sl_send_reply(501, 'Not Implemented');
}
