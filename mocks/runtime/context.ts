/**
 * State of the SIP message a route is running on — what Kamailio keeps in
 * struct sip_msg plus its lumps. Reads ($hdr, is_present_hf, $ct...) see the
 * message as received; header/body changes are lumps that only show in what
 * is sent (Kamailio behaves so until msg_apply_changes()).
 */
import type { ListenSocket } from '../config/cfg.ts';
import type { Header, SipMessage } from '../sip/message.ts';
import type { Recorded, RouteKind } from './outcome.ts';
import type { Proto } from './sockets.ts';
import type { Transaction } from './transactions.ts';

export interface Transport {
  proto: Proto;
  srcIp: string;
  srcPort: number;
  socket: ListenSocket;
  /**
   * The TCP/TLS connection a stream message came over, as tcpops reads it
   * ($tcp(c_si)/$tcp(c_sp): tcp_connection.cinfo). `peer` is the real peer
   * tcp_main recorded when it accepted the connection, before any PROXY
   * header; null when it recorded none: a connection Kamailio opened itself,
   * or any connection with tcp_accept_haproxy off (cinfo is filled only by
   * tcpconn_read_haproxy). Absent: UDP, or a message whose connection the
   * harness does not model (replies from upstream).
   */
  connection?: { peer: { ip: string; port: number } | null };
}

export interface Lumps {
  removed: Set<Header>;
  /** hdr.insert: before the first header. */
  inserted: Header[];
  /** hdr.append / textops.append_hf: after the last header. */
  appended: Header[];
  /** Replacement values for received headers (fix_nated_contact, set_contact_alias). */
  rewritten: Map<Header, string>;
  body: string | null;
}

/**
 * tm's per-message "kill reason" bits (h_table.h enum kill_reason, reset by
 * tm's pre-script callback): after the request route, t_unref sends the
 * delayed error reply of a failed t_relay only when errDelayed is the sole bit.
 */
export type KillReason = 'errDelayed' | 'replied' | 'forwarded' | 'released';

/** Callback route names armed with t_on_* (function names in the routing module). */
export interface Armed {
  failure: string | null;
  onreply: string | null;
  branch: string | null;
  branchFailure: string | null;
}

export class MsgContext {
  flags = new Set<number>();
  bflags = new Set<number>();
  newUri: string | null = null;
  dstUri: string | null = null;
  /** registrar lookup()'s path vector (msg->path_vec): tm sends it as Route headers. */
  pathVector: string | null = null;
  forceSocket: ListenSocket | null = null;
  lumps: Lumps = { removed: new Set(), inserted: [], appended: [], rewritten: new Map(), body: null };
  /** hdr.append_to_reply: added to any reply this message gets. */
  replyHeaders: Header[] = [];
  avps = new Map<string, Array<string | number>>();
  xavps = new Map<string, Array<Map<string, string | number>>>();
  recordRoute: { params: string[]; done: boolean } = { params: [], done: false };
  /** URI parameters of our Route header consumed by loose_route (for check_route_param). */
  routedParams: string | null = null;
  armed: Armed = { failure: null, onreply: null, branch: null, branchFailure: null };
  tx: Transaction | null = null;
  drop = false;
  /** In a failure route: whether the failed branch received any reply, a 100 included (t_branch_replied). */
  failedBranchReplied = false;
  /** The reply being processed in onreply/reply routes, or the winning one in a failure route. */
  reply: SipMessage | null = null;
  /** Authorization header accepted by auth_check (consume_credentials removes it). */
  authorizedHeader: Header | null = null;
  /** Set by nathelper fix_nated_register for registrar save ("received" of the binding). */
  receivedUri: string | null = null;
  /** force_rport(): reply to the source port (Via rport), as if the client had asked. */
  forceRport = false;
  /** set_forward_no_connect / set_reply_no_connect: only reuse an existing TCP connection. */
  noConnect = { forward: false, reply: false };
  /** Server header value of local replies (cfg server_header). */
  server = 'kamailio (5.6.3 (x86_64/linux))';
  /** tm's kr bits and tm_error for this message (see KillReason). */
  tmKr = new Set<KillReason>();
  tmError = 0;
  /** Harness: another worker is processing a copy of this request right now (tmx pretran table). */
  inFlightElsewhere = false;

  constructor(
    /** The message as received (never modified by KSR calls, except Max-Forwards which Kamailio rewrites in place, the header values handle_handshake lowercases, and textopsx msg_apply_changes, which replaces it with the message as it would be sent). */
    public msg: SipMessage,
    readonly transport: Transport,
    public route: RouteKind,
    readonly rec: Recorded,
  ) {}

  /** Request-URI as the script sees it ($ru): the rewritten one if any. */
  get ruri(): string {
    if (this.newUri !== null) return this.newUri;
    return this.msg.start.kind === 'request' ? this.msg.start.uri : '';
  }

  /** Headers as they will be sent: received ones minus removals, rewrites applied, plus additions. */
  outgoingHeaders(): Header[] {
    const kept = this.msg.headers
      .filter((h) => !this.lumps.removed.has(h))
      .map((h) => ({ name: h.name, value: this.lumps.rewritten.get(h) ?? h.value }));
    return [...this.lumps.inserted, ...kept, ...this.lumps.appended];
  }

  outgoingBody(): string {
    return this.lumps.body ?? this.msg.body;
  }

  /**
   * A context for a branch or failure route on the same request, as tm
   * works on its shared-memory copy: lumps and branch flags are copied,
   * message flags and AVPs stay shared with the transaction.
   */
  fork(route: RouteKind, rec: Recorded): MsgContext {
    const c = new MsgContext(this.msg, this.transport, route, rec);
    c.flags = this.flags;
    c.avps = this.avps;
    c.xavps = this.xavps;
    c.bflags = new Set(this.bflags);
    c.newUri = this.newUri;
    c.dstUri = this.dstUri;
    c.pathVector = this.pathVector;
    c.forceSocket = this.forceSocket;
    c.lumps = {
      removed: new Set(this.lumps.removed),
      inserted: [...this.lumps.inserted],
      appended: [...this.lumps.appended],
      rewritten: new Map(this.lumps.rewritten),
      body: this.lumps.body,
    };
    c.replyHeaders = [...this.replyHeaders];
    c.recordRoute = { params: [...this.recordRoute.params], done: this.recordRoute.done };
    c.armed = { ...this.armed };
    c.tx = this.tx;
    c.authorizedHeader = this.authorizedHeader;
    c.receivedUri = this.receivedUri;
    c.server = this.server;
    return c;
  }
}
