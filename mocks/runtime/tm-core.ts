/**
 * tm's request side: t_relay with branch routes, CANCEL and ACK handling,
 * and the delayed error reply of a failed t_relay.
 * (Replies coming back are processed in tm-replies.ts.)
 *
 * t_relay return codes (tm.c _w_t_relay_to, t_funcs.c t_relay_to, t_fwd.c):
 * - request route: 1 relayed; 1 for a retransmission or an ACK tm absorbs
 *   (t_newtran 0); for an ACK with no transaction, 1 after the stateless
 *   forward; for a CANCEL with no INVITE transaction, the result of the
 *   stateless forward_request(): 0 on success; on failure the negative
 *   E_* code (E_BAD_ADDRESS -478 unresolvable next hop, E_CFG -6 the branch
 *   route dropped the branch). A stateful failure also leaves
 *   kr = REQ_ERR_DELAYED: after the script tm replies err2reason(code) "/TM"
 *   itself (t_lookup.c t_unref -> kill_transaction), unless the script
 *   replied statefully, relayed or released the transaction meanwhile.
 * - failure route: 1, or -1 on any failure (no delayed reply).
 * - other routes: 0 ("unsupported route type").
 */
import { isIP } from 'node:net';
import { SipMessage, canonicalName } from '../sip/message.ts';
import type { MsgContext } from './context.ts';
import type { Engine } from './engine.ts';
import { buildRelay, destinationOf, recordReply } from './send.ts';
import { E_BAD_ADDRESS, E_CFG, E_OK, err2reason } from './ser-error.ts';
import type { Transaction } from './transactions.ts';

/** Transaction of this request, created on first use (t_newtran semantics). */
export function ensureTransaction(k: Engine, ctx: MsgContext): Transaction {
  if (!ctx.tx) {
    ctx.tx = k.transactions.create(ctx);
  }
  return ctx.tx;
}

/**
 * The mock has no DNS: a next hop resolves only when its host is an IP
 * literal or one of our own names (listen/advertise addresses, alias=),
 * which the deployment points at this proxy. Kamailio would ask the
 * resolver (`dns=no` only concerns Via received checks, core cfg.y).
 */
export function resolvable(k: Engine, host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return isIP(h) !== 0 || k.sockets.isMyself(h, null, '');
}

/** Forwards ctx statelessly (forward_request); returns `ok` on success or E_BAD_ADDRESS. */
function forwardStateless(k: Engine, ctx: MsgContext, ok: number): number {
  if (!resolvable(k, destinationOf(ctx.dstUri ?? ctx.ruri).host)) {
    k.serError.ser = E_BAD_ADDRESS;
    return E_BAD_ADDRESS;
  }
  ctx.rec.relays.push(buildRelay(ctx, k.sockets, 0, `z9hG4bKmock${k.nextId()}`));
  k.serError.ser = E_OK;
  return ok;
}

/**
 * Relays ctx as a new branch of its transaction (t_fwd.c add_uac): the armed
 * branch route runs first, then the next hop is resolved. Returns 1 or the
 * E_* code of the failure.
 */
function relayBranch(k: Engine, ctx: MsgContext, tx: Transaction): number {
  let branchCtx = ctx;
  const branchRoute = ctx.armed.branch;
  if (branchRoute !== null) {
    branchCtx = ctx.fork('branch', ctx.rec);
    const res = k.runner.run(branchRoute, branchCtx, true);
    // A drop in a branch route discards that branch only (tm: "drop" in branch_route).
    if (res && (res.end === 'drop' || branchCtx.drop)) return E_CFG;
  }
  if (!resolvable(k, destinationOf(branchCtx.dstUri ?? branchCtx.ruri).host)) return E_BAD_ADDRESS;
  const relay = buildRelay(branchCtx, k.sockets, tx.branches.length, `z9hG4bKmock${k.nextId()}`);
  ctx.rec.relays.push(relay);
  tx.branches.push({ relay, replies: [], final: null });
  return 1;
}

/** Adds a branch to the transaction; the branch route is used once per t_relay and must be armed again. */
function forward(k: Engine, ctx: MsgContext, tx: Transaction): number {
  tx.armed = { ...ctx.armed };
  const ret = relayBranch(k, ctx, tx);
  ctx.armed.branch = null;
  tx.armed.branch = null;
  k.serError.ser = ret < 0 ? ret : E_OK;
  return ret;
}

/** tm t_relay, with the return codes listed at the top of this file. */
export function tRelay(k: Engine, ctx: MsgContext): number {
  if (ctx.route === 'failure') {
    if (!ctx.tx) return -1;
    // t_forward_nonack failed: tm_error keeps the code, the script sees -1
    return forward(k, ctx, ctx.tx) < 0 ? -1 : 1;
  }
  if (ctx.route !== 'request') {
    k.log('CRITICAL', `t_relay: unsupported route type (${ctx.route})`);
    return 0;
  }
  const method = ctx.msg.method.toUpperCase();
  if (method === 'CANCEL') return relayCancel(k, ctx);
  // t_newtran: a retransmission, or an ACK to a negative or local reply, is absorbed (0 -> t_relay 1)
  if (!ctx.tx && k.transactions.lookupRequest(ctx.msg)) return 1;
  // an ACK that matches nothing (e.g. the e2e ACK to a relayed 2xx) creates no transaction
  if (method === 'ACK') return forwardStateless(k, ctx, 1);
  const ret = forward(k, ctx, ensureTransaction(k, ctx));
  if (ret < 0) {
    ctx.tmError = ret;
    ctx.tmKr.add('errDelayed');
    return ret;
  }
  ctx.tmKr.add('forwarded');
  return 1;
}

/**
 * tm's post-script callback (t_lookup.c t_unref): with kr == REQ_ERR_DELAYED
 * alone, the failed t_relay's error is answered statefully now, after any
 * stateless reply the script sent (sl_reply_error does not stop it).
 */
export function afterRequestScript(ctx: MsgContext): void {
  if (!ctx.tx || ctx.tx.request !== ctx) return;
  if (ctx.tmKr.size !== 1 || !ctx.tmKr.has('errDelayed') || ctx.tx.finalSent) return;
  const { code, reason } = err2reason(ctx.tmError, 'TM');
  recordReply(ctx, code, reason, [], 'tm');
}

/** CANCEL matching an INVITE transaction cancels its pending branches; otherwise it is forwarded statelessly. */
function relayCancel(k: Engine, ctx: MsgContext): number {
  const invite = k.transactions.find(ctx.msg, 'INVITE');
  // t_fwd.c t_forward_cancel (unmatched_cancel=0): forward_request's own result, 0 on success
  if (!invite) return forwardStateless(k, ctx, E_OK);
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
