/**
 * KSR.rtpengine: every call is recorded with its flags and the route it ran
 * in; SDP is not rewritten (the daemon does that). Returns 1 like a reachable
 * rtpengine; manage/offer/answer on a message without SDP return -1 as the
 * module does when there is no body to send.
 */
import type { Engine } from '../runtime/engine.ts';
import { defineModule } from './define.ts';

function record(k: Engine, fn: string, flags: string, needsSdp: boolean): number {
  const ctx = k.ctx;
  ctx.rec.rtpengine.push({
    fn,
    flags,
    route: ctx.route,
    method: ctx.msg.method,
    status: ctx.msg.start.kind === 'reply' ? ctx.msg.start.status : null,
  });
  if (needsSdp && fn !== 'rtpengine_manage' && ctx.msg.body === '') return -1;
  return 1;
}

export default defineModule('rtpengine', (k) => ({
  rtpengine_manage: (flags: string): number => record(k, 'rtpengine_manage', flags, true),
  rtpengine_manage0: (): number => record(k, 'rtpengine_manage', '', true),
  rtpengine_offer: (flags: string): number => record(k, 'rtpengine_offer', flags, true),
  rtpengine_offer0: (): number => record(k, 'rtpengine_offer', '', true),
  rtpengine_answer: (flags: string): number => record(k, 'rtpengine_answer', flags, true),
  rtpengine_answer0: (): number => record(k, 'rtpengine_answer', '', true),
  rtpengine_delete: (flags: string): number => record(k, 'rtpengine_delete', flags, false),
  rtpengine_delete0: (): number => record(k, 'rtpengine_delete', '', false),
  rtpengine_query: (flags: string): number => record(k, 'rtpengine_query', flags, false),
  rtpengine_query0: (): number => record(k, 'rtpengine_query', '', false),
  set_rtpengine_set: (set: number): number => record(k, 'set_rtpengine_set', String(set), false),
}));
