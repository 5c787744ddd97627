import { describe, expect, it } from 'vitest';
import { authorizationValue, sipRequest } from '../../mocks/index.ts';
import { AUTH_FAIL_LIMIT, AUTH_FAIL_TABLE, BAN_TABLE } from '../../src/routing/config';
import { CLIENT, DOMAIN, FROM_CLIENT_UDP, newKamailio } from './scenario.ts';

function wrongPassword(kam: ReturnType<typeof newKamailio>, attempt: number): string {
  const ruri = `sip:${DOMAIN}`;
  const credentials = authorizationValue({ username: 'alice', realm: DOMAIN, password: `guess-${attempt}`, method: 'REGISTER', uri: ruri, nonce: kam.nonce() });
  return sipRequest({ method: 'REGISTER', ruri, from: `<sip:alice@${DOMAIN}>`, to: `<sip:alice@${DOMAIN}>`, source: FROM_CLIENT_UDP.source, headers: [['Authorization', credentials]] });
}

describe('AUTH: failed guesses', () => {
  it('counts wrong passwords per source and challenges each, until the limit bans the source and drops the request', () => {
    const kam = newKamailio();
    const outs = Array.from({ length: AUTH_FAIL_LIMIT }, (_, i) => {
      kam.clock.advance(30_000);
      return kam.request(wrongPassword(kam, i), FROM_CLIENT_UDP);
    });
    expect(outs.slice(0, -1).map((o) => o.reply?.code)).toEqual(new Array(AUTH_FAIL_LIMIT - 1).fill(401));
    const last = outs[outs.length - 1]!;
    expect(last.end).toBe('drop');
    expect(last.replies).toEqual([]);
    expect(last.logs.map((l) => l.text)).toContain(`auth: banning ${CLIENT} after ${AUTH_FAIL_LIMIT} failed authentications\n`);
    expect(kam.htable.get(BAN_TABLE, CLIENT)).toBe(1);
    // The counter goes with the ban, so the source starts afresh when the ban lifts.
    expect(kam.htable.get(AUTH_FAIL_TABLE, CLIENT)).toBe(0);
  });
});
