/**
 * KSR.rtpengine (rtpengine.c 5.6.3): every call is recorded with its flags
 * and the route it ran in; SDP is not rewritten (the daemon does that).
 *
 * Results, as the module computes them:
 * - rtpengine_manage picks the operation from the message
 *   (rtpengine_manage()): BYE/CANCEL and replies >= 300 delete; an INVITE
 *   or UPDATE with SDP offers (an INVITE in a failure route deletes); an
 *   ACK/PRACK with SDP and a reply with SDP answer. It parses the SDP itself
 *   first (core parse_sdp): a body without v=, o=, an m= line and a c= for
 *   every m= makes it return -1 without asking rtpengine; so does any other
 *   method, or a message without SDP.
 * - offer/answer send the body as it is; rtpengine's own parser refuses an
 *   unusable one (an error answer: -1).
 * - The daemon's state (Kamailio.rtpengine.setState, mocks/state/rtpengine.ts)
 *   decides the rest: 'down' fails every command, 'refusing' every offer
 *   and answer.
 * - modparam rtp_inst_pvar: set to the node's URL (rtpengine_sock) whenever
 *   a node answered, even with an error (set_rtp_inst_pvar() right after the
 *   reply arrives); left alone when none did.
 */
import { modparam } from '../config/cfg.ts';
import { writePv } from '../pv/write.ts';
import type { MsgContext } from '../runtime/context.ts';
import { defineModule } from './define.ts';

type Operation = 'offer' | 'answer' | 'delete' | 'query' | 'none';

/** The checks of core/parser/sdp/sdp.c parse_sdp_session() a body must pass. */
export function kamailioParsesSdp(body: string): boolean {
  const lines = body.split(/\r?\n/);
  const v = lines.findIndex((l) => l.startsWith('v='));
  const o = lines.findIndex((l, i) => i > v && l.startsWith('o='));
  if (v < 0 || o < 0 || !/^o=\S+ \S+ \S+ IN IP[46] \S+/.test(lines[o]!)) return false;
  const media = lines.map((l, i) => (i > o && l.startsWith('m=') ? i : -1)).filter((i) => i >= 0);
  if (media.length === 0) return false;
  const sessionC = lines.slice(o, media[0]).some((l) => l.startsWith('c='));
  return media.every((m, n) => {
    const section = lines.slice(m, media[n + 1] ?? lines.length);
    return /^m=\S+ \S+ \S+/.test(lines[m]!) && (sessionC || section.some((l) => l.startsWith('c=')));
  });
}

function hasSdp(ctx: MsgContext): boolean {
  return /^application\/sdp\b/i.test(ctx.msg.get('Content-Type')?.trim() ?? '') && kamailioParsesSdp(ctx.msg.body);
}

/** rtpengine_manage(): which command it sends, if any. */
function manageOperation(ctx: MsgContext): Operation {
  const cseqMethod = (ctx.msg.cseq?.method ?? '').toUpperCase();
  if (!['INVITE', 'ACK', 'CANCEL', 'BYE', 'UPDATE', 'PRACK'].includes(cseqMethod)) return 'none';
  if (cseqMethod === 'CANCEL' || cseqMethod === 'BYE') return 'delete';
  const sdp = hasSdp(ctx);
  if (ctx.msg.start.kind === 'request') {
    if ((cseqMethod === 'ACK' || cseqMethod === 'PRACK') && sdp) return 'answer';
    if (cseqMethod === 'UPDATE' && sdp) return 'offer';
    if (cseqMethod === 'INVITE' && sdp) return ctx.route === 'failure' ? 'delete' : 'offer';
    return 'none';
  }
  if (ctx.msg.start.status >= 300) return 'delete';
  return sdp ? 'answer' : 'none';
}

export default defineModule('rtpengine', (k) => {
  /** The command reaches rtpengine: its answer, as the module's return code. */
  const command = (ctx: MsgContext, op: Operation): number => {
    if (op === 'none') return -1;
    const state = k.rtpengine.state;
    if (state === 'down') return -1;
    const instancePv = modparam(k.cfg, 'rtpengine', 'rtp_inst_pvar');
    if (instancePv !== undefined) writePv(k, ctx, instancePv, modparam(k.cfg, 'rtpengine', 'rtpengine_sock') ?? 'udp:127.0.0.1:2223');
    if (op === 'delete' || op === 'query') return 1;
    if (state === 'refusing') return -1;
    // rtpengine's own SDP parser (offer/answer send the body unparsed).
    return kamailioParsesSdp(ctx.msg.body) ? 1 : -1;
  };

  const record = (fn: string, flags: string, op: (ctx: MsgContext) => Operation): number => {
    const ctx = k.ctx;
    ctx.rec.rtpengine.push({
      fn,
      flags,
      route: ctx.route,
      method: ctx.msg.method,
      status: ctx.msg.start.kind === 'reply' ? ctx.msg.start.status : null,
    });
    return command(ctx, op(ctx));
  };
  const direct = (operation: Operation) => (ctx: MsgContext): Operation =>
    (operation === 'offer' || operation === 'answer') && ctx.msg.body === '' ? 'none' : operation;

  return {
    rtpengine_manage: (flags: string): number => record('rtpengine_manage', flags, manageOperation),
    rtpengine_manage0: (): number => record('rtpengine_manage', '', manageOperation),
    rtpengine_offer: (flags: string): number => record('rtpengine_offer', flags, direct('offer')),
    rtpengine_offer0: (): number => record('rtpengine_offer', '', direct('offer')),
    rtpengine_answer: (flags: string): number => record('rtpengine_answer', flags, direct('answer')),
    rtpengine_answer0: (): number => record('rtpengine_answer', '', direct('answer')),
    rtpengine_delete: (flags: string): number => record('rtpengine_delete', flags, direct('delete')),
    rtpengine_delete0: (): number => record('rtpengine_delete', '', direct('delete')),
    rtpengine_query: (flags: string): number => record('rtpengine_query', flags, direct('query')),
    rtpengine_query0: (): number => record('rtpengine_query', '', direct('query')),
    set_rtpengine_set: (set: number): number => {
      record('set_rtpengine_set', String(set), () => 'none');
      // A set id configured in rtpengine_sock (only the default set 0 here).
      return 1;
    },
  };
});
