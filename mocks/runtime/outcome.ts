/**
 * What one harness call (a request, an upstream reply, a timeout) did, as
 * tests assert it. A Recorder collects these while KSR functions run.
 */
import type { ListenSocket } from '../config/cfg.ts';
import type { Header, SipMessage } from '../sip/message.ts';
import type { Proto } from './sockets.ts';

/** 'event': a module event callback (xhttp:request, websocket:closed), EVENT_ROUTE in Kamailio. */
export type RouteKind = 'request' | 'branch' | 'onreply' | 'failure' | 'reply' | 'event';

/** How the entry point ended: KSR.x.exit(), KSR.x.drop(), returned, or threw. */
export type RouteEnd = 'exit' | 'drop' | 'return' | 'error';

export interface SentReply {
  code: number;
  reason: string;
  /** Headers added to this reply (append_to_reply, auth challenge, registrar Contact...). */
  headers: Header[];
  message: SipMessage;
  /** 'sl' = stateless, 'tm' = through the transaction (also forwarded upstream replies). */
  by: 'sl' | 'tm';
}

export interface Relay {
  route: RouteKind;
  method: string;
  ruri: string;
  dstUri: string | null;
  /** Where the message goes (from $du, else the R-URI). */
  destination: { proto: Proto; host: string; port: number };
  socket: ListenSocket;
  /** The message as sent: our Via and Record-Route on top, lumps applied. */
  message: SipMessage;
  branch: number;
  /** set_forward_no_connect(): only an existing TCP/TLS connection may be used. */
  noConnect: boolean;
}

export interface RtpengineCall {
  fn: string;
  flags: string;
  route: RouteKind;
  method: string;
  /** Reply status when called on a reply, else null. */
  status: number | null;
}

export interface LogLine {
  level: string;
  text: string;
}

export interface Binding {
  aor: string;
  contact: string;
  expires: number;
  received: string | null;
  socket: ListenSocket;
  proto: Proto;
  path: string | null;
  callId: string;
  cseq: number;
  userAgent: string | null;
  bflags: number[];
  /** Methods from the REGISTER's Allow header; null = no Allow header (all methods). */
  methods: string[] | null;
}

export interface Recorded {
  replies: SentReply[];
  relays: Relay[];
  rtpengine: RtpengineCall[];
  logs: LogLine[];
  registrations: Binding[];
  /** Records of module calls with side effects outside SIP (websocket handshake, xhttp reply). */
  events: Array<{ fn: string; args: Array<string | number> }>;
}

export function emptyRecord(): Recorded {
  return { replies: [], relays: [], rtpengine: [], logs: [], registrations: [], events: [] };
}

/** What every harness call reports. */
export interface Outcome {
  end: RouteEnd;
  /** The exception when end === 'error'. */
  error: unknown;
  replies: SentReply[];
  relays: Relay[];
  rtpengine: Recorded['rtpengine'];
  logs: Recorded['logs'];
  registrations: Recorded['registrations'];
  events: Recorded['events'];
}

export function outcomeOf(end: RouteEnd, error: unknown, rec: Recorded): Outcome {
  return { end, error, replies: rec.replies, relays: rec.relays, rtpengine: rec.rtpengine, logs: rec.logs, registrations: rec.registrations, events: rec.events };
}
