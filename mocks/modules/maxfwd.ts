/**
 * KSR.maxfwd (maxfwd.c process_maxfwd_header): 2 header added, 1 decremented,
 * -1 it was 0 (reply 483), -2 error: a value str2s() cannot read (a
 * character that is no digit, more than 5 digits). str2s() reads an empty
 * value as 0 and lets 5-digit values wrap at 65536 (an unsigned short), so
 * both can be 0 too. max_limit defaults to 70.
 */
import { defineModule } from './define.ts';

const MAX_LIMIT = 70;

export default defineModule('maxfwd', (k) => ({
  process_maxfwd(limit: number): number {
    if (limit < 0 || limit > 255) return -1;
    const ctx = k.ctx;
    const h = ctx.msg.all('Max-Forwards')[0];
    if (!h) {
      ctx.lumps.inserted.push({ name: 'Max-Forwards', value: String(limit) });
      return 2;
    }
    const v = h.value.trim();
    // mf_funcs.c is_maxfwd_present: str2s() (core/ut.h) into an unsigned short.
    if (!/^\d{0,5}$/.test(v)) return -2;
    const n = Number(v) % 65536;
    if (n === 0) return -1;
    // decrement_maxfwd rewrites the received buffer in place, so $hdr sees the new value.
    h.value = String(Math.min(n, MAX_LIMIT + 1) - 1);
    return 1;
  },
  is_maxfwd_lt(limit: number): number {
    const h = k.ctx.msg.get('Max-Forwards');
    if (h === undefined) return -2;
    return Number(h.trim()) < limit ? 1 : -1;
  },
}));
