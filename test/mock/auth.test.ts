/** Digest authentication with real RFC 2617 responses and auth_db return codes. */
import { describe, expect, it } from 'vitest';
import { authorizationValue, parseDigest, sipRequest, type Kamailio } from '../../mocks/index.ts';
import { K, UDP_CLIENT, kam } from './helpers.ts';

const REALM = 'sip.example.com';
const subscribers = [{ user: 'alice', password: 's3cret' }];

function setup(): { m: Kamailio; codes: unknown[] } {
  const codes: unknown[] = [];
  const m = kam(
    {
      ksr_request_route() {
        const rc = K().auth_db.auth_check(REALM, 'subscriber', 1);
        codes.push(rc);
        if (rc !== 1) {
          K().auth.auth_challenge(REALM, 0);
          K().x.exit();
        }
        codes.push(K().auth.consume_credentials());
        K().sl.sl_send_reply(200, 'OK');
      },
    },
    { subscribers },
  );
  return { m, codes };
}

const register = (auth?: string, user = 'alice') =>
  sipRequest({
    method: 'REGISTER', ruri: `sip:${REALM}`, from: `<sip:${user}@${REALM}>`, to: `<sip:${user}@${REALM}>`,
    headers: auth === undefined ? [] : [['Authorization', auth]],
  });

const creds = (nonce: string, over: Partial<Parameters<typeof authorizationValue>[0]> = {}) =>
  authorizationValue({ username: 'alice', realm: REALM, password: 's3cret', method: 'REGISTER', uri: `sip:${REALM}`, nonce, ...over });

describe('auth / auth_db', () => {
  it('challenges a REGISTER without credentials with 401 and a nonce (-5 no credentials)', () => {
    const { m, codes } = setup();
    const out = m.request(register(), UDP_CLIENT);
    expect(codes).toEqual([-5]);
    expect(out.reply).toMatchObject({ code: 401, reason: 'Unauthorized' });
    const www = out.reply!.message.get('WWW-Authenticate') ?? '';
    expect(parseDigest(www).get('realm')).toBe(REALM);
    expect(parseDigest(www).get('nonce')).toMatch(/^[0-9a-f]{40}$/);
  });

  it('challenges other requests with 407 Proxy-Authenticate', () => {
    const { m } = setup();
    const out = m.request(sipRequest({ method: 'INVITE', ruri: 'sip:bob@sip.example.com', from: `<sip:alice@${REALM}>` }), UDP_CLIENT);
    expect(out.reply?.code).toBe(407);
    expect(out.reply?.message.has('Proxy-Authenticate')).toBe(true);
  });

  it('accepts a correct digest answer to its own nonce, with and without qop, and consumes the credentials', () => {
    const { m, codes } = setup();
    const ok = m.request(register(creds(m.nonce())), UDP_CLIENT);
    m.request(register(creds(m.nonce(), { qop: 'auth', nc: '00000001', cnonce: 'abc' })), UDP_CLIENT);
    expect(codes).toEqual([1, 1, 1, 1]);
    expect(ok.reply?.code).toBe(200);
    expect(ok.headers.removed).toEqual(['Authorization']);
  });

  it('returns the auth_db codes: -2 wrong password, -3 unknown user, -4 stale nonce, -1 forged nonce, -8 user mismatch', () => {
    const { m, codes } = setup();
    m.request(register(creds(m.nonce(), { password: 'wrong' })), UDP_CLIENT);
    m.request(register(creds(m.nonce(), { username: 'mallory' }), 'mallory'), UDP_CLIENT);
    const old = m.nonce();
    m.clock.advance(301_000);
    m.request(register(creds(old)), UDP_CLIENT);
    m.request(register(creds('0'.repeat(40))), UDP_CLIENT);
    m.request(register(creds(m.nonce()), 'bob'), UDP_CLIENT);
    expect(codes).toEqual([-2, -3, -4, -1, -8]);
  });

  it('looks for credentials of the given realm only', () => {
    const { m, codes } = setup();
    m.request(register(creds(m.nonce(), { realm: 'other.example' })), UDP_CLIENT);
    expect(codes).toEqual([-5]);
  });
});
