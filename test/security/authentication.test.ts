/**
 * Nothing unauthenticated from the public side: REGISTER, INVITE, MESSAGE,
 * SUBSCRIBE (and every other initial request) need digest credentials of
 * the subscriber they claim to be; ACK, PRACK and CANCEL, which auth lets
 * through unchallenged, never start anything; and credentials stop at the
 * proxy.
 */
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import {
  DOMAIN,
  MEDIA_UDP,
  PUBLIC_TRANSPORTS,
  credentials,
  newKamailio,
  nothingReachedTheMediaServers,
  register,
  request,
} from './support.ts';

const CHALLENGE: Record<string, number> = { REGISTER: 401 };
const INITIAL = ['REGISTER', 'INVITE', 'MESSAGE', 'SUBSCRIBE', 'OPTIONS', 'NOTIFY', 'REFER', 'INFO', 'UPDATE', 'BYE'];

describe('authentication of everything that starts from the public side', () => {
  for (const t of PUBLIC_TRANSPORTS) {
    it(`challenges ${INITIAL.join('/')} without credentials over ${t.proto}: 401 for REGISTER, 407 otherwise`, () => {
      for (const method of INITIAL) {
        const kam = newKamailio();
        const ruri = method === 'REGISTER' ? `sip:${DOMAIN}` : `sip:1000@${DOMAIN}`;
        const out = kam.request(request(t, { method, ruri, ...(method === 'REGISTER' ? { to: `<sip:alice@${DOMAIN}>` } : {}) }), t);
        expect(out.reply?.code, method).toBe(CHALLENGE[method] ?? 407);
        nothingReachedTheMediaServers(out);
      }
    });
  }

  it('challenges again a wrong password, an unknown user, another realm and a forged nonce', () => {
    const t = PUBLIC_TRANSPORTS[0];
    const kam = newKamailio();
    const ruri = `sip:1000@${DOMAIN}`;
    const cases: Array<[string, string]> = [
      credentials(kam, 'INVITE', ruri, 'alice', 'guess'),
      credentials(kam, 'INVITE', ruri, 'mallory', 'anything'),
      ['Proxy-Authorization', credentials(kam, 'INVITE', ruri, 'alice')[1].replace(`realm="${DOMAIN}"`, 'realm="other.example.org"')],
      ['Proxy-Authorization', credentials(kam, 'INVITE', ruri, 'alice')[1].replace(/nonce="[^"]*"/, 'nonce="Zm9yZ2Vk"')],
    ];
    for (const header of cases) {
      const out = kam.request(request(t, { method: 'INVITE', ruri, headers: [header] }), t);
      expect(out.reply?.code, header[1]).toBe(407);
      nothingReachedTheMediaServers(out);
    }
  });

  it('refuses a subscriber posing as another: bob\'s valid credentials with alice\'s From (INVITE) or To (REGISTER)', () => {
    const t = PUBLIC_TRANSPORTS[0];
    const kam = newKamailio();
    const ruri = `sip:1000@${DOMAIN}`;
    const invite = kam.request(request(t, { method: 'INVITE', ruri, headers: [credentials(kam, 'INVITE', ruri, 'bob')] }, 'alice'), t);
    expect(invite.reply?.code).toBe(407);
    nothingReachedTheMediaServers(invite);
    const reg = kam.request(request(t, { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>`, headers: [credentials(kam, 'REGISTER', `sip:${DOMAIN}`, 'bob')] }, 'bob'), t);
    expect(reg.reply?.code).toBe(401);
    expect(kam.location.lookup('alice')).toEqual([]);
  });

  it('lets an authenticated INVITE through to a media server without its Proxy-Authorization (credentials stop at the proxy)', () => {
    const t = PUBLIC_TRANSPORTS[0];
    const kam = newKamailio();
    const ruri = `sip:1000@${DOMAIN}`;
    const out = kam.request(request(t, { method: 'INVITE', ruri, headers: [credentials(kam, 'INVITE', ruri, 'alice')] }), t);
    expect(out.relays).toHaveLength(1);
    expect(out.relay?.message.get('Proxy-Authorization')).toBeUndefined();
  });

  it('saves a binding only for an authenticated REGISTER', () => {
    const t = PUBLIC_TRANSPORTS[0];
    const kam = newKamailio();
    expect(kam.request(register(kam, t, 'alice', 'guess'), t).registrations).toEqual([]);
    expect(kam.request(register(kam, t, 'alice'), t).registrations).toHaveLength(1);
  });
});

describe('ACK, PRACK and CANCEL: auth never challenges them, so they never start anything', () => {
  for (const t of PUBLIC_TRANSPORTS) {
    it(`over ${t.proto}: a stray ACK is absorbed, a PRACK outside a dialog gets 481, a CANCEL of nothing is dropped`, () => {
      const kam = newKamailio();
      const ack = kam.request(request(t, { method: 'ACK' }), t);
      expect(ack.replies).toEqual([]);
      nothingReachedTheMediaServers(ack);
      const prack = kam.request(request(t, { method: 'PRACK' }), t);
      expect(prack.reply?.code).toBe(481);
      nothingReachedTheMediaServers(prack);
      const cancel = kam.request(request(t, { method: 'CANCEL' }), t);
      expect(cancel.replies).toEqual([]);
      nothingReachedTheMediaServers(cancel);
    });
  }

  it('relays a CANCEL only along the transaction of an INVITE that was authenticated', () => {
    const t = PUBLIC_TRANSPORTS[0];
    const kam = newKamailio();
    const ruri = `sip:1000@${DOMAIN}`;
    const invite = request(t, { method: 'INVITE', ruri, callId: 'c1', branch: 'z9hG4bKc1', fromTag: 'f1', headers: [credentials(kam, 'INVITE', ruri, 'alice')] });
    const out = kam.request(invite, t);
    const cancel = sipRequest({ method: 'CANCEL', ruri, source: t.source, callId: 'c1', branch: 'z9hG4bKc1', fromTag: 'f1', from: `<sip:alice@${DOMAIN}>` });
    const relayed = kam.request(cancel, t);
    expect(relayed.relays.map((r) => [r.method, r.destination.host])).toEqual([['CANCEL', out.relay!.destination.host]]);
    const other = kam.request(cancel.replace('z9hG4bKc1', 'z9hG4bKother'), t);
    expect(other.relays).toEqual([]);
  });
});

describe('a media server address proves nothing on a public socket', () => {
  it('challenges an INVITE whose source claims a media server address on the public TCP and TLS ports (a PROXY header can claim any)', () => {
    for (const t of [
      { proto: 'tcp', source: `${MEDIA_UDP}:40000`, socket: 'public_tcp_socket' },
      { proto: 'wss', source: `${MEDIA_UDP}:40001`, socket: 'public_webrtc_socket' },
      { proto: 'udp', source: `${MEDIA_UDP}:5080`, socket: 'public_socket' },
    ] as const) {
      const kam = newKamailio();
      const out = kam.request(request(t, { method: 'INVITE', ruri: `sip:alice@${DOMAIN}` }, '1000'), t);
      expect(out.reply?.code, t.socket).toBe(407);
      expect(out.relays).toEqual([]);
    }
  });
});
