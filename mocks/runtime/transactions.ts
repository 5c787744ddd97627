/**
 * tm's transaction table, reduced to what routing scripts observe:
 * matching of retransmissions, hop-by-hop ACKs and CANCELs by the top Via
 * branch (RFC 3261 §17.2.3), the armed callbacks, the branches relayed and
 * the replies received on them.
 */
import { parseVia, viaParam, type SipMessage } from '../sip/message.ts';
import { nameAddrParam, parseNameAddr, splitList } from '../sip/uri.ts';
import type { Armed, MsgContext } from './context.ts';
import type { Relay, SentReply } from './outcome.ts';

export interface Branch {
  relay: Relay;
  replies: SipMessage[];
  /** Final status received (or 408 on timeout), null while pending. */
  final: number | null;
}

export class Transaction {
  armed: Armed;
  branches: Branch[] = [];
  /** Replies sent to the UAC through this transaction (local or relayed). */
  uasReplies: SentReply[] = [];
  canceled = false;
  /** Timer values set by t_set_fr and friends, for tests to assert. */
  timers: Record<string, number> = {};
  /**
   * h_table.h cell.relayed_reply_branch: -1 nothing sent yet, -2 the last
   * reply was generated here (t_reply), else the branch whose reply was relayed.
   */
  relayedReplyBranch = -1;
  /** To tag of our local replies (cell.uas.local_totag), for matching the ACK to a local 2xx. */
  localToTag: string | null = null;

  constructor(
    readonly id: number,
    readonly request: MsgContext,
    readonly key: TxKey,
  ) {
    this.armed = { ...request.armed };
  }

  get uasStatus(): number {
    return this.uasReplies[this.uasReplies.length - 1]?.code ?? 0;
  }

  get finalSent(): boolean {
    return this.uasStatus >= 200;
  }
}

export interface TxKey {
  branch: string;
  method: string;
  callId: string;
}

export function topViaBranch(msg: SipMessage): string {
  const first = msg.get('Via');
  const via = first === undefined ? null : parseVia(splitList(first)[0] ?? '');
  const b = via ? viaParam(via, 'branch') : undefined;
  return typeof b === 'string' ? b : '';
}

export function txKey(msg: SipMessage): TxKey {
  return { branch: topViaBranch(msg), method: msg.method, callId: msg.get('Call-ID') ?? '' };
}

export class TransactionTable {
  private readonly list: Transaction[] = [];

  create(ctx: MsgContext): Transaction {
    const tx = new Transaction(this.list.length + 1, ctx, txKey(ctx.msg));
    this.list.push(tx);
    return tx;
  }

  /** The transaction this request belongs to, for `method` (INVITE for ACK/CANCEL matching). */
  find(msg: SipMessage, method: string): Transaction | undefined {
    const k = txKey(msg);
    if (k.branch === '') return undefined;
    return this.list.find((t) => t.key.branch === k.branch && t.key.callId === k.callId && t.key.method === method);
  }

  /**
   * t_lookup.c t_lookup_request: the transaction a request belongs to.
   * Non-ACK requests match by Via branch (a retransmission). An ACK matches
   * an INVITE answered >= 300 by Via branch (the hop-by-hop ACK), or an
   * INVITE answered < 300 by a local reply when Call-ID, CSeq number, From
   * tag and our To tag match (ACK to a local 2xx). An e2e ACK to a relayed
   * 2xx is matched only for transactions with TMCB_E2EACK_IN callbacks
   * (acc with report_ack, sca, ...): no module this mock models installs
   * them, so such an ACK finds nothing (t_lookup_request -1, not -2).
   */
  lookupRequest(msg: SipMessage): Transaction | undefined {
    if (msg.method.toUpperCase() !== 'ACK') return this.find(msg, msg.method.toUpperCase());
    const k = txKey(msg);
    return this.list.find((t) => {
      if (t.key.method.toUpperCase() !== 'INVITE' || t.key.callId !== k.callId) return false;
      if (t.uasStatus < 300) return t.relayedReplyBranch === -2 && localDialogMatch(t, msg);
      return k.branch !== '' && t.key.branch === k.branch;
    });
  }

  all(): readonly Transaction[] {
    return this.list;
  }
}

function tag(msg: SipMessage, header: string): string | null {
  const na = parseNameAddr(msg.get(header) ?? '');
  const t = na ? nameAddrParam(na, 'tag') : undefined;
  return typeof t === 'string' ? t : null;
}

/** t_lookup.c partial_dlg_matching + dlg_matching: the ACK belongs to our locally answered INVITE. */
function localDialogMatch(t: Transaction, ack: SipMessage): boolean {
  const inv = t.request.msg;
  return (
    inv.cseq?.num === ack.cseq?.num &&
    tag(inv, 'From') === tag(ack, 'From') &&
    t.localToTag !== null &&
    tag(ack, 'To') === t.localToTag
  );
}

/** The To tag of a reply message (to remember the tag of a local reply). */
export function toTagOf(msg: SipMessage): string | null {
  return tag(msg, 'To');
}
