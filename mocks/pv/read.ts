/**
 * Pseudo-variable reads with the types KSR.pv.get returns in 5.6.3: values
 * built by pv_get_uintval/sintval/intstrval come back as numbers ($sp, $Rp,
 * $rs, $cl, $ml, $bs, $T_reply_code, $hdrc), strintval/strval ones as
 * strings ($rp, $dp, $cs, $pr, $dP), and absent values as null.
 * An unknown PV throws instead of returning null.
 */
import type { SipMessage } from '../sip/message.ts';
import { nameAddrParam, parseNameAddr, parseUri, uriTransport, type SipUri } from '../sip/uri.ts';
import type { MsgContext } from '../runtime/context.ts';
import type { Engine } from '../runtime/engine.ts';
import { advertised, socketString } from '../runtime/sockets.ts';

export type PvValue = string | number | null;

export interface PvName {
  name: string;
  inner: string | null;
}

export function parsePvName(spec: string): PvName {
  const m = /^\$([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$/.exec(spec.trim());
  if (!m) throw new Error(`mock KSR: invalid PV name "${spec}"`);
  return { name: m[1]!, inner: m[2] ?? null };
}

/** `table=>key` of $sht / $xavp. */
export function splitArrow(inner: string, pv: string): [string, string] {
  const i = inner.indexOf('=>');
  if (i < 0) throw new Error(`mock KSR: ${pv} needs "name=>key"`);
  return [inner.slice(0, i), inner.slice(i + 2)];
}

const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

function uriPart(u: SipUri | null, part: 'user' | 'host' | 'port' | 'scheme' | 'proto'): PvValue {
  if (!u) return null;
  switch (part) {
    case 'user':
      return orNull(u.user);
    case 'host':
      return orNull(u.host);
    case 'port':
      return u.port === null ? (uriTransport(u) === 'tls' ? '5061' : '5060') : String(u.port);
    case 'scheme':
      return u.scheme;
    case 'proto':
      return uriTransport(u) === '' ? 'udp' : uriTransport(u);
  }
}

function nameAddrPv(msg: SipMessage, header: string, what: string): PvValue {
  const na = parseNameAddr(msg.get(header) ?? '');
  if (!na || msg.get(header) === undefined) return null;
  const u = parseUri(na.uri);
  switch (what) {
    case 'u':
      return na.uri;
    case 'U':
      return uriPart(u, 'user');
    case 'd':
      return uriPart(u, 'host');
    case 't': {
      const tag = nameAddrParam(na, 'tag');
      return typeof tag === 'string' && tag !== '' ? tag : null;
    }
    default:
      return orNull(na.display.replace(/^"|"$/g, ''));
  }
}

function credentials(msg: SipMessage): Map<string, string> | null {
  const raw = msg.get('Authorization') ?? msg.get('Proxy-Authorization');
  if (raw === undefined) return null;
  const out = new Map<string, string>();
  for (const m of raw.replace(/^Digest\s+/i, '').matchAll(/(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) {
    out.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  }
  return out;
}

export function readPv(k: Engine, ctx: MsgContext, spec: string): PvValue {
  const { name, inner } = parsePvName(spec);
  const msg = ctx.msg;
  // An HTTP request's URI ("/") is no SIP URI: parse_sip_msg_uri fails and the R-URI PVs are null.
  const isReq = msg.isRequest && !msg.isHttp;
  const reqUri = (): SipUri | null => (isReq ? parseUri(ctx.ruri) : null);
  const dst = (): SipUri | null => (ctx.dstUri === null ? null : parseUri(ctx.dstUri));
  const sock = ctx.transport.socket;
  switch (name) {
    case 'rm': return msg.method;
    case 'ru': return isReq ? ctx.ruri : null;
    case 'ou': return isReq && msg.start.kind === 'request' ? msg.start.uri : null;
    // xhttp's $hu: the first line's URI as written (an HTTP path)
    case 'hu': return msg.start.kind === 'request' ? msg.start.uri : null;
    case 'rU': return uriPart(reqUri(), 'user');
    case 'rd': return uriPart(reqUri(), 'host');
    case 'rp': return uriPart(reqUri(), 'port');
    case 'rz': return uriPart(reqUri(), 'scheme');
    case 'rP': return uriPart(reqUri(), 'proto');
    case 'rv': return msg.start.version;
    case 'si': return ctx.transport.srcIp;
    case 'sp': return ctx.transport.srcPort;
    case 'pr':
    case 'proto': return ctx.transport.proto;
    case 'Rn': return sock.name;
    case 'Ri': return sock.ip;
    case 'Rp': return sock.port;
    case 'RAi': return advertised(sock).host;
    case 'RAp': return advertised(sock).port;
    case 'fu': case 'fU': case 'fd': case 'ft': case 'fn':
      return nameAddrPv(msg, 'From', name.slice(1));
    case 'tu': case 'tU': case 'td': case 'tt': case 'tn':
      return nameAddrPv(msg, 'To', name.slice(1));
    case 'ci': return orNull(msg.get('Call-ID'));
    case 'cs': return msg.cseq?.num ?? null;
    case 'ua': return orNull(msg.get('User-Agent'));
    case 'ct': return orNull(msg.get('Contact'));
    case 'cT': return orNull(msg.get('Content-Type'));
    case 'cl': {
      const cl = msg.get('Content-Length');
      return cl === undefined ? null : Number(cl);
    }
    case 'du': return ctx.dstUri;
    case 'dd': return uriPart(dst(), 'host');
    case 'dp': return ctx.dstUri === null ? null : uriPart(dst(), 'port');
    case 'dP': return ctx.dstUri === null ? null : uriPart(dst(), 'proto');
    case 'fs': return ctx.forceSocket ? socketString(ctx.forceSocket) : null;
    case 'fsn': return ctx.forceSocket?.name ?? null;
    case 'hdr':
      if (inner === null) throw new Error('mock KSR: $hdr needs a header name');
      return msg.get(inner) ?? null;
    case 'hdrc':
      if (inner === null) throw new Error('mock KSR: $hdrc needs a header name');
      return msg.all(inner).length;
    case 'var':
      return k.vars.get(inner ?? '') ?? 0;
    case 'avp': {
      const list = ctx.avps.get(inner ?? '');
      return list?.[0] ?? null;
    }
    case 'xavp': {
      const [root, key] = splitArrow(inner ?? '', '$xavp');
      return ctx.xavps.get(root)?.[0]?.get(key) ?? null;
    }
    case 'sht': {
      const [table, key] = splitArrow(inner ?? '', '$sht');
      return k.htables.get(table, key);
    }
    case 'T_reply_code': return replyCode(ctx);
    case 'rs': return msg.start.kind === 'reply' ? msg.start.status : null;
    case 'rr': return msg.start.kind === 'reply' ? msg.start.reason : null;
    case 'au': return credentials(msg)?.get('username') ?? null;
    case 'ar': return credentials(msg)?.get('realm') ?? null;
    case 'ad': {
      const u = credentials(msg)?.get('username');
      return u === undefined ? null : u.includes('@') ? u.split('@')[1]! : credentials(msg)?.get('realm') ?? null;
    }
    case 'mb': return msg.toString();
    case 'ml': return Buffer.byteLength(msg.toString());
    case 'rb': return msg.body === '' ? null : msg.body;
    case 'bs': return Buffer.byteLength(msg.body);
    case 'Ts': return k.clock.seconds();
    // pv_get_pid: the PID of the process running the route. One mock instance is one worker: the test runner's.
    case 'pp': return process.pid;
    case 'tcp': return tcpPv(k, ctx, inner);
    default:
      throw new Error(`mock KSR: unknown PV $${name}${inner === null ? '' : `(${inner})`}`);
  }
}

/**
 * tcpops $tcp(c_si|c_sp) (tcpops_mod.c pv_get_tcp, measured on 5.6.3 by
 * test/engine/proxy-protocol.test.ts): the connection's real peer from
 * tcp_connection.cinfo, which a PROXY header does not change ($si/$sp do).
 * UDP: null (no connection with the message's conid 0). A connection
 * without cinfo (opened by Kamailio, or tcp_accept_haproxy off): c_sp 0, and
 * c_si "" with a CRITICAL log line per read (ip_addr2sbuf: unknown address
 * family 0), which the mock turns into an exception.
 */
function tcpPv(k: Engine, ctx: MsgContext, inner: string | null): PvValue {
  if (!k.api.functions.some((f) => f.module === 'tcpops')) {
    throw new Error('mock KSR: unknown PV $tcp (the tcpops module is not loaded)');
  }
  if (inner !== 'c_si' && inner !== 'c_sp') {
    // pv_parse_tcp_name also knows conid; connection ids are not modelled.
    throw new Error(`mock KSR: $tcp(${inner ?? ''}) is not modelled (c_si, c_sp are)`);
  }
  const proto = ctx.transport.proto;
  if (proto === 'udp' || proto === 'sctp') return null;
  const connection = ctx.transport.connection;
  if (connection === undefined) {
    throw new Error(`mock KSR: $tcp(${inner}) in a ${ctx.route} route: the harness models the connection of received requests and HTTP only`);
  }
  if (connection.peer === null) {
    if (inner === 'c_sp') return 0;
    throw new Error(
      'mock KSR: $tcp(c_si) on a connection without a recorded peer (opened by Kamailio, or tcp_accept_haproxy off): ' +
        'Kamailio 5.6.3 logs CRITICAL "ip_addr2sbuf(): unknown address family 0" and returns ""; read $tcp(c_sp) first (0 there)',
    );
  }
  return inner === 'c_si' ? connection.peer.ip : connection.peer.port;
}

/** tmx pv_get_tm_reply_code: reply status in reply routes, winning reply in failure, last sent otherwise, 0 without T. */
function replyCode(ctx: MsgContext): number {
  if (ctx.route === 'onreply' || ctx.route === 'reply') return ctx.msg.start.kind === 'reply' ? ctx.msg.start.status : 0;
  if (ctx.route === 'failure') return ctx.reply?.start.kind === 'reply' ? ctx.reply.start.status : 0;
  return ctx.tx?.uasStatus ?? 0;
}
