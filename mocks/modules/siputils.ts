/** KSR.siputils subset. All int returns: has_totag() is 1 / -1, never a boolean (checks.c). */
import { parseNameAddr, parseUri } from '../sip/uri.ts';
import { defineModule, rc } from './define.ts';

export default defineModule('siputils', (k) => ({
  has_totag: (): number => rc(/;\s*tag=[^;\s]+/i.test(k.ctx.msg.get('To') ?? '')),
  is_request: (): number => rc(k.ctx.msg.isRequest),
  is_reply: (): number => rc(!k.ctx.msg.isRequest),
  // siputils is_first_hop: true when the request has a single Via (nobody forwarded it before).
  is_first_hop: (): number => rc(k.ctx.msg.all('Via').length === 1 && !(k.ctx.msg.get('Via') ?? '').includes(',')),
  is_uri: (s: string): number => rc(parseUri(s) !== null),
  is_numeric: (s: string): number => rc(/^[0-9]+$/.test(s)),
  is_alphanum: (s: string): number => rc(/^[0-9A-Za-z]+$/.test(s)),
  is_tel_number: (s: string): number => rc(/^\+?[0-9]+$/.test(s)),
  uri_param(name: string): number {
    const u = parseUri(k.ctx.ruri);
    return rc(u !== null && u.params.some(([n]) => n === name));
  },
  cmp_aor(a: string, b: string): number {
    const ua = parseUri(parseNameAddr(a)?.uri ?? a);
    const ub = parseUri(parseNameAddr(b)?.uri ?? b);
    return rc(ua !== null && ub !== null && ua.user === ub.user && ua.host.toLowerCase() === ub.host.toLowerCase());
  },
}));
