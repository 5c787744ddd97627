/**
 * The same predicate called through the raw KSR global and through the typed
 * facade, compiled by the project's pipeline (esbuild + swc), so Duktape runs
 * exactly the code shape the routing ships.
 */
import * as siputils from '../../src/ksr/generated/siputils';

declare const KSR: { readonly siputils: { has_totag(): number } };

export function ksr_bench_raw(iterations: number): number {
  let hits = 0;
  for (let i = 0; i < iterations; i++) {
    if (KSR.siputils.has_totag() > 0) hits++;
  }
  return hits;
}

export function ksr_bench_facade(iterations: number): number {
  let hits = 0;
  for (let i = 0; i < iterations; i++) {
    if (siputils.has_totag()) hits++;
  }
  return hits;
}
