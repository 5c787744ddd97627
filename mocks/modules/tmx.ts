/** KSR.tmx subset: route-type tests and t_precheck_trans. */
import { defineModule, rc } from './define.ts';

export default defineModule('tmx', (k) => ({
  // tmx t_precheck_trans: true when another process is handling the same request right
  // now; the mock runs one message at a time, so that never happens (ACK/CANCEL: false too).
  t_precheck_trans: (): number => -1,
  t_is_request_route: (): number => rc(k.ctx.route === 'request'),
  t_is_reply_route: (): number => rc(k.ctx.route === 'onreply'),
  t_is_failure_route: (): number => rc(k.ctx.route === 'failure'),
  t_is_branch_route: (): number => rc(k.ctx.route === 'branch'),
}));
