/**
 * tm's request side: t_relay with branch routes, CANCEL and ACK handling.
 * (Replies coming back are processed in tm-replies.ts.)
 */
import { SipMessage, canonicalName } from '../sip/message.ts';
import type { MsgContext } from './context.ts';
import type { Engine } from './engine.ts';
import { buildRelay, recordReply } from './send.ts';
import type { Transaction } from './transactions.ts';

/** Transaction of this request, created on first use (t_newtran semantics). */
export function ensureTransaction(k: Engine, ctx: MsgContext): Transaction {
  if (!ctx.tx) {
    ctx.tx = k.transactions.create(ctx);
  }
  return ctx.tx;
}

/** Relays ctx as a new branch of its transaction; runs the armed branch route first. */
function relayBranch(k: Engine, ctx: MsgContext, tx: Transaction): boolean {
  let branchCtx = ctx;
  const branchRoute = ctx.armed.branch;
  if (branchRoute !== null) {
    branchCtx = ctx.fork('branch', ctx.rec);
    const res = k.runner.run(branchRoute, branchCtx, true);
    // A drop in a branch route discards that branch only (tm: "drop" in branch_route).
    if (res && (res.end === 'drop' || branchCtx.drop)) return false;
  }
  const relay = buildRelay(branchCtx, k.sockets, tx.branches.length, `z9hG4bKmock${k.nextId()}`);
  ctx.rec.relays.push(relay);
  tx.branches.push({ relay, replies: [], final: null });
  return true;
}

/** tm t_relay in request or failure route. */
export function tRelay(k: Engine, ctx: MsgContext): number {
  const method = ctx.msg.method.toUpperCase();
  if (method === 'ACK' && ctx.route === 'request') {
    // ACK to a 2xx is forwarded statelessly (no transaction to match).
    ctx.rec.relays.push(buildRelay(ctx, k.sockets, 0, `z9hG4bKmock${k.nextId()}`));
    return 1;
  }
  if (method === 'CANCEL' && ctx.route === 'request') return relayCancel(k, ctx);
  if (ctx.route === 'request') {
    const existing = k.transactions.find(ctx.msg, method);
    if (existing && existing.request !== ctx) {
      // t_relay -> t_newtran sees a retransmission: it is absorbed and the script should stop.
      return 0;
    }
  }
  const tx = ensureTransaction(k, ctx);
  tx.armed = { ...ctx.armed };
  const ok = relayBranch(k, ctx, tx);
  // the branch route is used once per t_relay; it must be armed again for another relay
  ctx.armed.branch = null;
  tx.armed.branch = null;
  return ok ? 1 : -1;
}

/** CANCEL matching an INVITE transaction cancels its pending branches; otherwise it is forwarded statelessly. */
function relayCancel(k: Engine, ctx: MsgContext): number {
  const invite = k.transactions.find(ctx.msg, 'INVITE');
  if (!invite) {
    ctx.rec.relays.push(buildRelay(ctx, k.sockets, 0, `z9hG4bKmock${k.nextId()}`));
    return 1;
  }
  invite.canceled = true;
  // tm answers the CANCEL itself (RFC 3261 §16.10) and sends CANCEL on each pending branch.
  recordReply(ctx, 200, 'canceling', [], 'tm');
  for (const b of invite.branches.filter((x) => x.final === null)) {
    const sent = b.relay.message;
    const headers = sent.headers
      .filter((h) => ['via', 'route', 'from', 'to', 'call-id', 'max-forwards'].includes(canonicalName(h.name)))
      .filter((h, i, all) => canonicalName(h.name) !== 'via' || all.findIndex((x) => canonicalName(x.name) === 'via') === i);
    headers.push({ name: 'CSeq', value: `${invite.request.msg.cseq?.num ?? '1'} CANCEL` });
    const message = new SipMessage({ kind: 'request', method: 'CANCEL', uri: b.relay.ruri, version: 'SIP/2.0' }, headers, '');
    ctx.rec.relays.push({ ...b.relay, route: ctx.route, method: 'CANCEL', message });
  }
  return 1;
}
