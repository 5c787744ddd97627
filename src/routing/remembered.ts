/**
 * A pure function of a string, worked out once per process and kept, for the
 * questions every message asks about text that repeats: the scanner verdict
 * on a User-Agent, the parts of a next hop. Duktape runs a regular expression
 * or a handful of indexOf calls at the cost of ten or more KSR calls (README,
 * "Where the time goes", 6); a lookup in a kept answer costs a fraction of
 * one.
 *
 * Bounded so that a sender making up new text for every request costs memory
 * it cannot grow: only keys up to KEY_MAX characters are kept, at most KEPT
 * of them, all forgotten when full. A prototype-free object, so that text
 * such as "__proto__" or "constructor" is a key like any other.
 */
const KEPT = 256;
const KEY_MAX = 128;

export function remembered<T>(compute: (key: string) => T): (key: string) => T {
  let answers: Record<string, T> = Object.create(null) as Record<string, T>;
  let kept = 0;
  return function remember(key: string): T {
    const known = answers[key];
    if (known !== undefined) return known;
    const answer = compute(key);
    if (key.length <= KEY_MAX) {
      if (kept === KEPT) {
        answers = Object.create(null) as Record<string, T>;
        kept = 0;
      }
      answers[key] = answer;
      kept++;
    }
    return answer;
  };
}
