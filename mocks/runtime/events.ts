/**
 * Module event callbacks the harness can trigger, run as app_jsdt runs
 * them: the function named by the module's modparam "event_callback",
 * called with ONE string argument, the event name (app_jsdt_mod.c,
 * EVENT_ROUTE), on a message like the one the module builds:
 *
 * - xhttp:request (xhttp_mod.c xhttp_handler): an HTTP request read on a
 *   TCP/TLS connection. Without a Via, xhttp inserts
 *   "Via: SIP/2.0/<PROTO> <src ip>:<src port>" after the request line
 *   (xhttp_to_sip), so $hdr(Via) sees it; replies go back with it renamed
 *   "Sia".
 * - websocket:closed (ws_conn.c wsconn_run_route): core's faked OPTIONS
 *   (fmsg.c) with the receive info the connection had at its handshake,
 *   so $pr is still tcp/tls there, not ws/wss.
 */
import { modparam } from '../config/cfg.ts';
import { SipMessage } from '../sip/message.ts';
import { MsgContext, type Transport } from './context.ts';
import type { Engine } from './engine.ts';
import { emptyRecord, outcomeOf, type Outcome, type SentReply } from './outcome.ts';

/** How a TCP/TLS connection came to be, for tcpops' $tcp(c_si)/$tcp(c_sp) (measured on 5.6.3: test/engine/proxy-protocol.test.ts). */
export interface StreamConnectionSpec {
  /**
   * The connection began with a PROXY protocol header, sent by this real peer
   * ("ip:port"): `source` is what the header claimed ($si/$sp), `proxiedBy`
   * what $tcp(c_si)/$tcp(c_sp) return. Needs a TCP/TLS proto, an accepted
   * connection and tcp_accept_haproxy in the cfg (without it Kamailio reads
   * the header as a broken SIP message).
   */
  proxiedBy?: string;
  /**
   * The message came over a connection Kamailio opened itself (to `source`,
   * e.g. a media server sending BYE on the connection the INVITE went out
   * on): tcp_main recorded no peer, $tcp(c_sp) is 0 and $tcp(c_si) logs
   * CRITICAL "unknown address family 0" (the mock throws). `socket` must be
   * the first TCP (TLS) listen socket of the address: tcp_do_connect binds
   * the connection to find_si(ip, 0), whichever socket the relay forced
   * (public_tcp_socket in the project's cfg, even toward a media server).
   */
  outboundConnection?: boolean;
}

export interface HttpTransportSpec extends StreamConnectionSpec {
  /** HTTP reaches xhttp only on stream connections. */
  proto: 'tcp' | 'tls';
  /** "ip:port" of the client. */
  source: string;
  /** Receiving socket: a listen socket name, or "proto:ip:port". */
  socket: string;
}

/** A connection: the client's "ip:port" and the receiving socket. */
export interface ConnectionSpec {
  source: string;
  socket: string;
}

export interface EventOutcome extends Outcome {
  /** The routing function that ran and the event name it was given. */
  callback: string;
  event: string;
  /** Last reply sent (xhttp_reply, or the handshake's 101/400/426/500). */
  reply: SentReply | undefined;
  /** websocket.handle_handshake() switched this connection to WebSocket. */
  upgraded: boolean;
}

/** core/fmsg.c FAKED_SIP_MSG: the message event routes without a real one run on. */
const FAKED_MSG = [
  'OPTIONS sip:you@kamailio.org SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1',
  'From: <sip:you@kamailio.org>;tag=123',
  'To: <sip:you@kamailio.org>',
  'Call-ID: 123',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

function callbackOf(engine: Engine, module: 'xhttp' | 'websocket', event: string): string {
  const name = modparam(engine.cfg, module, 'event_callback');
  if (name === undefined || name === '') {
    throw new Error(`mock Kamailio: kamailio.cfg sets no modparam("${module}", "event_callback", ...), so no KEMI function gets ${event}`);
  }
  if (!engine.runner.hasFunction(name)) {
    // app_jsdt runs event callbacks with emode 0: a missing function is silently skipped. The mock fails instead.
    throw new Error(`mock Kamailio: modparam("${module}", "event_callback", "${name}") names no function exported by the routing module`);
  }
  return name;
}

function runEvent(engine: Engine, module: 'xhttp' | 'websocket', event: string, msg: SipMessage, transport: Transport): EventOutcome {
  const callback = callbackOf(engine, module, event);
  const rec = emptyRecord();
  const ctx = new MsgContext(msg, transport, 'event', rec);
  ctx.server = engine.cfg.server;
  const before = engine.websockets.has(engine.wsKey(transport));
  const res = engine.runner.run(callback, ctx, false, [event])!;
  return {
    ...outcomeOf(res.end, res.error, rec),
    callback,
    event,
    reply: rec.replies[rec.replies.length - 1],
    upgraded: !before && engine.websockets.has(engine.wsKey(transport)),
  };
}

export function runHttpRequest(engine: Engine, raw: string, transport: Transport): EventOutcome {
  const msg = SipMessage.parse(raw);
  if (!msg.isHttp || !msg.isRequest) throw new Error('mock Kamailio: httpRequest() needs an HTTP/1.x request ("GET / HTTP/1.1" ...)');
  if (transport.proto !== 'tcp' && transport.proto !== 'tls') throw new Error('mock Kamailio: HTTP arrives on tcp or tls connections only');
  if (transport.socket.proto !== transport.proto) throw new Error(`mock Kamailio: socket ${transport.socket.name ?? transport.socket.ip} is not a ${transport.proto} socket`);
  for (const p of ['url_match', 'url_skip']) {
    if (modparam(engine.cfg, 'xhttp', p) !== undefined) throw new Error(`mock Kamailio: modparam("xhttp", "${p}") is not modelled`);
  }
  if (!msg.has('Via')) {
    const host = transport.srcIp.includes(':') ? `[${transport.srcIp}]` : transport.srcIp;
    msg.headers.unshift({ name: 'Via', value: `SIP/2.0/${transport.proto.toUpperCase()} ${host}:${transport.srcPort}` });
  }
  return runEvent(engine, 'xhttp', 'xhttp:request', msg, transport);
}

export function runWebsocketClosed(engine: Engine, connection: Transport): EventOutcome {
  const key = engine.wsKey(connection);
  const transport = engine.websockets.get(key);
  if (!transport) {
    throw new Error(`mock Kamailio: no WebSocket connection from ${connection.srcIp}:${connection.srcPort} on ${connection.socket.name ?? connection.socket.ip}; websocket:closed only runs for connections handle_handshake() upgraded`);
  }
  engine.websockets.delete(key);
  return runEvent(engine, 'websocket', 'websocket:closed', SipMessage.parse(FAKED_MSG), transport);
}
