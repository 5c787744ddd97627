/**
 * KSR.pv (core/kemi.c sr_kemi_pv_*): get returns null for an absent value,
 * gete "" and getw "<null>"; sets/seti/unset return booleans.
 */
import { readPv, type PvValue } from '../pv/read.ts';
import { writePv } from '../pv/write.ts';
import { defineModule } from './define.ts';

export default defineModule('pv', (k) => {
  const get = (name: string): PvValue => readPv(k, k.ctx, name);
  return {
    get,
    gete: (name: string): PvValue => get(name) ?? '',
    getw: (name: string): PvValue => get(name) ?? '<null>',
    geti(name: string): number {
      const v = get(name);
      return typeof v === 'number' ? v : v === null ? 0 : Number.parseInt(v, 10) || 0;
    },
    getvs: (name: string, dflt: string): PvValue => get(name) ?? dflt,
    getvn: (name: string, dflt: number): PvValue => get(name) ?? dflt,
    sets(name: string, value: string): boolean {
      writePv(k, k.ctx, name, value);
      return true;
    },
    seti(name: string, value: number): boolean {
      writePv(k, k.ctx, name, value);
      return true;
    },
    unset(name: string): boolean {
      writePv(k, k.ctx, name, null);
      return true;
    },
    is_null: (name: string): boolean => get(name) === null,
  };
});
