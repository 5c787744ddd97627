/**
 * KSR.kx getters (kemix_mod.c): strings or null for absent values, ports as
 * numbers, get_status -1 on requests, gets_status a string (null on requests).
 */
import { parseNameAddr, parseUri } from '../sip/uri.ts';
import { readPv } from '../pv/read.ts';
import { socketString } from '../runtime/sockets.ts';
import type { Engine } from '../runtime/engine.ts';
import { defineModule } from './define.ts';

type X = string | number | null;

function uriOf(value: string | undefined): ReturnType<typeof parseUri> {
  return value === undefined ? null : parseUri(parseNameAddr(value)?.uri ?? value);
}

export function kxModule(env: Readonly<Record<string, string | undefined>>) {
  return defineModule('kx', (k: Engine) => {
    const pv = (name: string) => (): X => readPv(k, k.ctx, name);
    const part = (header: string, what: 'user' | 'host') => (): X => {
      const u = uriOf(k.ctx.msg.get(header));
      const v = u?.[what] ?? '';
      return v === '' ? null : v;
    };
    const def = (name: string): string | undefined => k.cfg.defines.get(name);
    return {
      get_ruri: pv('$ru'), get_ruser: pv('$rU'), get_rhost: pv('$rd'), get_ouri: pv('$ou'),
      get_furi: pv('$fu'), get_fuser: pv('$fU'), get_fhost: pv('$fd'),
      get_turi: pv('$tu'), get_tuser: part('To', 'user'), get_thost: part('To', 'host'),
      get_duri: pv('$du'), get_ua: pv('$ua'), get_callid: pv('$ci'), get_body: pv('$rb'),
      get_srcip: (): X => k.ctx.transport.srcIp,
      get_srcport: (): X => k.ctx.transport.srcPort,
      // core get_src_uri(msg, 0): no transport for UDP; in a URI, WebSocket over TLS is "ws" too (get_valid_proto_string).
      get_srcuri: (): X => {
        const t = k.ctx.transport;
        return `sip:${t.srcIp}:${t.srcPort}${t.proto === 'udp' ? '' : `;transport=${t.proto === 'wss' ? 'ws' : t.proto}`}`;
      },
      get_rcvip: (): X => k.ctx.transport.socket.ip,
      get_rcvport: (): X => k.ctx.transport.socket.port,
      get_rcv_sock_name: (): X => k.ctx.transport.socket.name,
      get_rcvadvip: (): X => k.ctx.transport.socket.advertise?.host ?? k.ctx.transport.socket.ip,
      get_rcvadvport: (): X => k.ctx.transport.socket.advertise?.port ?? k.ctx.transport.socket.port,
      get_send_sock: (): X => (k.ctx.forceSocket ? socketString(k.ctx.forceSocket) : null),
      get_send_sock_name: (): X => k.ctx.forceSocket?.name ?? null,
      get_proto: (): X => k.ctx.transport.proto,
      get_method: (): X => k.ctx.msg.method,
      get_status: (): number => (k.ctx.msg.start.kind === 'reply' ? k.ctx.msg.start.status : -1),
      gets_status: (): X => (k.ctx.msg.start.kind === 'reply' ? String(k.ctx.msg.start.status) : null),
      get_bodylen: (): number => Buffer.byteLength(k.ctx.msg.body),
      get_timestamp: (): number => k.clock.seconds(),
      get_def: (name: string): X => def(name) ?? null,
      get_defn: (name: string): number => Number.parseInt(def(name) ?? '0', 10) || 0,
      ifdef: (name: string): boolean => def(name) !== undefined,
      ifndef: (name: string): boolean => def(name) === undefined,
      get_env: (name: string): X => env[name] ?? null,
      get_envn: (name: string): number => Number.parseInt(env[name] ?? '0', 10) || 0,
    };
  });
}
