/**
 * Free pkg-memory fragments of the sizes a SIP message needs, made once per
 * Kamailio process, on the first message it routes (README "Where the time
 * goes", 5).
 *
 * Why: Kamailio's default private-memory allocator (q_malloc) keeps free
 * fragments in size buckets, 8 bytes apart up to 16 KiB (2099 buckets in
 * Debian's build), and qm_find_free() walks them upward from the requested
 * size to the first bucket holding a fragment that fits. Whatever a request
 * allocates is freed at its end and joined back (mem_join) into what
 * surrounds it. In a native cfg worker, the cfg parser left small free
 * fragments between the structures it kept (17 in a worker of the native
 * twin, most of 1.8-3.7 KiB), so an allocation finds one a few hundred
 * buckets up. An app_jsdt worker has none: Duktape's heap is libc malloc, not
 * pkg, so the worker's pkg memory is its permanent structures and ONE big
 * free fragment at the top, in the last bucket, and every pkg_malloc of the
 * SIP parser, tm, sl, auth... (about 25 per challenged REGISTER) walks some
 * 2050 empty buckets: 25-80 µs more Kamailio CPU per request than native
 * (bench:probe).
 *
 * What: $var values are pkg memory of this process. Setting $var(name_i) to a
 * string of SIZE_i - 1 characters allocates, in order, name_i's pv-cache
 * entry and variable (kept for the life of the process) and then its SIZE_i
 * byte value, taken from the top fragment: the values end up in a row, each
 * between two kept structures. Setting them back to an integer frees the
 * values; their neighbours are in use, so they stay free fragments of exactly
 * SIZE_i bytes (64 B to 4 KiB, one every 64 B: 133 KiB that stays free,
 * about 40 KiB kept). An allocation then finds a fragment within 8 buckets,
 * and what it takes is joined back into the same fragment when freed: the
 * number of fragments does not grow (test/engine/pkg-fragments.test.ts).
 *
 * Not at load time: the bundle's top level runs in child_init with no SIP
 * message, where app_jsdt refuses every KSR call. A reload runs this again on
 * the next message: the variables exist, so each value lands in its own
 * fragment and is freed back into it; nothing is added.
 */
import * as pv from './generated/pv';

/** Fragment sizes: STEP, 2 STEP, ... COUNT STEP bytes (q_malloc rounds to 8). */
const STEP = 64;
const COUNT = 64;
const VARIABLE = '$var(ksr_pkg_free_';

let prepared = false;

/** Once per process: the first call does the work, later calls return at once. */
export function preparePkgFragments(): void {
  if (prepared) return;
  prepared = true;
  // The value's buffer is its length + 1 (Kamailio adds a '\0').
  const filler = new Array(STEP * COUNT).join('x');
  for (let i = 1; i <= COUNT; i++) pv.sets(VARIABLE + i + ')', filler.substring(0, STEP * i - 1));
  // One more kept structure after the last value, else it would join the top fragment.
  pv.seti(VARIABLE + 'end)', 0);
  for (let i = 1; i <= COUNT; i++) pv.seti(VARIABLE + i + ')', 0);
}
