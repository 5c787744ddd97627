/**
 * KSR.websocket / KSR.xhttp. handle_handshake follows websocket's
 * ws_handshake.c ws_handle_handshake: it answers the HTTP upgrade itself and
 * returns 1 after "101 Switching Protocols", 0 after any refusal (400 Bad
 * Request, 426 Upgrade Required, 500 Internal Server Error, or no reply on
 * a connection that is already WebSocket). It never returns -1. It does not
 * look at the method or the URI. xhttp_reply (xhttp_mod.c xhttp_send_reply)
 * returns 0 after sending (-1 only when building or sending fails).
 */
import { createHash } from 'node:crypto';
import { modparam } from '../config/cfg.ts';
import type { Header } from '../sip/message.ts';
import { recordReply } from '../runtime/send.ts';
import { defineModule } from './define.ts';

const WS_VERSION = 13;
/** RFC 6455 §1.3: appended to Sec-WebSocket-Key before hashing. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const SIP = 1;
const MSRP = 2;

export const websocket = defineModule('websocket', (k) => {
  const reply = (code: number, reason: string, headers: Header[]): number => {
    recordReply(k.ctx, code, reason, headers, 'sl');
    return 0;
  };
  return {
    handle_handshake(): number {
      const ctx = k.ctx;
      ctx.rec.events.push({ fn: 'websocket.handle_handshake', args: [] });
      // modparam sub_protocols (default sip|msrp); msrp is dropped at startup unless the msrp module
      // provides its frame event, which this mock does not model. cors_mode: 0 none, 1 "*", 2 Origin.
      const subProtocols = Number(modparam(k.cfg, 'websocket', 'sub_protocols') ?? SIP | MSRP) & SIP;
      const corsMode = Number(modparam(k.cfg, 'websocket', 'cors_mode') ?? 0);
      const proto = ctx.transport.proto;
      // the request must have come over a TCP/TLS connection: no connection -> 500, WebSocket already -> nothing
      if (proto === 'udp' || proto === 'sctp') return reply(500, 'Internal Server Error', []);
      if (proto === 'ws' || proto === 'wss') return 0;
      let connection = false;
      let upgrade = false;
      let key: string | null = null;
      let version = false;
      let origin: string | null = null;
      let sub = 0;
      for (const h of ctx.msg.headers) {
        const name = h.name.trim().toLowerCase();
        if (name === 'connection' || name === 'upgrade' || name === 'sec-websocket-protocol') {
          // ws_handshake.c lowercases these values in the received message (strlower), as later reads see
          h.value = h.value.toLowerCase();
        }
        if (name === 'connection') connection ||= h.value.includes('upgrade');
        else if (name === 'upgrade') upgrade ||= h.value.includes('websocket');
        else if (name === 'sec-websocket-key') {
          if (key !== null) return reply(400, 'Bad Request', []);
          key = h.value;
        } else if (name === 'sec-websocket-protocol') {
          if (h.value.includes('sip')) sub |= SIP;
          if (h.value.includes('msrp')) sub |= MSRP;
        } else if (name === 'sec-websocket-version') {
          if (version) return reply(400, 'Bad Request', []);
          if (Number.parseInt(h.value, 10) !== WS_VERSION) {
            return reply(426, 'Upgrade Required', [{ name: 'Sec-WebSocket-Version', value: String(WS_VERSION) }]);
          }
          version = true;
        } else if (name === 'origin') {
          if (origin !== null) return reply(400, 'Bad Request', []);
          origin = h.value;
        }
      }
      sub &= subProtocols;
      if (!connection || !upgrade || key === null || !version || sub === 0) {
        return reply(400, 'Bad Request', [
          ...(subProtocols & SIP ? [{ name: 'Sec-WebSocket-Protocol', value: 'sip' }] : []),
          { name: 'Sec-WebSocket-Version', value: String(WS_VERSION) },
        ]);
      }
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      const headers: Header[] = [];
      if (corsMode === 1) headers.push({ name: 'Access-Control-Allow-Origin', value: '*' });
      else if (corsMode === 2 && origin) headers.push({ name: 'Access-Control-Allow-Origin', value: origin });
      headers.push(
        { name: 'Sec-WebSocket-Protocol', value: 'sip' },
        { name: 'Upgrade', value: 'websocket' },
        { name: 'Connection', value: 'upgrade' },
        { name: 'Sec-WebSocket-Accept', value: accept },
      );
      // wsconn_add: from now on the connection carries WebSocket frames; websocket:closed runs when it ends
      k.websockets.set(k.wsKey(ctx.transport), ctx.transport);
      recordReply(ctx, 101, 'Switching Protocols', headers, 'sl');
      return 1;
    },
  };
});

export const xhttp = defineModule('xhttp', (k) => ({
  xhttp_reply(code: number, reason: string, ctype: string, body: string): number {
    k.ctx.rec.events.push({ fn: 'xhttp.xhttp_reply', args: [code, reason, ctype, body] });
    // an empty content type adds no header, an empty body no body; sent statelessly by sl
    const headers = ctype === '' ? [] : [{ name: 'Content-Type', value: ctype }];
    recordReply(k.ctx, code, reason, headers, 'sl', body);
    return 0;
  },
  /** ki_xhttp_get_hu: the request line's URI as received. */
  get_hu: (): string | null => (k.ctx.msg.start.kind === 'request' ? k.ctx.msg.start.uri : null),
}));
