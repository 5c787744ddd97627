/**
 * KSR.tm subset. Return codes follow tm.c: t_check_trans 1 found (reply,
 * CANCEL, e2e ACK), 0 retransmission or ACK to a negative reply (stop the
 * script), -1 not found; t_newtran 0 for a retransmission.
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
  const retransmission = (): boolean => {
    const ctx = k.ctx;
    const tx = k.transactions.find(ctx.msg, ctx.msg.method.toUpperCase());
    return tx !== undefined && tx.request !== ctx;
  };
  return {
    t_relay: (): number => tRelay(k, k.ctx),
    t_on_failure: arm('failure'),
    t_on_reply: arm('onreply'),
    t_on_branch: arm('branch'),
    t_on_branch_failure: arm('branchFailure'),
    t_check_trans(): number {
      const ctx = k.ctx;
      if (ctx.route !== 'request') return 1;
      const method = ctx.msg.method.toUpperCase();
      if (method === 'CANCEL') return rc(k.transactions.find(ctx.msg, 'INVITE') !== undefined);
      if (method === 'ACK') {
        // hop-by-hop ACK (same branch as the INVITE) to a negative reply is absorbed: 0.
        const inv = k.transactions.find(ctx.msg, 'INVITE');
        return inv && inv.uasStatus >= 300 ? 0 : -1;
      }
      return retransmission() ? 0 : -1;
    },
    t_newtran(): number {
      if (retransmission()) return 0;
      ensureTransaction(k, k.ctx);
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
    t_get_status_code(): number {
      const ctx = k.ctx;
      if (ctx.route === 'failure' && ctx.reply?.start.kind === 'reply') return ctx.reply.start.status;
      if (ctx.msg.start.kind === 'reply') return ctx.msg.start.status;
      return ctx.tx ? ctx.tx.uasStatus : -1;
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
    t_release: (): number => 1,
  };
});
