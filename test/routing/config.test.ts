/**
 * The names and numbers the routing shares with kamailio.cfg, checked against
 * the cfg itself so the TypeScript and the native half cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CFG } from '../../mocks/index.ts';
import { loadCfg, modparam } from '../../mocks/config/cfg.ts';
import { AUTH_FAIL_TABLE, BAN_TABLE, BRANCH_FLAG, LOCATION_TABLE, RTPENGINE_NODE_AVP, SOCKET } from '../../src/routing/config';
import { ENV } from './scenario.ts';

const cfg = loadCfg(DEFAULT_CFG, ENV);

describe('routing constants match kamailio.cfg', () => {
  it('names every socket the routing sends from, once, with the transport and side the routing assumes', () => {
    const byName = (name: string) => cfg.sockets.filter((s) => s.name === name);
    expect(byName(SOCKET.publicUdp).map((s) => [s.proto, s.port, s.advertise?.host])).toEqual([['udp', 5060, ENV.PUBLIC_IP]]);
    expect(byName(SOCKET.publicTcp).map((s) => [s.proto, s.port, s.advertise?.host])).toEqual([['tcp', 5060, ENV.PUBLIC_IP]]);
    expect(byName(SOCKET.publicTls).map((s) => [s.proto, s.port, s.advertise?.host])).toEqual([['tls', 7777, ENV.PUBLIC_IP]]);
    expect(byName(SOCKET.privateUdp).map((s) => [s.proto, s.port, s.advertise])).toEqual([['udp', 5070, null]]);
    expect(byName(SOCKET.privateTcp).map((s) => [s.proto, s.port, s.advertise])).toEqual([['tcp', 5070, null]]);
  });

  it('uses the branch flags usrloc and nathelper are configured with', () => {
    expect(cfg.defines.get('FLB_NATB')).toBe(String(BRANCH_FLAG.natContact));
    expect(cfg.defines.get('FLB_NATSIPPING')).toBe(String(BRANCH_FLAG.natSipPing));
    expect(modparam(cfg, 'usrloc', 'nat_bflag')).toBe(String(BRANCH_FLAG.natContact));
    expect(modparam(cfg, 'nathelper', 'sipping_bflag')).toBe(String(BRANCH_FLAG.natSipPing));
  });

  it('bans into an htable the cfg declares, with an expiry so bans lift by themselves', () => {
    expect(cfg.htables.get(BAN_TABLE)?.autoexpire).toBeGreaterThan(0);
  });

  it('counts failed authentications in an htable that expires and starts at 0 (sht_inc creates nothing without an integer initval)', () => {
    expect(cfg.htables.get(AUTH_FAIL_TABLE)).toMatchObject({ initval: 0 });
    expect(cfg.htables.get(AUTH_FAIL_TABLE)?.autoexpire).toBeGreaterThan(cfg.htables.get(BAN_TABLE)!.autoexpire);
  });

  it('defines SIP_DOMAIN as bare tokens, so the routing reads the realm without quotes', () => {
    expect(cfg.defines.get('SIP_DOMAIN')).toBe(ENV.SIP_DOMAIN);
  });

  it('reads which rtpengine answered from the AVP the rtpengine module is told to set', () => {
    expect(modparam(cfg, 'rtpengine', 'rtp_inst_pvar')).toBe(RTPENGINE_NODE_AVP);
  });

  it('saves to the location table usrloc preloads (KEMI finds no other)', () => {
    expect(modparam(cfg, 'usrloc', 'preload')).toBe(LOCATION_TABLE);
  });
});
