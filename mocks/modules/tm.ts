/**
 * KSR.tm subset. Return codes follow tm.c t_check_trans: 1 in failure,
 * branch and onreply routes, for a reply or a matched CANCEL, and for an
 * e2e ACK that t_lookup_request matched (-2: only with E2EACK callbacks,
 * which no modelled module installs, so the e2e ACK to a relayed 2xx gets
 * -1); 0 for a retransmission, an ACK to a negative or local reply, or a
 * message whose transaction already exists (stop the script); -1 not found.
 * t_newtran: 0 retransmission, 1 new (an ACK creates no transaction),
 * -10 (E_SCRIPT) when the message already has one.
 * t_relay: see runtime/tm-core.ts.
 */
import { recordReply } from '../runtime/send.ts';
import { ensureTransaction, tRelay } from '../runtime/tm-core.ts';
import type { Armed } from '../runtime/context.ts';
import { defineModule, rc } from './define.ts';

export default defineModule('tm', (k) => {
  const arm = (slot: keyof Armed) => (name: string): number => {
    // tm/app_jsdt do not validate the name: a typo silently never runs. The mock fails instead.
    if (name !== '' && !k.runner.hasFunction(name)) {
      throw new Error(`mock KSR: t_on_* callback "${name}" is not a function exported by the routing module`);
    }
    const ctx = k.ctx;
    ctx.armed[slot] = name === '' ? null : name;
    if (ctx.tx && ctx.route === 'request') ctx.tx.armed[slot] = ctx.armed[slot];
    return 1;
  };
  return {
    t_relay: (): number => tRelay(k, k.ctx),
    t_on_failure: arm('failure'),
    t_on_reply: arm('onreply'),
    t_on_branch: arm('branch'),
    t_on_branch_failure: arm('branchFailure'),
    t_check_trans(): number {
      const ctx = k.ctx;
      // already processing a transaction
      if (ctx.route === 'failure' || ctx.route === 'branch' || ctx.route === 'onreply') return 1;
      // a reply: found when it matched a branch (t_reply_matching); a stray one has no transaction
      if (!ctx.msg.isRequest) return rc(ctx.tx !== null);
      if (ctx.msg.method.toUpperCase() === 'CANCEL') return rc(k.transactions.find(ctx.msg, 'INVITE') !== undefined);
      // t_check_msg: T already set for this message (t_newtran/t_relay ran) counts as found
      if (ctx.tx && ctx.tx.request === ctx) return 0;
      return k.transactions.lookupRequest(ctx.msg) ? 0 : -1;
    },
    t_newtran(): number {
      const ctx = k.ctx;
      // t_lookup.c t_newtran: E_SCRIPT (-10) when this message already has its transaction
      if (ctx.tx) return -10;
      if (k.transactions.lookupRequest(ctx.msg)) return 0;
      // t_lookup.c t_newtran: "transaction not found ... unless it is an ACK"
      if (ctx.msg.method.toUpperCase() === 'ACK') return 1;
      ensureTransaction(k, ctx);
      return 1;
    },
    t_reply(code: number, reason: string): number {
      const ctx = k.ctx;
      if (!ctx.tx) {
        // tm: "cannot send a t_reply to a message for which no T-state has been established"
        k.log('ERROR', 't_reply(): no transaction (call t_newtran first)');
        return -1;
      }
      recordReply(ctx, code, reason, [], 'tm');
      return 1;
    },
    t_send_reply(code: number, reason: string): number {
      ensureTransaction(k, k.ctx);
      recordReply(k.ctx, code, reason, [], 'tm');
      return 1;
    },
    t_is_set(target: string): number {
      const slot: Record<string, keyof Armed> = { branch_route: 'branch', onreply_route: 'onreply', failure_route: 'failure', branch_failure_route: 'branchFailure' };
      const s = slot[target];
      if (!s) throw new Error(`mock KSR: t_is_set("${target}"): unknown route type`);
      const armed = k.ctx.tx?.armed[s] ?? k.ctx.armed[s];
      return rc(armed !== null);
    },
    t_is_canceled: (): number => rc(k.ctx.tx?.canceled ?? false),
    // tm_mod.c t_branch_replied: in a failure route, whether the failed branch
    // received any reply (uac last_received, a 100 included); -1 elsewhere.
    t_branch_replied: (): number => rc(k.ctx.route === 'failure' && k.ctx.failedBranchReplied),
    t_get_status_code(): number {
      const ctx = k.ctx;
      if (ctx.route === 'failure' && ctx.reply?.start.kind === 'reply') return ctx.reply.start.status;
      if (ctx.msg.start.kind === 'reply') return ctx.msg.start.status;
      // tm.c ki_t_get_status_code: no reply sent yet (status 0) gives -1 too
      return ctx.tx && ctx.tx.uasStatus !== 0 ? ctx.tx.uasStatus : -1;
    },
    t_check_status(re: string): number {
      const code = String(k.ctx.reply?.start.kind === 'reply' ? k.ctx.reply.start.status : k.ctx.msg.start.kind === 'reply' ? k.ctx.msg.start.status : k.ctx.tx?.uasStatus ?? 0);
      return rc(new RegExp(re).test(code));
    },
    t_set_fr(inv: number, noninv: number): number {
      const tx = ensureTransaction(k, k.ctx);
      tx.timers['fr_inv'] = inv;
      tx.timers['fr'] = noninv;
      return 1;
    },
    t_set_fr_inv(inv: number): number {
      ensureTransaction(k, k.ctx).timers['fr_inv'] = inv;
      return 1;
    },
    t_release(): number {
      // t_funcs.c t_release_transaction: sets kr REQ_RLSD (no delayed error reply then)
      if (k.ctx.tx) k.ctx.tmKr.add('released');
      return 1;
    },
  };
});
