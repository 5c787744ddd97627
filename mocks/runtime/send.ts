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
import { toTagOf } from './transactions.ts';
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

export function buildReply(ctx: MsgContext, code: number, reason: string, extra: Header[], body = ''): SipMessage {
  const req = ctx.msg;
  const headers: Header[] = [];
  // msg_translator.c build_res_buf_from_sip_req: an HTTP request's Vias come back renamed "Sia".
  const viaName = req.isHttp ? 'Sia' : 'Via';
  let firstVia = true;
  for (const h of req.all('Via')) {
    headers.push({ name: viaName, value: firstVia ? receivedVia(ctx, h.value) : h.value });
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
  // The status line takes the request's version: HTTP/1.1 for xhttp and the WebSocket handshake.
  const version = req.start.version;
  return new SipMessage({ kind: 'reply', version, status: code, reason }, headers, body);
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

/** sl_funcs.c sl_reply_helper: a stateless reply to an ACK is refused (nothing is sent, -1). */
export function slRefuses(ctx: MsgContext): boolean {
  return ctx.msg.isRequest && ctx.msg.method.toUpperCase() === 'ACK';
}

/** A local reply; `by` 'tm' goes through the transaction (uas.status, kr, local to-tag), 'sl' does not touch it. */
export function recordReply(ctx: MsgContext, code: number, reason: string, extra: Header[], by: 'sl' | 'tm', body = ''): SentReply {
  const message = buildReply(ctx, code, reason, extra, body);
  const reply: SentReply = { code, reason, headers: [...extra, ...ctx.replyHeaders], message, by };
  ctx.rec.replies.push(reply);
  const tx = ctx.tx;
  if (by === 'tm' && tx) {
    tx.uasReplies.push(reply);
    // t_reply.c _reply_light: a local reply sets relayed_reply_branch -2 and, when final, kr REQ_RPLD
    tx.relayedReplyBranch = -2;
    tx.localToTag = toTagOf(message) ?? tx.localToTag;
    if (code >= 200) ctx.tmKr.add('replied');
  }
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

/**
 * The transport parameter a Record-Route gets for a leg (msg_translator.c
 * SUBST_RCV_PROTO / SUBST_SND_PROTO): the socket's protocol, except that a
 * WebSocket leg, WS or WSS, is written transport=ws (RFC 7118).
 */
function rrProto(socket: ListenSocket, proto: Proto): Proto {
  return proto === 'ws' || proto === 'wss' ? 'ws' : socket.proto;
}

/** rr module record_route: one RR, or two (r2=on) when the legs use different sockets (enable_double_rr=1). */
function recordRouteHeaders(ctx: MsgContext, out: ListenSocket, outProto: Proto): Header[] {
  if (!ctx.recordRoute.done) return [];
  const inbound = ctx.transport.socket;
  const ftag = nameAddrParam(parseNameAddr(ctx.msg.get('From') ?? '') ?? { display: '', uri: '', params: [] }, 'tag');
  const tail = `;lr${typeof ftag === 'string' ? `;ftag=${ftag}` : ''}${ctx.recordRoute.params.join('')}`;
  const rr = (s: ListenSocket, proto: Proto, r2: boolean): Header => {
    const a = advertised(s);
    const transport = proto === 'udp' ? '' : `;transport=${proto}`;
    return { name: 'Record-Route', value: `<sip:${a.host}:${a.port}${transport}${r2 ? ';r2=on' : ''}${tail}>` };
  };
  const inProto = rrProto(inbound, ctx.transport.proto);
  if (out === inbound) return [rr(inbound, inProto, false)];
  return [rr(out, rrProto(out, outProto), true), rr(inbound, inProto, true)];
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
    // tm inserts the lookup's path vector as Route headers (insert_path_as_route).
    [via, ...recordRouteHeaders(ctx, socket, destination.proto), ...(ctx.pathVector === null ? [] : [{ name: 'Route', value: ctx.pathVector }]), ...headers],
    ctx.outgoingBody(),
  );
  return { route: ctx.route, method, ruri, dstUri: ctx.dstUri, destination, socket, message, branch, noConnect: ctx.noConnect.forward };
}
