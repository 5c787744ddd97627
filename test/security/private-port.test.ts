/**
 * The private port (PRIVATE_PORT, UDP and TCP) serves media servers only,
 * and a media server is trusted only there: anything else that reaches it
 * (a client through the 1:1 NAT when the cloud firewall lets 5070 through,
 * another host of the private network) gets 403, whatever it carries.
 */
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { ATTACKER, CLIENT, DOMAIN, MEDIA_TCP, MEDIA_UDP, newKamailio, register, request } from './support.ts';

const OUTSIDERS = [
  { proto: 'udp', source: `${ATTACKER}:5060`, socket: 'private_socket' },
  { proto: 'tcp', source: `${ATTACKER}:40000`, socket: 'private_tcp_socket' },
  { proto: 'udp', source: '10.0.0.99:5060', socket: 'private_socket' },
  { proto: 'tcp', source: '192.168.1.20:40000', socket: 'private_tcp_socket' },
] as const;

describe('the private port only serves media servers', () => {
  for (const t of OUTSIDERS) {
    it(`refuses with 403 everything from ${t.source} on ${t.socket}, keepalives and authenticated requests included`, () => {
      const kam = newKamailio();
      const requests = [
        sipRequest({ method: 'OPTIONS', ruri: `sip:${DOMAIN}`, source: t.source, proto: t.proto }),
        request(t, { method: 'INVITE', ruri: `sip:alice@${DOMAIN}` }, '1000'),
        register(kam, t, 'alice'),
        sipRequest({ method: 'BYE', ruri: `sip:alice@${CLIENT}:32000`, toTag: 'x', source: t.source, proto: t.proto }),
      ];
      for (const raw of requests) {
        const out = kam.request(raw, t);
        expect(out.reply?.code, raw.split(' ')[0]).toBe(403);
        expect(out.relays).toEqual([]);
        expect(out.registrations).toEqual([]);
      }
      const ack = kam.request(sipRequest({ method: 'ACK', ruri: `sip:alice@${DOMAIN}`, toTag: 'x', source: t.source, proto: t.proto }), t);
      expect(ack.replies).toEqual([]);
      expect(ack.relays).toEqual([]);
    });
  }

  it('serves a media server there from any source port and either transport (TCP source ports are ephemeral)', () => {
    const kam = newKamailio();
    const alice = { proto: 'udp', source: `${CLIENT}:32000`, socket: 'public_socket' } as const;
    expect(kam.request(register(kam, alice, 'alice'), alice).reply?.code).toBe(200);
    for (const t of [
      { proto: 'udp', source: `${MEDIA_UDP}:5080`, socket: 'private_socket' },
      { proto: 'tcp', source: `${MEDIA_TCP}:53123`, socket: 'private_tcp_socket' },
      { proto: 'tcp', source: `${MEDIA_UDP}:41234`, socket: 'private_tcp_socket' },
    ] as const) {
      const out = kam.request(request(t, { method: 'INVITE', ruri: `sip:alice@${DOMAIN}` }, '1000'), t);
      expect(out.relay?.destination.host, t.source).toBe(CLIENT);
      expect(out.relay?.socket.name).toBe('public_socket');
    }
  });
});
