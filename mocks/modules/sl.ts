/** KSR.sl: stateless replies (send_reply goes through tm when a transaction exists). */
import { recordReply } from '../runtime/send.ts';
import { defineModule } from './define.ts';

export default defineModule('sl', (k) => ({
  sl_send_reply(code: number, reason: string): number {
    recordReply(k.ctx, code, reason, [], 'sl');
    return 1;
  },
  send_reply(code: number, reason: string): number {
    recordReply(k.ctx, code, reason, [], k.ctx.tx ? 'tm' : 'sl');
    return 1;
  },
  sl_reply_error(): number {
    // sl_reply_error with no recorded error: err2reason gives 500 (sl module).
    recordReply(k.ctx, 500, "I'm terribly sorry, server error occurred (1/SL)", [], 'sl');
    return 1;
  },
}));
