/**
 * KSR.corex socket functions. corex_mod.c ki_set_socket_helper returns 1 and
 * only logs a WARNING when no socket matches; the mock throws instead, so a
 * wrong socket name fails the test rather than silently using the default.
 * An empty string resets the forced socket (Kamailio behaviour).
 */
import { defineModule, rc } from './define.ts';

export default defineModule('corex', (k) => ({
  set_send_socket(spec: string): number {
    if (spec === '') {
      k.ctx.forceSocket = null;
      return 1;
    }
    const p = k.sockets.parseSpec(spec);
    if (!p) return -1;
    const s = k.sockets.find(p.proto, p.ip, p.port);
    if (!s) throw new Error(`mock KSR: set_send_socket("${spec}") matches no listen socket in kamailio.cfg (Kamailio would warn and return 1)`);
    k.ctx.forceSocket = s;
    return 1;
  },
  set_send_socket_name(name: string): number {
    if (name === '') {
      k.ctx.forceSocket = null;
      return 1;
    }
    const s = k.sockets.byName(name);
    if (!s) throw new Error(`mock KSR: set_send_socket_name("${name}"): no listen socket has that name in kamailio.cfg (Kamailio would warn and return 1)`);
    k.ctx.forceSocket = s;
    return 1;
  },
  is_socket_name: (name: string): number => rc(k.sockets.byName(name) !== undefined),
  has_ruri_user(): number {
    const m = /^sips?:([^@;?]+)@/i.exec(k.ctx.ruri);
    return rc(m !== null && m[1] !== '');
  },
  has_user_agent: (): number => rc(k.ctx.msg.has('User-Agent')),
}));
