/** KSR.tmx subset: route-type tests and t_precheck_trans. */
import { nameAddrParam, parseNameAddr } from '../sip/uri.ts';
import { defineModule, rc } from './define.ts';

export default defineModule('tmx', (k) => ({
  /**
   * tmx_mod.c t_precheck_trans over tmx_pretran.c tmx_check_pretran: 1 when
   * another worker is processing the same request right now (same Call-ID,
   * From tag, CSeq and Via branch in the shared pre-transaction table), -1
   * when none is, -2 on "error": outside request_route, for ACK and CANCEL
   * (no pre-transaction management), without a From tag, Call-ID or CSeq.
   * One mock instance is one worker; a test says a copy is in flight in
   * another worker with request(..., { inFlightElsewhere: true }).
   */
  t_precheck_trans(): number {
    const ctx = k.ctx;
    const msg = ctx.msg;
    if (ctx.route !== 'request' || !msg.isRequest) return -2;
    const cseqMethod = msg.cseq?.method.toUpperCase();
    if (cseqMethod === undefined || cseqMethod === 'ACK' || cseqMethod === 'CANCEL') return -2;
    const from = parseNameAddr(msg.get('From') ?? '');
    const ftag = from ? nameAddrParam(from, 'tag') : undefined;
    if (typeof ftag !== 'string' || ftag === '' || !msg.has('Call-ID') || !msg.has('Via')) return -2;
    return ctx.inFlightElsewhere ? 1 : -1;
  },
  t_is_request_route: (): number => rc(k.ctx.route === 'request'),
  t_is_reply_route: (): number => rc(k.ctx.route === 'onreply'),
  t_is_failure_route: (): number => rc(k.ctx.route === 'failure'),
  t_is_branch_route: (): number => rc(k.ctx.route === 'branch'),
}));
