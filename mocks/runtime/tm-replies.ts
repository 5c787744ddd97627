/**
 * tm's reply side: a reply from upstream runs the core reply route
 * (ksr_reply_route), then the branch's onreply callback, then — for a final
 * negative reply or a timeout — the failure callback on the request, which
 * may relay a new branch or reply itself; otherwise tm forwards the reply
 * (503 becomes 500, RFC 3261 §16.7 step 6; 100 is never forwarded).
 */
import { SipMessage, canonicalName } from '../sip/message.ts';
import { splitList } from '../sip/uri.ts';
import { MsgContext } from './context.ts';
import type { Engine } from './engine.ts';
import type { Recorded, RouteEnd, SentReply } from './outcome.ts';
import type { Branch, Transaction } from './transactions.ts';

export interface ReplyRun {
  /** How each route that ran ended, in order (reply route, onreply, failure). */
  routes: Array<{ route: string; end: RouteEnd; error: unknown }>;
  /** The reply sent to the UAC because of this event, if any (forwarded or local). */
  forwarded: SentReply | null;
  dropped: boolean;
}

function replyCtx(tx: Transaction, branch: Branch, reply: SipMessage, rec: Recorded): MsgContext {
  const d = branch.relay.destination;
  const ctx = new MsgContext(reply, { proto: d.proto, srcIp: d.host, srcPort: d.port, socket: branch.relay.socket }, 'reply', rec);
  ctx.tx = tx;
  ctx.flags = tx.request.flags;
  ctx.avps = tx.request.avps;
  return ctx;
}

/** The reply as tm relays it: lumps of the reply routes applied, our Via removed, 503 mapped to 500. */
function forward(tx: Transaction, ctx: MsgContext, rec: Recorded): SentReply {
  const out = new SipMessage({ ...ctx.msg.start }, ctx.outgoingHeaders(), ctx.outgoingBody());
  const viaIdx = out.headers.findIndex((h) => canonicalName(h.name) === 'via');
  if (viaIdx >= 0) {
    const vias = splitList(out.headers[viaIdx]!.value);
    if (vias.length > 1) out.headers[viaIdx]!.value = vias.slice(1).join(', ');
    else out.headers.splice(viaIdx, 1);
  }
  if (out.start.kind === 'reply' && out.start.status === 503) out.start = { ...out.start, status: 500 };
  const code = out.start.kind === 'reply' ? out.start.status : 0;
  const sent: SentReply = { code, reason: out.start.kind === 'reply' ? out.start.reason : '', headers: [], message: out, by: 'tm' };
  rec.replies.push(sent);
  tx.uasReplies.push(sent);
  // t_reply.c relay_reply: relayed_reply_branch becomes the branch the reply came from
  tx.relayedReplyBranch = tx.branches.length - 1;
  return sent;
}

export function handleReply(k: Engine, tx: Transaction, branch: Branch, reply: SipMessage, rec: Recorded): ReplyRun {
  const run: ReplyRun = { routes: [], forwarded: null, dropped: false };
  const status = reply.start.kind === 'reply' ? reply.start.status : 0;
  const core = replyCtx(tx, branch, reply, rec);
  const r0 = k.runner.run('ksr_reply_route', core, true);
  if (r0) run.routes.push({ route: 'ksr_reply_route', ...r0 });
  if (core.drop) {
    run.dropped = true;
    return run;
  }
  branch.replies.push(reply);
  // lumps added in ksr_reply_route and in the onreply route both go out with the relayed reply
  let last = core;
  if (tx.armed.onreply !== null) {
    const on = core.fork('onreply', rec);
    last = on;
    const r1 = k.runner.run(tx.armed.onreply, on, true);
    if (r1) run.routes.push({ route: tx.armed.onreply, ...r1 });
    // drop() in an onreply route only discards provisional replies (tm docs, onreply_route).
    if (on.drop && status < 200) {
      run.dropped = true;
      return run;
    }
  }
  if (status < 200) {
    if (status > 100 && !tx.finalSent) run.forwarded = forward(tx, last, rec);
    return run;
  }
  branch.final = status;
  if (status < 300) {
    if (!tx.finalSent || tx.uasStatus < 300) run.forwarded = forward(tx, last, rec);
    return run;
  }
  return failure(k, tx, branch, reply, last, rec, run);
}

/** A branch that got no final reply before fr_timer: tm fakes a local 408. */
export function handleTimeout(k: Engine, tx: Transaction, branch: Branch, rec: Recorded): ReplyRun {
  branch.final = 408;
  const req = tx.request.msg;
  const headers = ['Via', 'From', 'To', 'Call-ID', 'CSeq']
    .map((name) => req.all(name)[0])
    .filter((h) => h !== undefined);
  const reply = new SipMessage({ kind: 'reply', version: 'SIP/2.0', status: 408, reason: 'Request Timeout' }, headers, '');
  return failure(k, tx, branch, reply, null, rec, { routes: [], forwarded: null, dropped: false });
}

/** `received` is the reply's context (null for tm's local 408), relayed when the failure route does nothing. */
function failure(k: Engine, tx: Transaction, branch: Branch, reply: SipMessage, received: MsgContext | null, rec: Recorded, run: ReplyRun): ReplyRun {
  const before = tx.branches.length;
  const repliesBefore = tx.uasReplies.length;
  const name = tx.armed.failure;
  if (name !== null && !tx.finalSent) {
    const ctx = tx.request.fork('failure', rec);
    ctx.reply = reply;
    ctx.dstUri = null;
    // tm uac.last_received: any reply relayed on the branch, a 100 Trying included.
    ctx.failedBranchReplied = branch.replies.length > 0;
    // the failure route must arm itself again for a further failover
    ctx.armed = { ...tx.armed, failure: null };
    tx.armed.failure = null;
    const r = k.runner.run(name, ctx, true);
    if (r) run.routes.push({ route: name, ...r });
    tx.armed = { ...tx.armed, failure: ctx.armed.failure, onreply: ctx.armed.onreply };
  }
  if (tx.uasReplies.length > repliesBefore) {
    run.forwarded = tx.uasReplies[tx.uasReplies.length - 1] ?? null;
    return run;
  }
  if (tx.branches.length > before || tx.finalSent) return run;
  if (received) {
    run.forwarded = forward(tx, received, rec);
  } else {
    const sent: SentReply = { code: 408, reason: 'Request Timeout', headers: [], message: reply, by: 'tm' };
    rec.replies.push(sent);
    tx.uasReplies.push(sent);
    // the local 408 is relayed as the branch's (faked) reply, not generated by t_reply
    tx.relayedReplyBranch = tx.branches.length - 1;
    run.forwarded = sent;
  }
  return run;
}
