/**
 * KSR.htable subset on tables declared in kamailio.cfg (others throw, see
 * state/htable.ts). sht_get returns null for a missing key (the initval
 * when the table has one); sht_inc/sht_dec need an integer item or an
 * integer initval; sht_match_name supports the "eq", "sw" and "re"
 * operators of the htable doc.
 */
import { defineModule, rc } from './define.ts';

/** htable.c ki_ht_add_op: KSR_HT_KEMI_NOINTVAL when there is no integer to add to. */
const NO_INT_VALUE = -255;

export default defineModule('htable', (k) => {
  const t = k.htables;
  /**
   * ht_api.c ht_cell_value_add: adds to an integer item (refreshing its
   * expire, updateexpire=1) and returns the new value. A missing or expired
   * item starts from the table's integer initval; without one (or on a
   * string item) nothing is created and the result is -255.
   */
  const add = (table: string, key: string, delta: number): number => {
    const current = t.get(table, key);
    if (typeof current !== 'number') return NO_INT_VALUE;
    const v = current + delta;
    t.set(table, key, v);
    return v;
  };
  return {
    sht_get: (table: string, key: string): string | number | null => t.get(table, key),
    sht_gete: (table: string, key: string): string | number => t.get(table, key) ?? '',
    sht_getw: (table: string, key: string): string | number => t.get(table, key) ?? '<null>',
    sht_sets(table: string, key: string, value: string): number {
      t.set(table, key, value);
      return 1;
    },
    sht_seti(table: string, key: string, value: number): number {
      t.set(table, key, value);
      return 1;
    },
    sht_setex: (table: string, key: string, seconds: number): number => rc(t.setExpire(table, key, seconds)),
    sht_setxi(table: string, key: string, value: number, expire: number): number {
      t.set(table, key, value, expire);
      return 1;
    },
    sht_setxs(table: string, key: string, value: string, expire: number): number {
      t.set(table, key, value, expire);
      return 1;
    },
    sht_rm: (table: string, key: string): number => rc(t.remove(table, key)),
    sht_is_null: (table: string, key: string): number => rc(t.get(table, key) === null),
    sht_inc: (table: string, key: string): number => add(table, key, 1),
    sht_dec: (table: string, key: string): number => add(table, key, -1),
    sht_reset(table: string): number {
      t.reset(table);
      return 1;
    },
    sht_match_name(table: string, op: string, value: string): number {
      const keys = t.keys(table);
      if (op === 'eq') return rc(keys.includes(value));
      if (op === 'sw') return rc(keys.some((key) => key.startsWith(value)));
      if (op === 're') return rc(keys.some((key) => new RegExp(value).test(key)));
      throw new Error(`mock KSR: sht_match_name operator "${op}" is not modelled`);
    },
  };
});
