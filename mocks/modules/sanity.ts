/**
 * KSR.sanity (sanity.c): a few real checks. On failure the module itself
 * replies (400/416/505...) — except for ACK and when the transaction
 * quadruple is missing — and returns -1. Check bits: 1 R-URI SIP version,
 * 2 R-URI scheme, 4 required headers, 32 CSeq method, 64 CSeq value,
 * 128 Content-Length, 256 Expires value, 512 Proxy-Require (420 with an
 * Unsupported header naming the first extension: no proxy_require modparam,
 * so none is supported), 1024 parse URIs (R-URI/From/To).
 * Other bits are accepted and not checked. default_checks = 3047.
 */
import { parseNameAddr, parseUri } from '../sip/uri.ts';
import type { MsgContext } from '../runtime/context.ts';
import { recordReply } from '../runtime/send.ts';
import { defineModule } from './define.ts';

const DEFAULT_CHECKS = 3047;

type Failure = { code: number; reason: string; headers?: Array<{ name: string; value: string }> } | 'noreply';

function check(ctx: MsgContext, checks: number): Failure | null {
  const msg = ctx.msg;
  if (!msg.isRequest || msg.start.kind !== 'request') return null;
  if (checks & 4) {
    // check_transaction_quadruple failing marks FL_MSG_NOREPLY: no reply at all.
    if (!msg.has('From') || !msg.has('To') || !msg.has('Call-ID') || !msg.has('CSeq')) return 'noreply';
    for (const name of ['From', 'To', 'Call-ID', 'CSeq']) {
      if (msg.all(name).length > 1) return { code: 400, reason: `Duplicate ${name === 'Call-ID' ? 'Call-Id' : name} Header` };
    }
  }
  if (checks & 1 && msg.start.version !== 'SIP/2.0') return { code: 505, reason: 'Version Not Supported (R-URI)' };
  if (checks & 2) {
    const u = parseUri(msg.start.uri);
    if (!u) return { code: 400, reason: 'Bad Request URI' };
    if (!['sip', 'sips', 'tel'].includes(u.scheme)) return { code: 416, reason: 'Unsupported URI Scheme in Request URI' };
  }
  if (checks & (32 | 64)) {
    const cseq = msg.cseq;
    if (!cseq) return 'noreply';
    if (checks & 32) {
      if (cseq.method === '') return { code: 400, reason: 'Missing method in CSeq header' };
      if (cseq.method !== msg.start.method) return { code: 400, reason: 'CSeq method does not match request method' };
    }
    if (checks & 64) {
      if (cseq.num === '') return { code: 400, reason: 'Missing number in CSeq header' };
      if (!/^\d{1,10}$/.test(cseq.num) || Number(cseq.num) > 4294967295) return { code: 400, reason: 'CSeq number is illegal' };
    }
  }
  if (checks & 128) {
    const cl = msg.get('Content-Length');
    if (cl !== undefined) {
      if (!/^\s*\d+\s*$/.test(cl)) return { code: 400, reason: 'Content-Length Failure' };
      if (Number(cl) !== Buffer.byteLength(msg.body)) return { code: 400, reason: 'Content-Length mis-match' };
    }
  }
  if (checks & 256) {
    const ex = msg.get('Expires');
    if (ex !== undefined && !/^\s*\d+\s*$/.test(ex)) return { code: 400, reason: 'Bad Expires Header' };
  }
  if (checks & 512) {
    const required = msg.all('Proxy-Require').flatMap((h) => h.value.split(',')).map((t) => t.trim()).filter((t) => t !== '');
    if (required.length > 0) return { code: 420, reason: 'Bad Proxy Require Extension', headers: [{ name: 'Unsupported', value: required[0]! }] };
  }
  if (checks & 1024) {
    if (!parseUri(msg.start.uri)) return { code: 400, reason: 'Bad Request URI' };
    if (!parseUri(parseNameAddr(msg.get('From') ?? '')?.uri ?? '')) return { code: 400, reason: 'Bad From URI' };
    if (!parseUri(parseNameAddr(msg.get('To') ?? '')?.uri ?? '')) return { code: 400, reason: 'Bad To URI' };
  }
  return null;
}

export default defineModule('sanity', (k) => {
  const run = (checks: number): number => {
    const ctx = k.ctx;
    const failed = check(ctx, checks);
    if (failed === null) return 1;
    // sanity_reply(): no reply to ACKs (nor when the quadruple is missing)
    if (failed !== 'noreply' && ctx.msg.method.toUpperCase() !== 'ACK') {
      recordReply(ctx, failed.code, failed.reason, failed.headers ?? [], 'sl');
    }
    return -1;
  };
  return {
    sanity_check(msgChecks: number, uriChecks: number): number {
      // w_sanity_check: out-of-range check masks log an error and fail.
      if (msgChecks < 1 || msgChecks >= 1 << 15 || uriChecks < 1 || uriChecks >= 16) return -1;
      return run(msgChecks);
    },
    sanity_check_defaults: (): number => run(DEFAULT_CHECKS),
  };
});
