/**
 * htable module storage: only tables declared with modparam("htable",
 * "htable", ...) in kamailio.cfg exist; autoexpire is measured on the mock
 * clock and refreshed on every write, like htable's per-item expire.
 */
import type { HtableSpec } from '../config/cfg.ts';
import type { Clock } from '../runtime/clock.ts';

interface Item {
  value: string | number;
  /** Expiry in ms on the mock clock, or null for never. */
  expires: number | null;
}

export class Htables {
  private readonly data = new Map<string, Map<string, Item>>();

  constructor(
    private readonly specs: ReadonlyMap<string, HtableSpec>,
    private readonly clock: Clock,
  ) {
    for (const name of specs.keys()) this.data.set(name, new Map());
  }

  private table(name: string): Map<string, Item> {
    const t = this.data.get(name);
    // htable only logs "not found" and returns an error; the mock makes the typo fail the test.
    if (!t) throw new Error(`mock KSR: htable "${name}" is not declared in kamailio.cfg`);
    this.expire(t);
    return t;
  }

  private expire(t: Map<string, Item>): void {
    const now = this.clock.now();
    for (const [k, item] of t) if (item.expires !== null && item.expires <= now) t.delete(k);
  }

  get(name: string, key: string): string | number | null {
    const item = this.table(name).get(key);
    if (item) return item.value;
    return this.specs.get(name)?.initval ?? null;
  }

  set(name: string, key: string, value: string | number, expireSeconds?: number): void {
    const t = this.table(name);
    const secs = expireSeconds ?? this.specs.get(name)?.autoexpire ?? 0;
    t.set(key, { value, expires: secs > 0 ? this.clock.now() + secs * 1000 : null });
  }

  /** Sets a new expire on an existing item (sht_setex). */
  setExpire(name: string, key: string, seconds: number): boolean {
    const item = this.table(name).get(key);
    if (!item) return false;
    item.expires = seconds > 0 ? this.clock.now() + seconds * 1000 : null;
    return true;
  }

  remove(name: string, key: string): boolean {
    return this.table(name).delete(key);
  }

  keys(name: string): string[] {
    return [...this.table(name).keys()];
  }

  reset(name: string): void {
    this.table(name).clear();
  }
}
