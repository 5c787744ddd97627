/**
 * core/error.c: `ser_error` is the E_* code (core/error.h) left by the last
 * failing core or module function, `prev_ser_error` is what
 * sl_reply_error() reports. Only core/action.c do_action() copies the first
 * into the second (and resets ser_error to E_UNSPEC). Under app_jsdt a KEMI
 * call does not go through do_action, so prev_ser_error only moves when a
 * function builds an action internally: KSR.setuser/sethost, assignments to
 * $ru/$rU/$rd (pv_core.c pv_set_ruri*), ds_select_domain/ds_next_domain
 * (dispatch.c ds_push_dst with DS_SETOP_RURI). Both are process globals, so
 * they outlive the message, like in one Kamailio worker.
 *
 * The mock sets ser_error only where tm does it for relays: 0 after a
 * successful (stateful or stateless) forward, E_BAD_ADDRESS when the next
 * hop does not resolve, E_CFG when a branch route dropped the only branch.
 */

export const E_OK = 0;
export const E_UNSPEC = -1;
/** A branch route called drop (tm t_fwd.c prepare_new_uac). */
export const E_CFG = -6;
/** The next hop's host could not be resolved (core resolve.c sip_hostport2su, tm t_fwd.c). */
export const E_BAD_ADDRESS = -478;

export class SerError {
  ser = E_UNSPEC;
  prev = E_UNSPEC;

  /** What core/action.c do_action() does on entry. */
  doAction(): void {
    this.prev = this.ser;
    this.ser = E_UNSPEC;
  }
}

/** Codes err2reason_phrase maps to their own SIP status; the rest give 500 (core/error.c). */
const PHRASES: ReadonlyMap<number, [number, string]> = new Map([
  [-477, [477, 'Unfortunately error on sending to next hop occurred']],
  [E_BAD_ADDRESS, [478, 'Unresolvable destination']],
  [-400, [400, 'Bad Request']],
  [-479, [479, 'Regretfully, we were not able to process the URI']],
  [-9, [400, 'Transaction tuple incomplete']],
  [-13, [400, 'Bad To']],
  [-11, [500, 'Error in external logic']],
  [-12, [500, 'Forking capacity exceeded']],
  [-15, [400, 'Invalid character in q parameter']],
  [-16, [400, 'Empty q parameter']],
  [-17, [400, 'Q parameter too big']],
  [-18, [400, 'Decimal part missing in q']],
  [-487, [487, 'Transaction canceled']],
  // E_OUT_OF_MEM falls through to E_OK in release builds (no EXTRA_DEBUG)
  [-2, [500, 'No error']],
  [E_OK, [500, 'No error']],
]);

/**
 * err2reason_phrase(): the status and reason a local error reply carries;
 * `signature` is "SL" for sl_reply_error, "TM" for tm's kill_transaction.
 */
export function err2reason(error: number, signature: 'SL' | 'TM'): { code: number; reason: string } {
  const [code, text] = PHRASES.get(error) ?? [500, "I'm terribly sorry, server error occurred"];
  return { code, reason: `${text} (${-error}/${signature})` };
}
