/**
 * KSR.maxfwd (maxfwd.c process_maxfwd_header): 2 header added, 1 decremented,
 * -1 it was 0 (reply 483), -2 error: a value str2s() cannot read (not
 * digits, or above 65535). max_limit defaults to 70.
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
    if (!/^\d+$/.test(v)) return -2;
    const n = Number(v);
    // mf_funcs.c is_maxfwd_present: str2s() reads an unsigned short.
    if (n > 65535) return -2;
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
