/**
 * usrloc "location" table: bindings per AoR with expiry on the mock clock.
 * Only the in-memory table named "location" exists (the contract preloads it).
 */
import type { Binding } from '../runtime/outcome.ts';
import type { Clock } from '../runtime/clock.ts';

interface Stored extends Binding {
  /** Absolute expiry, ms on the mock clock. */
  until: number;
}

export class Location {
  private readonly byAor = new Map<string, Stored[]>();

  constructor(private readonly clock: Clock) {}

  static table(name: string): void {
    if (name !== 'location') throw new Error(`mock KSR: usrloc table "${name}" is not modelled (only "location")`);
  }

  /** Live bindings of an AoR, newest first: usrloc orders them so with desc_time_order 1 (kamailio.cfg), inserted or updated. */
  lookup(aor: string): Binding[] {
    const now = this.clock.now();
    const live = (this.byAor.get(aor) ?? []).filter((b) => b.until > now);
    this.byAor.set(aor, live);
    return [...live].reverse().map((b) => ({ ...b, expires: Math.max(0, Math.round((b.until - now) / 1000)) }));
  }

  /** Inserts or refreshes a binding (same contact URI); expires 0 removes it. Returns what happened. */
  upsert(b: Binding): 'inserted' | 'updated' | 'deleted' | 'none' {
    const list = (this.byAor.get(b.aor) ?? []).filter((x) => x.until > this.clock.now());
    const idx = list.findIndex((x) => sameContact(x.contact, b.contact));
    if (b.expires === 0) {
      if (idx < 0) return 'none';
      list.splice(idx, 1);
      this.byAor.set(b.aor, list);
      return 'deleted';
    }
    const stored: Stored = { ...b, until: this.clock.now() + b.expires * 1000 };
    if (idx >= 0) list.splice(idx, 1);
    list.push(stored);
    this.byAor.set(b.aor, list);
    return idx >= 0 ? 'updated' : 'inserted';
  }

  removeAll(aor: string): boolean {
    const had = (this.byAor.get(aor) ?? []).length > 0;
    this.byAor.delete(aor);
    return had;
  }
}

function sameContact(a: string, b: string): boolean {
  return a.replace(/^<|>$/g, '') === b.replace(/^<|>$/g, '');
}
