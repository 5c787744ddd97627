/**
 * The ban policy: a source that floods (pike: more than 16 requests in 2 s)
 * or keeps guessing passwords (10 wrong passwords or unknown users, each
 * within 10 minutes of the previous one) is banned into htable ipban and
 * dropped silently for 5 minutes (its autoexpire), then let in again.
 * Scanners are dropped on sight. Media servers are never screened.
 */
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { AUTH_FAIL_LIMIT, AUTH_FAIL_TABLE, BAN_TABLE, SCANNER_AGENTS } from '../../src/routing/config';
import {
  ATTACKER,
  CLIENT,
  DOMAIN,
  FROM_ATTACKER_TCP,
  FROM_ATTACKER_UDP,
  MEDIA_UDP,
  PUBLIC_IP,
  newKamailio,
  register,
  request,
} from './support.ts';

const BAN_SECONDS = 300;
const OPTIONS = (source = `${ATTACKER}:5060`) => sipRequest({ method: 'OPTIONS', ruri: `sip:${PUBLIC_IP}:5060`, source });
const ALICE = { proto: 'udp', source: `${CLIENT}:32000`, socket: 'public_socket' } as const;

describe('flood ban (pike + ipban)', () => {
  it('drops a flooding source from its 17th request in 2 s, keeps dropping it, and lets it in again after the ban expires', () => {
    const kam = newKamailio();
    const ends = Array.from({ length: 20 }, () => kam.request(OPTIONS(), FROM_ATTACKER_UDP)).map((o) => o.end);
    expect(ends.slice(0, 16)).toEqual(new Array(16).fill('exit'));
    expect(ends.slice(16)).toEqual(['drop', 'drop', 'drop', 'drop']);
    expect(kam.htable.get(BAN_TABLE, ATTACKER)).toBe(1);

    kam.clock.advance(60_000); // calm for a minute: still banned, even a well-formed REGISTER
    const during = kam.request(register(kam, FROM_ATTACKER_UDP, 'alice'), FROM_ATTACKER_UDP);
    expect(during.end).toBe('drop');
    expect(during.replies).toEqual([]);

    kam.clock.advance((BAN_SECONDS - 60) * 1000);
    const after = kam.request(OPTIONS(), FROM_ATTACKER_UDP);
    expect(after.reply?.code).toBe(200);
    expect(kam.htable.get(BAN_TABLE, ATTACKER)).toBeNull();
  });

  it('bans the flooding address only: another client keeps being served', () => {
    const kam = newKamailio();
    for (let i = 0; i < 20; i++) kam.request(OPTIONS(), FROM_ATTACKER_UDP);
    expect(kam.request(register(kam, ALICE, 'alice'), ALICE).reply?.code).toBe(200);
  });

  it('logs the ban once, with the address', () => {
    const kam = newKamailio();
    const logs = Array.from({ length: 18 }, () => kam.request(OPTIONS(), FROM_ATTACKER_UDP)).flatMap((o) => o.logs.map((l) => l.text));
    expect(logs.filter((l) => l.includes('banning'))).toEqual([`pike: banning flooding source ${ATTACKER}\n`]);
  });

  it('never screens a media server on the private port, however busy', () => {
    const kam = newKamailio();
    const fromMedia = { proto: 'udp', source: `${MEDIA_UDP}:5080`, socket: 'private_socket' } as const;
    const codes = Array.from({ length: 40 }, () => kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${DOMAIN}`, source: fromMedia.source }), fromMedia).reply?.code);
    expect(codes).toEqual(new Array(40).fill(200));
  });
});

describe('digest brute force', () => {
  it('bans a fast guesser: 30 REGISTERs with wrong passwords in 2 s end up dropped', () => {
    const kam = newKamailio();
    const outs = Array.from({ length: 30 }, (_, i) => {
      kam.clock.advance(60);
      return kam.request(register(kam, FROM_ATTACKER_UDP, 'alice', `guess-${i}`), FROM_ATTACKER_UDP);
    });
    expect(outs.every((o) => o.registrations.length === 0)).toBe(true);
    expect(outs.slice(-10).every((o) => o.end === 'drop' && o.replies.length === 0)).toBe(true);
    expect(kam.htable.get(BAN_TABLE, ATTACKER)).toBe(1);
  });

  it(`bans a slow guesser pike never sees (one wrong password every 30 s) at its ${AUTH_FAIL_LIMIT}th failure, for the ban's 5 minutes`, () => {
    const kam = newKamailio();
    const codes: Array<number | 'drop'> = [];
    for (let i = 0; i < AUTH_FAIL_LIMIT + 2; i++) {
      kam.clock.advance(30_000);
      const out = kam.request(register(kam, FROM_ATTACKER_TCP, 'alice', `guess-${i}`), FROM_ATTACKER_TCP);
      codes.push(out.end === 'drop' ? 'drop' : out.reply!.code);
    }
    expect(codes).toEqual([...new Array(AUTH_FAIL_LIMIT - 1).fill(401), 'drop', 'drop', 'drop']);
    expect(kam.htable.get(BAN_TABLE, ATTACKER)).toBe(1);

    kam.clock.advance(BAN_SECONDS * 1000);
    // Unbanned, and with a clean slate: the counter went with the ban.
    expect(kam.request(register(kam, FROM_ATTACKER_TCP, 'alice', 'guess-again'), FROM_ATTACKER_TCP).reply?.code).toBe(401);
    expect(kam.htable.get(AUTH_FAIL_TABLE, ATTACKER)).toBe(1);
  });

  it('counts unknown users (user enumeration) and wrong passwords for INVITE as well', () => {
    const kam = newKamailio();
    const ruri = `sip:1000@${DOMAIN}`;
    for (let i = 0; i < AUTH_FAIL_LIMIT; i++) {
      kam.clock.advance(20_000);
      const user = `user${i}`;
      const invite = request(FROM_ATTACKER_UDP, { method: 'INVITE', ruri }, user);
      kam.request(invite.replace('\r\nContent-Length', `\r\nProxy-Authorization: ${proxyAuth(kam, user, ruri)}\r\nContent-Length`), FROM_ATTACKER_UDP);
    }
    expect(kam.htable.get(BAN_TABLE, ATTACKER)).toBe(1);
  });

  it('forgets failures more than 10 minutes apart: a phone with a wrong password retrying every 11 minutes is never banned', () => {
    const kam = newKamailio();
    for (let i = 0; i < 3 * AUTH_FAIL_LIMIT; i++) {
      kam.clock.advance(11 * 60_000);
      expect(kam.request(register(kam, FROM_ATTACKER_UDP, 'alice', 'old-password'), FROM_ATTACKER_UDP).reply?.code).toBe(401);
    }
    expect(kam.htable.get(BAN_TABLE, ATTACKER)).toBeNull();
  });

  it('does not count what proves nothing: requests without credentials, forged or stale nonces', () => {
    const kam = newKamailio();
    for (let i = 0; i < 3 * AUTH_FAIL_LIMIT; i++) {
      kam.clock.advance(10_000);
      const plain = kam.request(request(FROM_ATTACKER_UDP, { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>` }), FROM_ATTACKER_UDP);
      expect(plain.reply?.code).toBe(401);
      const forged = register(kam, FROM_ATTACKER_UDP, 'alice', 'guess').replace(/nonce="[^"]*"/, 'nonce="Zm9yZ2Vk"');
      expect(kam.request(forged, FROM_ATTACKER_UDP).reply?.code).toBe(401);
    }
    // A nonce older than nonce_expire (300 s), as a phone that slept sends it: stale, not a guess.
    const stale = register(kam, FROM_ATTACKER_UDP, 'alice', 'guess');
    kam.clock.advance(301_000);
    for (let i = 0; i < AUTH_FAIL_LIMIT; i++) expect(kam.request(stale, FROM_ATTACKER_UDP).reply?.code).toBe(401);
    expect(kam.htable.get(AUTH_FAIL_TABLE, ATTACKER)).toBe(0);
    expect(kam.htable.get(BAN_TABLE, ATTACKER)).toBeNull();
  });

  it('keeps the ban to the guessing address: the subscriber registers from elsewhere meanwhile', () => {
    const kam = newKamailio();
    for (let i = 0; i < AUTH_FAIL_LIMIT; i++) kam.request(register(kam, FROM_ATTACKER_UDP, 'alice', `guess-${i}`), FROM_ATTACKER_UDP);
    expect(kam.htable.get(BAN_TABLE, ATTACKER)).toBe(1);
    expect(kam.request(register(kam, ALICE, 'alice'), ALICE).reply?.code).toBe(200);
  });
});

describe('scanners', () => {
  for (const agent of SCANNER_AGENTS) {
    it(`drops requests of ${agent} silently, on the public and the private port`, () => {
      const kam = newKamailio();
      for (const t of [FROM_ATTACKER_UDP, FROM_ATTACKER_TCP, { proto: 'udp', source: `${ATTACKER}:5060`, socket: 'private_socket' } as const]) {
        const out = kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:100@${DOMAIN}`, source: t.source, proto: t.proto, headers: [['User-Agent', `${agent} 1.2`]] }), t);
        expect(out.end).toBe('drop');
        expect(out.replies).toEqual([]);
      }
    });
  }
});

function proxyAuth(kam: ReturnType<typeof newKamailio>, user: string, ruri: string): string {
  return `Digest username="${user}", realm="${DOMAIN}", nonce="${kam.nonce()}", uri="${ruri}", response="00000000000000000000000000000000"`;
}
