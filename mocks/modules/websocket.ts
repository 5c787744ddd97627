/** KSR.websocket / KSR.xhttp: recorded as events (no HTTP stack in the mock). */
import { defineModule } from './define.ts';

export const websocket = defineModule('websocket', (k) => ({
  handle_handshake(): number {
    k.ctx.rec.events.push({ fn: 'websocket.handle_handshake', args: [] });
    // websocket doc: returns 0 on success (stop the script), -1 on error.
    return 0;
  },
}));

export const xhttp = defineModule('xhttp', (k) => ({
  xhttp_reply(code: number, reason: string, ctype: string, body: string): number {
    k.ctx.rec.events.push({ fn: 'xhttp.xhttp_reply', args: [code, reason, ctype, body] });
    return 1;
  },
}));
