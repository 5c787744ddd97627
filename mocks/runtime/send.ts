/**
 * Builds the messages Kamailio puts on the wire: local replies (sl/tm) and
 * relayed requests (tm t_relay), with the Via, Record-Route and socket
 * choice Kamailio makes.
 */
import { createHash } from 'node:crypto';
import type { ListenSocket } from '../config/cfg.ts';
import { SipMessage, canonicalName, parseVia, viaParam, type Header } from '../sip/message.ts';
import { formatNameAddr, parseNameAddr, parseUri, splitList, uriTransport, nameAddrParam } from '../sip/uri.ts';
import type { MsgContext } from './context.ts';
import type { Relay, SentReply } from './outcome.ts';
import { advertised, type Proto, type Sockets } from './sockets.ts';

/** Top Via with ;received/;rport filled as Kamailio does on receipt (RFC 3261 §18.2.1, RFC 3581). */
export function receivedVia(ctx: MsgContext, value: string): string {
  const [top = '', ...rest] = splitList(value);
  const via = parseVia(top);
  if (!via) return value;
  let out = top.replace(/;\s*rport(?:=[^;]*)?/i, '').replace(/;\s*received=[^;]*/i, '');
  const wantsRport = viaParam(via, 'rport') !== undefined || ctx.forceRport;
  if (via.host !== ctx.transport.srcIp || wantsRport) out += `;received=${ctx.transport.srcIp}`;
  if (wantsRport) out += `;rport=${ctx.transport.srcPort}`;
  return [out, ...rest].join(', ');
}

export function buildReply(ctx: MsgContext, code: number, reason: string, extra: Header[]): SipMessage {
  const req = ctx.msg;
  const headers: Header[] = [];
  let firstVia = true;
  for (const h of req.all('Via')) {
    headers.push({ name: 'Via', value: firstVia ? receivedVia(ctx, h.value) : h.value });
    firstVia = false;
  }
  for (const name of ['From', 'To', 'Call-ID', 'CSeq']) {
    const h = req.all(name)[0];
    if (!h) continue;
    let value = h.value;
    if (name === 'To' && code > 100) value = withToTag(value, localTag(req));
    headers.push({ name, value });
  }
  headers.push(...extra, ...ctx.replyHeaders, { name: 'Server', value: ctx.server });
  return new SipMessage({ kind: 'reply', version: 'SIP/2.0', status: code, reason }, headers, '');
}

function withToTag(to: string, tag: string): string {
  const na = parseNameAddr(to);
  if (!na || nameAddrParam(na, 'tag') !== undefined) return to;
  return formatNameAddr({ ...na, params: [...na.params, ['tag', tag]] });
}

/** Deterministic local to-tag (sl uses a hash of the request too). */
function localTag(req: SipMessage): string {
  return createHash('md5').update(`${req.get('Call-ID') ?? ''}|${req.get('Via') ?? ''}`).digest('hex').slice(0, 16);
}

export function recordReply(ctx: MsgContext, code: number, reason: string, extra: Header[], by: 'sl' | 'tm'): SentReply {
  const reply: SentReply = { code, reason, headers: [...extra, ...ctx.replyHeaders], message: buildReply(ctx, code, reason, extra), by };
  ctx.rec.replies.push(reply);
  ctx.tx?.uasReplies.push(reply);
  return reply;
}

export function destinationOf(uri: string): { proto: Proto; host: string; port: number } {
  const u = parseUri(uri);
  if (!u || u.host === '') throw new Error(`mock KSR: cannot route to "${uri}"`);
  const t = uriTransport(u);
  const proto = (t === '' ? 'udp' : t) as Proto;
  const port = u.port ?? (proto === 'tls' || proto === 'wss' ? 5061 : 5060);
  return { proto, host: u.host, port };
}

/** rr module record_route: one RR, or two (r2=on) when the legs use different sockets (enable_double_rr=1). */
function recordRouteHeaders(ctx: MsgContext, out: ListenSocket): Header[] {
  if (!ctx.recordRoute.done) return [];
  const inbound = ctx.transport.socket;
  const ftag = nameAddrParam(parseNameAddr(ctx.msg.get('From') ?? '') ?? { display: '', uri: '', params: [] }, 'tag');
  const tail = `;lr${typeof ftag === 'string' ? `;ftag=${ftag}` : ''}${ctx.recordRoute.params.join('')}`;
  const rr = (s: ListenSocket, proto: Proto, r2: boolean): Header => {
    const a = advertised(s);
    const transport = proto === 'udp' ? '' : `;transport=${proto}`;
    return { name: 'Record-Route', value: `<sip:${a.host}:${a.port}${transport}${r2 ? ';r2=on' : ''}${tail}>` };
  };
  if (out === inbound) return [rr(inbound, ctx.transport.proto, false)];
  return [rr(out, out.proto === 'tls' ? 'tls' : out.proto, true), rr(inbound, ctx.transport.proto, true)];
}

/** `viaBranch` must be unique per relay (the engine numbers them). */
export function buildRelay(ctx: MsgContext, sockets: Sockets, branch: number, viaBranch: string): Relay {
  const method = ctx.msg.method;
  const ruri = ctx.ruri;
  const destination = destinationOf(ctx.dstUri ?? ruri);
  const socket = sockets.sendSocket(ctx.forceSocket, destination.proto, ctx.transport.socket);
  const a = advertised(socket);
  const viaProto = destination.proto === 'ws' || destination.proto === 'wss' ? destination.proto.toUpperCase() : socket.proto.toUpperCase();
  const via: Header = { name: 'Via', value: `SIP/2.0/${viaProto} ${a.host}:${a.port};branch=${viaBranch}` };
  let firstVia = true;
  const headers = ctx.outgoingHeaders().map((h) => {
    if (firstVia && canonicalName(h.name) === 'via') {
      firstVia = false;
      return { name: h.name, value: receivedVia(ctx, h.value) };
    }
    return h;
  });
  const message = new SipMessage(
    { kind: 'request', method, uri: ruri, version: 'SIP/2.0' },
    [via, ...recordRouteHeaders(ctx, socket), ...headers],
    ctx.outgoingBody(),
  );
  return { route: ctx.route, method, ruri, dstUri: ctx.dstUri, destination, socket, message, branch, noConnect: ctx.noConnect.forward };
}
