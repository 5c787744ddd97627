/**
 * htable's sht_inc/sht_dec as 5.6.3 does them (ht_api.c ht_cell_value_add,
 * htable.c ki_ht_add_op): an integer initval is needed to create an item,
 * a string item cannot be incremented, and both cases return -255.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_CFG, K, OPTIONS, UDP_CLIENT, inRoute, kam } from './helpers.ts';

/** The fixture cfg with one more table, `counters`, that has an integer initval. */
function cfgWithCounters(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mock-htable-'));
  const path = join(dir, 'kamailio.cfg');
  writeFileSync(path, `${readFileSync(FIXTURE_CFG, 'utf8')}\nmodparam("htable", "htable", "counters=>size=4;autoexpire=60;initval=0;")\n`);
  return path;
}

describe('htable.sht_inc / sht_dec', () => {
  it('create nothing and return -255 in a table without an integer initval', () => {
    expect(inRoute((k) => [k.htable.sht_inc('ipban', 'a'), k.htable.sht_dec('ipban', 'a'), k.htable.sht_get('ipban', 'a')])).toEqual([-255, -255, null]);
  });

  it('return -255 for a string item and leave it alone', () => {
    expect(inRoute((k) => [k.htable.sht_sets('ipban', 'a', '5'), k.htable.sht_inc('ipban', 'a'), k.htable.sht_get('ipban', 'a')])).toEqual([1, -255, '5']);
  });

  it('add to an integer item and return the new value', () => {
    expect(inRoute((k) => [k.htable.sht_seti('ipban', 'a', 5), k.htable.sht_inc('ipban', 'a'), k.htable.sht_dec('ipban', 'a'), k.htable.sht_dec('ipban', 'a')])).toEqual([1, 6, 5, 4]);
  });

  it('start a missing or expired item from the integer initval, and restart its expire on every change', () => {
    const seen: unknown[] = [];
    const m = kam({ ksr_request_route: () => { seen.push(K().htable.sht_inc('counters', 'k')); } }, { cfgPath: cfgWithCounters() });
    m.request(OPTIONS, UDP_CLIENT);
    m.clock.advance(50_000);
    m.request(OPTIONS, UDP_CLIENT);
    m.clock.advance(50_000); // 100 s after the first, 50 s after the last change: still there
    m.request(OPTIONS, UDP_CLIENT);
    m.clock.advance(61_000);
    m.request(OPTIONS, UDP_CLIENT);
    expect(seen).toEqual([1, 2, 3, 1]);
  });
});
