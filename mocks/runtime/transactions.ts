/**
 * tm's transaction table, reduced to what routing scripts observe:
 * matching of retransmissions, hop-by-hop ACKs and CANCELs by the top Via
 * branch (RFC 3261 §17.2.3), the armed callbacks, the branches relayed and
 * the replies received on them.
 */
import { parseVia, viaParam, type SipMessage } from '../sip/message.ts';
import { splitList } from '../sip/uri.ts';
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

  all(): readonly Transaction[] {
    return this.list;
  }
}
