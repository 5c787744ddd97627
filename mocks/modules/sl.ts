/**
 * KSR.sl: stateless replies (send_reply goes through tm when a transaction
 * exists). sl_reply_helper never answers an ACK: sl_send_reply and a
 * stateless send_reply return -1, sl_reply_error ignores that and returns 1.
 */
import { recordReply, slRefuses } from '../runtime/send.ts';
import { err2reason } from '../runtime/ser-error.ts';
import { defineModule } from './define.ts';

export default defineModule('sl', (k) => ({
  sl_send_reply(code: number, reason: string): number {
    if (slRefuses(k.ctx)) return -1;
    recordReply(k.ctx, code, reason, [], 'sl');
    return 1;
  },
  send_reply(code: number, reason: string): number {
    if (!k.ctx.tx && slRefuses(k.ctx)) return -1;
    recordReply(k.ctx, code, reason, [], k.ctx.tx ? 'tm' : 'sl');
    return 1;
  },
  sl_reply_error(): number {
    // sl_funcs.c sl_reply_error: err2reason(prev_ser_error) with the "SL" signature. Under KEMI
    // prev_ser_error is not the error of the call just before (see runtime/ser-error.ts): with no
    // earlier do_action it is E_UNSPEC, "500 I'm terribly sorry, server error occurred (1/SL)".
    const { code, reason } = err2reason(k.serError.prev, 'SL');
    if (slRefuses(k.ctx)) return 1;
    recordReply(k.ctx, code, reason, [], 'sl');
    return 1;
  },
}));
