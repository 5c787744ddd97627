/**
 * Core KEMI functions (KSR.*, core/kemi.c): logging, flags, R-URI/dst-URI
 * setters, method and transport tests, is_myself*. These return real
 * booleans, unlike most module functions.
 */
import { parseNameAddr, parseUri, formatUri } from '../sip/uri.ts';
import type { Engine } from '../runtime/engine.ts';
import { defineModule } from './define.ts';

// core/kemi.c sr_kemi_core_is_method_in letters.
const METHOD_LETTERS: Readonly<Record<string, string>> = {
  I: 'INVITE', A: 'ACK', B: 'BYE', C: 'CANCEL', M: 'MESSAGE', R: 'REGISTER', E: 'PRACK', P: 'PUBLISH',
  S: 'SUBSCRIBE', N: 'NOTIFY', O: 'OPTIONS', F: 'REFER', G: 'GET', U: 'UPDATE', K: 'KDMQ', D: 'DELETE',
  T: 'POST', V: 'PUT',
};

function isMyselfUri(k: Engine, uri: string | null): boolean {
  if (uri === null) return false;
  const u = parseUri(uri);
  if (!u || u.host === '') return false;
  const t = u.params.find(([n]) => n.toLowerCase() === 'transport')?.[1];
  return k.sockets.isMyself(u.host, u.port, typeof t === 'string' ? t.toLowerCase() : '');
}

function flagNumber(f: number): number {
  // Kamailio flags are 0..31; setflag() with anything else logs an error and fails.
  if (f < 0 || f > 31) throw new Error(`mock KSR: flag ${f} is out of range 0..31`);
  return f;
}

export default defineModule('', (k) => {
  const log = (level: string) => (text: string): void => {
    k.log(level, text);
  };
  const is = (m: string) => (): boolean => k.ctx.msg.method.toUpperCase() === m;
  const proto = (...p: string[]) => (): boolean => p.includes(k.ctx.transport.proto);
  const setUriPart = (part: 'user' | 'host', value: string): boolean => {
    // kemi.c sr_kemi_core_setuser/sethost run a SET_USER_T/SET_HOST_T action through do_action
    k.serError.doAction();
    const u = parseUri(k.ctx.ruri);
    if (!u) return false;
    k.ctx.newUri = formatUri({ ...u, [part]: value });
    return true;
  };
  return {
    dbg: log('DEBUG'), info: log('INFO'), notice: log('NOTICE'), warn: log('WARNING'), err: log('ERROR'), crit: log('CRITICAL'),
    log(level: string, text: string): void {
      k.log(level.toUpperCase(), text);
    },
    set_drop(): void {
      k.ctx.drop = true;
    },
    is_myself(uri: string): boolean {
      if (uri.startsWith('sip:') || uri.startsWith('sips:')) return isMyselfUri(k, uri);
      return k.sockets.isMyself(uri, null, '');
    },
    is_myself_ruri: (): boolean => isMyselfUri(k, k.ctx.ruri),
    is_myself_duri: (): boolean => isMyselfUri(k, k.ctx.dstUri),
    is_myself_furi: (): boolean => isMyselfUri(k, parseNameAddr(k.ctx.msg.get('From') ?? '')?.uri ?? null),
    is_myself_turi: (): boolean => isMyselfUri(k, parseNameAddr(k.ctx.msg.get('To') ?? '')?.uri ?? null),
    is_myself_srcip: (): boolean => k.sockets.isMyself(k.ctx.transport.srcIp, null, ''),
    setflag(f: number): boolean {
      k.ctx.flags.add(flagNumber(f));
      return true;
    },
    resetflag(f: number): boolean {
      k.ctx.flags.delete(flagNumber(f));
      return true;
    },
    isflagset: (f: number): boolean => k.ctx.flags.has(flagNumber(f)),
    setbflag(f: number): boolean {
      k.ctx.bflags.add(flagNumber(f));
      return true;
    },
    resetbflag(f: number): boolean {
      k.ctx.bflags.delete(flagNumber(f));
      return true;
    },
    isbflagset: (f: number): boolean => k.ctx.bflags.has(flagNumber(f)),
    seturi(uri: string): boolean {
      if (!parseUri(uri)) return false;
      k.ctx.newUri = uri;
      return true;
    },
    setuser: (user: string): boolean => setUriPart('user', user),
    sethost: (host: string): boolean => setUriPart('host', host),
    setdsturi(uri: string): boolean {
      if (!parseUri(uri)) return false;
      k.ctx.dstUri = uri;
      return true;
    },
    resetdsturi(): boolean {
      k.ctx.dstUri = null;
      return true;
    },
    isdsturiset: (): boolean => k.ctx.dstUri !== null,
    force_rport(): boolean {
      k.ctx.forceRport = true;
      return true;
    },
    set_forward_no_connect(): boolean {
      k.ctx.noConnect.forward = true;
      return true;
    },
    set_reply_no_connect(): boolean {
      k.ctx.noConnect.reply = true;
      return true;
    },
    is_method: (m: string): boolean => k.ctx.msg.method.toUpperCase() === m.toUpperCase(),
    is_method_in(letters: string): boolean {
      const m = k.ctx.msg.method.toUpperCase();
      return [...letters].some((c) => METHOD_LETTERS[c.toUpperCase()] === m);
    },
    is_INVITE: is('INVITE'), is_ACK: is('ACK'), is_BYE: is('BYE'), is_CANCEL: is('CANCEL'), is_REGISTER: is('REGISTER'),
    is_OPTIONS: is('OPTIONS'), is_SUBSCRIBE: is('SUBSCRIBE'), is_PUBLISH: is('PUBLISH'), is_NOTIFY: is('NOTIFY'),
    is_REFER: is('REFER'), is_INFO: is('INFO'), is_UPDATE: is('UPDATE'), is_PRACK: is('PRACK'), is_MESSAGE: is('MESSAGE'),
    is_UDP: proto('udp'), is_TCP: proto('tcp'), is_TLS: proto('tls'), is_WS: proto('ws'), is_WSS: proto('wss'),
    is_WSX: proto('ws', 'wss'), is_SCTP: proto('sctp'),
    is_proto(list: string): boolean {
      // sr_kemi_core_is_proto letters: e=ws, s=wss, t=tcp, l=tls, u=udp, c=sctp, w=ws|wss.
      const map: Record<string, string[]> = { e: ['ws'], s: ['wss'], t: ['tcp'], l: ['tls'], u: ['udp'], c: ['sctp'], w: ['ws', 'wss'] };
      return [...list.toLowerCase()].some((c) => (map[c] ?? []).includes(k.ctx.transport.proto));
    },
    is_IPv4: (): boolean => !k.ctx.transport.srcIp.includes(':'),
    is_IPv6: (): boolean => k.ctx.transport.srcIp.includes(':'),
    is_src_port: (port: number): boolean => k.ctx.transport.srcPort === port,
    is_dst_port: (port: number): boolean => k.ctx.transport.socket.port === port,
  };
});
