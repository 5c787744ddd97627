/**
 * No open relay: nothing from the public side goes anywhere but to a media
 * server. Initial requests must be for our domain (403 otherwise, even with
 * valid credentials); in-dialog requests must lead to a media server (403
 * for a forged Route or a remote target elsewhere).
 */
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import {
  ATTACKER,
  CLIENT,
  DOMAIN,
  LOCAL_IP,
  MEDIA_UDP,
  OUR_ROUTE_FOR_CLIENTS,
  PUBLIC_IP,
  PUBLIC_TRANSPORTS,
  credentials,
  newKamailio,
  register,
  request,
} from './support.ts';

const VICTIM = 'sip:victim@198.18.7.7:5060';

describe('no open relay: initial requests', () => {
  for (const t of PUBLIC_TRANSPORTS) {
    for (const ruri of [VICTIM, 'sip:victim@evil.example.net', `sip:victim@${MEDIA_UDP}:5080`, `sip:${ATTACKER}`]) {
      it(`refuses with 403 an authenticated INVITE/MESSAGE/SUBSCRIBE/OPTIONS to ${ruri} over ${t.proto}`, () => {
        for (const method of ['INVITE', 'MESSAGE', 'SUBSCRIBE', 'OPTIONS']) {
          const kam = newKamailio();
          const out = kam.request(request(t, { method, ruri, headers: [credentials(kam, method, ruri, 'alice')] }), t);
          expect(out.reply?.code, method).toBe(403);
          expect(out.relays).toEqual([]);
        }
      });
    }
  }

  it('refuses a REGISTER for a foreign domain, so nobody registers elsewhere through us', () => {
    const kam = newKamailio();
    const ruri = 'sip:evil.example.net';
    const out = kam.request(request(PUBLIC_TRANSPORTS[0], { method: 'REGISTER', ruri, headers: [credentials(kam, 'REGISTER', ruri, 'alice')] }), PUBLIC_TRANSPORTS[0]);
    expect(out.reply?.code).toBe(403);
    expect(out.registrations).toEqual([]);
  });
});

describe('no open relay: in-dialog requests (the To tag is the client\'s to choose)', () => {
  const inDialog = (t: (typeof PUBLIC_TRANSPORTS)[number], ruri: string, route: string | null) =>
    sipRequest({ method: 'BYE', ruri, toTag: 'forged', source: t.source, proto: t.proto, headers: route === null ? [] : [['Route', route]] });

  for (const t of PUBLIC_TRANSPORTS) {
    it(`refuses with 403 a forged Route over ${t.proto}: foreign first, strict, after ours, before ours`, () => {
      for (const route of [`<sip:${ATTACKER}:5060;lr>`, '<sip:victim@198.18.7.7>', `${OUR_ROUTE_FOR_CLIENTS}, <sip:${ATTACKER}:5060;lr>`, `<sip:${ATTACKER}:5060;lr>, ${OUR_ROUTE_FOR_CLIENTS}`]) {
        const out = newKamailio().request(inDialog(t, `sip:mod_sofia@${MEDIA_UDP}:5080`, route), t);
        expect(out.reply?.code, route).toBe(403);
        expect(out.relays).toEqual([]);
      }
    });

    it(`refuses with 403 our own route set toward a remote target that is no media server, over ${t.proto}`, () => {
      const out = newKamailio().request(inDialog(t, VICTIM, OUR_ROUTE_FOR_CLIENTS), t);
      expect(out.reply?.code).toBe(403);
      expect(out.relays).toEqual([]);
    });
  }

  it('answers 404 to an in-dialog request that names no route at all', () => {
    const t = PUBLIC_TRANSPORTS[0];
    const out = newKamailio().request(inDialog(t, VICTIM, null), t);
    expect(out.reply?.code).toBe(404);
    expect(out.relays).toEqual([]);
  });

  it('never lets one client reach another client directly, even a registered one', () => {
    const kam = newKamailio();
    const alice = { proto: 'udp', source: `${CLIENT}:32000`, socket: 'public_socket' } as const;
    expect(kam.request(register(kam, alice, 'alice'), alice).reply?.code).toBe(200);
    const t = PUBLIC_TRANSPORTS[0];
    const direct = newKamailio().request(inDialog(t, `sip:alice@${CLIENT}:32000`, OUR_ROUTE_FOR_CLIENTS), t);
    expect(direct.reply?.code).toBe(403);
    const viaAlias = kam.request(inDialog(t, `sip:alice@192.168.1.20:5060;alias=${CLIENT}~32000~1`, OUR_ROUTE_FOR_CLIENTS), t);
    expect(viaAlias.reply?.code).toBe(403);
    expect(viaAlias.relays).toEqual([]);
  });

  it('relays a well-formed in-dialog request to the media server it names (the media server owns the dialog: 481 for an unknown one)', () => {
    const t = PUBLIC_TRANSPORTS[0];
    const out = newKamailio().request(inDialog(t, `sip:mod_sofia@${MEDIA_UDP}:5080`, OUR_ROUTE_FOR_CLIENTS), t);
    expect(out.relay?.destination.host).toBe(MEDIA_UDP);
    expect(out.relay?.socket.name).toBe('private_socket');
    expect(out.relay?.message.get('Via')).toContain(`${LOCAL_IP}:5070`);
    expect(out.relay?.message.get('Via')).not.toContain(PUBLIC_IP);
  });

  it('does not relay to the proxy itself, whatever the media server asks', () => {
    const kam = newKamailio();
    const fromMedia = { proto: 'udp', source: `${MEDIA_UDP}:5080`, socket: 'private_socket' } as const;
    const bye = sipRequest({ method: 'BYE', ruri: `sip:alice@${DOMAIN}`, toTag: 't', source: fromMedia.source, headers: [['Route', `<sip:${LOCAL_IP}:5070;r2=on;lr>, <sip:${PUBLIC_IP}:5060;r2=on;lr>`]] });
    const out = kam.request(bye, fromMedia);
    expect(out.reply?.code).toBe(404);
    expect(out.relays).toEqual([]);
  });
});
