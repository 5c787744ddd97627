/**
 * Mock Kamailio 5.6.3 + app_jsdt for routing tests. See mocks/README.md.
 *
 *   const kam = createKamailio({ routing, env, dispatcherList, subscribers });
 *   const out = kam.request(sipRequest({...}), { proto: 'udp', source: '203.0.113.10:5060', socket: 'public_socket' });
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadApiList, type KemiApi } from '../build/kemi/api-list.ts';
import { loadCfg, modparam, type KamailioCfg } from './config/cfg.ts';
import { loadDispatcherList } from './config/dispatcher-list.ts';
import type { EnvMap } from './config/preprocess.ts';
import { allModules } from './modules/index.ts';
import { MsgContext, type Transport } from './runtime/context.ts';
import { Engine, type Subscriber } from './runtime/engine.ts';
import { emptyRecord, outcomeOf, type Outcome, type Recorded, type Relay, type SentReply } from './runtime/outcome.ts';
import type { RoutingModule } from './runtime/runner.ts';
import type { Proto } from './runtime/sockets.ts';
import { handleReply, handleTimeout, type ReplyRun } from './runtime/tm-replies.ts';
import { afterRequestScript } from './runtime/tm-core.ts';
import { runStrayReply, type StrayReplyOutcome } from './runtime/stray-reply.ts';
import { runHttpRequest, runWebsocketClosed, type EventOutcome, type HttpTransportSpec, type ConnectionSpec, type StreamConnectionSpec } from './runtime/events.ts';
import type { Transaction } from './runtime/transactions.ts';
import { SipMessage } from './sip/message.ts';
import { sipReply, type ReplySpec } from './sip/builder.ts';
import type { Dispatcher } from './state/dispatcher.ts';
import type { Htables } from './state/htable.ts';
import type { Location } from './state/location.ts';
import type { Rtpengine } from './state/rtpengine.ts';
import type { Clock } from './runtime/clock.ts';

export { sipRequest, sipReply, type RequestSpec, type ReplySpec } from './sip/builder.ts';
export { SipMessage, type Header } from './sip/message.ts';
export { authorizationValue, parseDigest, type DigestParams } from './auth/digest.ts';
export type { Binding, LogLine, Outcome, Relay, RtpengineCall, SentReply, RouteEnd } from './runtime/outcome.ts';
export type { Subscriber } from './runtime/engine.ts';
export type { RtpengineState } from './state/rtpengine.ts';
export type { Proto } from './runtime/sockets.ts';
export type { KamailioCfg, ListenSocket } from './config/cfg.ts';
export type { EventOutcome, HttpTransportSpec, ConnectionSpec, StreamConnectionSpec } from './runtime/events.ts';
export type { StrayReplyOutcome } from './runtime/stray-reply.ts';
export { EXIT_MARKER } from './surface.ts';

export const DEFAULT_CFG = fileURLToPath(new URL('../kamailio.cfg', import.meta.url));

export interface KamailioOptions {
  /** The routing entry module's namespace (exports ksr_request_route, ksr_reply_route, callbacks...). */
  routing: RoutingModule;
  /** Default: kamailio.cfg at the repository root. */
  cfgPath?: string;
  /** Environment for #!defenv/#!trydefenv and KSR.kx.get_env. */
  env?: EnvMap;
  /** Dispatcher list text, or { file }; default: the cfg's dispatcher list_file if it exists. */
  dispatcherList?: string | { file: string };
  subscribers?: readonly Subscriber[];
  /** Start of the mock clock (ms since epoch); default 2026-01-01T00:00:00Z. */
  now?: number;
  /** Override the API list (e.g. one with extra modules loaded). */
  api?: KemiApi;
}

export interface TransportSpec extends StreamConnectionSpec {
  proto: Proto;
  /** "ip:port" the message comes from. */
  source: string;
  /** Receiving socket: a listen socket name, or "proto:ip:port". */
  socket: string;
}

export interface RequestTransportSpec extends TransportSpec {
  /**
   * A copy of this request is being processed by another Kamailio worker
   * right now (a retransmission that arrived before the first copy created
   * its transaction): tmx.t_precheck_trans() returns 1, and t_check_trans()
   * still -1 because no transaction exists yet.
   */
  inFlightElsewhere?: boolean;
}


export interface RequestOutcome extends Outcome {
  /** Last reply sent for the request (undefined: none — a dropped or silently ignored request). */
  reply: SentReply | undefined;
  /** First relayed branch. */
  relay: Relay | undefined;
  flags: number[];
  bflags: number[];
  /** Header lumps applied to the request: names removed, "Name: value" lines added. */
  headers: { removed: string[]; added: string[] };
  callbacks: { failure: string | null; onreply: string | null; branch: string | null };
  /** Final values the script left: $ru, $du, forced socket name. */
  ruri: string;
  dstUri: string | null;
  sendSocket: string | null;
  /** set_forward_no_connect / set_reply_no_connect were called. */
  noConnect: { forward: boolean; reply: boolean };
  /** tm timers set by t_set_fr / t_set_fr_inv (ms), when a transaction exists. */
  timers: Record<string, number>;
  /** @internal the transaction for follow-ups */
  readonly tx: Transaction | null;
}

export interface ReplyOutcome extends Outcome {
  /** What the UAC receives because of this reply/timeout (forwarded or local), if anything. */
  forwarded: SentReply | undefined;
  routes: ReplyRun['routes'];
  dropped: boolean;
}

export interface Kamailio {
  request(message: string | SipMessage, transport: RequestTransportSpec): RequestOutcome;
  /**
   * An HTTP request on a TCP/TLS connection (a WebSocket upgrade, in
   * practice): runs the cfg's modparam("xhttp", "event_callback") function
   * with "xhttp:request", as xhttp does.
   */
  httpRequest(raw: string, transport: HttpTransportSpec): EventOutcome;
  /** The client closed a WebSocket connection handle_handshake() upgraded: runs the websocket event_callback with "websocket:closed". */
  websocketClosed(connection: ConnectionSpec): EventOutcome;
  /** A reply from the next hop to the last branch of `out`'s transaction. */
  replyFromUpstream(out: RequestOutcome, reply: number | string | SipMessage, spec?: ReplySpec): ReplyOutcome;
  /** The last branch of `out` got no final answer before fr_timer (tm's local 408). */
  timeout(out: RequestOutcome): ReplyOutcome;
  /**
   * A reply that matches no transaction (forged, or late): runs
   * ksr_reply_route; unless it drops the reply, core forwards it statelessly
   * to its next Via (runtime/stray-reply.ts).
   */
  strayReply(message: string | SipMessage, transport: TransportSpec): StrayReplyOutcome;
  readonly cfg: KamailioCfg;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly location: Location;
  readonly htable: Htables;
  /** rtpengine's state as the module sees it: setState('down' | 'refusing' | 'up'). */
  readonly rtpengine: Rtpengine;
  /** Mock modules skipped because their KEMI module is not in the API list. */
  readonly unloadedModules: readonly string[];
  /** A fresh nonce as auth_challenge would issue it now (for building credentials). */
  nonce(): string;
}

export function createKamailio(o: KamailioOptions): Kamailio {
  const env = o.env ?? {};
  const cfgPath = o.cfgPath ?? DEFAULT_CFG;
  if (!existsSync(cfgPath)) throw new Error(`mock Kamailio: no cfg at ${cfgPath}`);
  const cfg = loadCfg(cfgPath, env);
  // Kamailio runs from the project root (CONTRACT), so a relative list_file is relative to the cfg's folder.
  const listParam = modparam(cfg, 'dispatcher', 'list_file');
  const listFile = listParam === undefined ? undefined : resolve(dirname(cfgPath), listParam);
  const dsSource = o.dispatcherList ?? (listFile !== undefined && existsSync(listFile) ? { file: listFile } : '');
  const engine = new Engine({
    api: o.api ?? loadApiList(),
    cfg,
    routing: o.routing,
    modules: allModules(env),
    dispatcher: loadDispatcherList(dsSource),
    subscribers: o.subscribers ?? [],
    now: o.now ?? Date.UTC(2026, 0, 1),
  });
  return {
    request: (message, transport) => runRequest(engine, message, transport),
    httpRequest: (raw, transport) => runHttpRequest(engine, raw, resolveTransport(engine, transport)),
    websocketClosed: (connection) => runWebsocketClosed(engine, resolveTransport(engine, { ...connection, proto: 'tcp' })),
    replyFromUpstream: (out, reply, spec) => followUp(out, (tx, rec) => {
      const branch = lastBranch(tx);
      const msg = typeof reply === 'number' ? sipReply(branch.relay.message, reply, spec) : typeof reply === 'string' ? SipMessage.parse(reply) : reply.clone();
      return handleReply(engine, tx, branch, msg, rec);
    }),
    timeout: (out) => followUp(out, (tx, rec) => handleTimeout(engine, tx, lastBranch(tx), rec)),
    strayReply: (message, transport) =>
      runStrayReply(engine, typeof message === 'string' ? SipMessage.parse(message) : message.clone(), resolveTransport(engine, transport)),
    cfg,
    clock: engine.clock,
    dispatcher: engine.dispatcher,
    location: engine.location,
    htable: engine.htables,
    rtpengine: engine.rtpengine,
    unloadedModules: engine.unloadedModules,
    nonce: () => engine.nonces.issue(engine.clock.seconds()),
  };
}

function resolveTransport(engine: Engine, t: TransportSpec): Transport {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(t.source);
  if (!m) throw new Error(`mock Kamailio: source must be "ip:port", got "${t.source}"`);
  const spec = engine.sockets.parseSpec(t.socket);
  const socket = spec ? engine.sockets.find(spec.proto, spec.ip, spec.port) : engine.sockets.byName(t.socket);
  if (!socket) throw new Error(`mock Kamailio: no listen socket "${t.socket}" in the cfg`);
  const transport: Transport = { proto: t.proto, srcIp: m[1]!, srcPort: Number(m[2]), socket };
  const connection = streamConnection(engine, transport, t);
  return connection === undefined ? transport : { ...transport, connection };
}

/** What tcp_main recorded for the connection (tcp_connection.cinfo; tcp_main.c tcpconn_new/tcpconn_read_haproxy). */
function streamConnection(engine: Engine, t: Transport, spec: TransportSpec): Transport['connection'] {
  const stream = t.proto !== 'udp' && t.proto !== 'sctp';
  if (!stream) {
    if (spec.proxiedBy !== undefined || spec.outboundConnection) throw new Error(`mock Kamailio: ${t.proto} has no connection (proxiedBy/outboundConnection need tcp, tls, ws or wss)`);
    return undefined;
  }
  if (spec.proxiedBy !== undefined) {
    if (spec.outboundConnection) throw new Error('mock Kamailio: a connection Kamailio opened never starts with a PROXY header (only accepted ones are read for one)');
    if (!engine.cfg.acceptHaproxy) throw new Error('mock Kamailio: proxiedBy needs tcp_accept_haproxy=yes in the cfg (without it the PROXY line is read as SIP and fails to parse)');
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(spec.proxiedBy);
    if (!m) throw new Error(`mock Kamailio: proxiedBy must be "ip:port", got "${spec.proxiedBy}"`);
    return { peer: { ip: m[1]!, port: Number(m[2]) } };
  }
  if (spec.outboundConnection) {
    // tcp_main.c tcp_do_connect: find_si(local ip, 0, proto), the FIRST listen socket of the
    // connection's local address and proto, whichever socket the message was sent from.
    const first = engine.cfg.sockets.find((s) => s.proto === t.socket.proto && s.ip === t.socket.ip)!;
    if (first.port !== t.socket.port) {
      throw new Error(
        `mock Kamailio: Kamailio 5.6.3 gives a connection it opened the first ${first.proto} socket of its address ` +
          `(${first.name ?? `${first.proto}:${first.ip}:${first.port}`}), not ${t.socket.name ?? spec.socket}`,
      );
    }
    return { peer: null };
  }
  // cinfo is copied from the accepted socket's address only when tcp_accept_haproxy is on.
  if (!engine.cfg.acceptHaproxy) return { peer: null };
  return { peer: { ip: t.srcIp, port: t.srcPort } };
}

function runRequest(engine: Engine, message: string | SipMessage, t: RequestTransportSpec): RequestOutcome {
  const msg = typeof message === 'string' ? SipMessage.parse(message) : message.clone();
  if (!msg.isRequest || msg.isHttp) throw new Error('mock Kamailio: request() needs a SIP request (HTTP goes to httpRequest())');
  const rec = emptyRecord();
  const ctx = new MsgContext(msg, resolveTransport(engine, t), 'request', rec);
  ctx.server = engine.cfg.server;
  ctx.inFlightElsewhere = t.inFlightElsewhere === true;
  const res = engine.runner.run('ksr_request_route', ctx, false)!;
  // post-script callbacks run however the script ended (core receive.c)
  afterRequestScript(ctx);
  const removed = [...ctx.lumps.removed].map((h) => h.name);
  return {
    ...outcomeOf(res.end, res.error, rec),
    reply: rec.replies[rec.replies.length - 1],
    relay: rec.relays[0],
    flags: [...ctx.flags].sort((a, b) => a - b),
    bflags: [...ctx.bflags].sort((a, b) => a - b),
    headers: { removed, added: [...ctx.lumps.inserted, ...ctx.lumps.appended].map((h) => `${h.name}: ${h.value}`) },
    callbacks: { failure: ctx.tx?.armed.failure ?? ctx.armed.failure, onreply: ctx.tx?.armed.onreply ?? ctx.armed.onreply, branch: ctx.armed.branch },
    ruri: ctx.ruri,
    dstUri: ctx.dstUri,
    sendSocket: ctx.forceSocket?.name ?? null,
    noConnect: { ...ctx.noConnect },
    timers: { ...ctx.tx?.timers },
    tx: ctx.tx,
  };
}


function lastBranch(tx: Transaction): Transaction['branches'][number] {
  const b = tx.branches[tx.branches.length - 1];
  if (!b) throw new Error('mock Kamailio: the transaction relayed nothing');
  return b;
}

function followUp(out: RequestOutcome, fn: (tx: Transaction, rec: Recorded) => ReplyRun): ReplyOutcome {
  if (!out.tx) throw new Error('mock Kamailio: this request created no transaction (nothing was t_relay-ed)');
  const rec = emptyRecord();
  const run = fn(out.tx, rec);
  const last = run.routes[run.routes.length - 1];
  return {
    ...outcomeOf(last?.end ?? 'return', run.routes.find((r) => r.end === 'error')?.error, rec),
    forwarded: run.forwarded ?? undefined,
    routes: run.routes,
    dropped: run.dropped,
  };
}
