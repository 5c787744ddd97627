/**
 * Routing bugs the property tests (test/properties/) found, each as the
 * shrunk counterexample, kept as a plain scenario so the fix stays covered
 * whatever the random generator picks next time.
 */
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { CLIENT, DOMAIN, FROM_CLIENT_UDP, FROM_MEDIA_UDP, LOCAL_IP, MEDIA_TCP, MEDIA_UDP, PUBLIC_IP, clientRequest, newKamailio } from './scenario.ts';

const OUR_ROUTE_FOR_MEDIA: Array<[string, string]> = [['Route', `<sip:${LOCAL_IP}:5070;r2=on;lr>, <sip:${PUBLIC_IP}:5060;r2=on;lr>`]];
const FROM_WSS = { proto: 'wss', source: `${CLIENT}:50123`, socket: 'public_webrtc_socket' } as const;

describe('out-of-dialog ACK and PRACK (auth lets both through unchallenged)', () => {
  it('answers a PRACK without To tag with 481 instead of relaying it unauthenticated to a media server', () => {
    const kam = newKamailio();
    const out = kam.request(sipRequest({ method: 'PRACK', ruri: `sip:alice@${DOMAIN}`, from: `<sip:alice@${DOMAIN}>`, source: '1.0.0.1:1024', proto: 'tls' }), {
      proto: 'tls', source: '1.0.0.1:1024', socket: 'public_webrtc_socket',
    });
    expect(out.reply?.code).toBe(481);
    expect(out.relays).toEqual([]);
  });

  it('absorbs an ACK without To tag, unanswered and unrelayed, whatever its From', () => {
    const kam = newKamailio();
    const out = kam.request(sipRequest({ method: 'ACK', ruri: `sip:1000@${DOMAIN}`, from: `<sip:${DOMAIN}>`, source: `${CLIENT}:32000` }), FROM_CLIENT_UDP);
    expect(out.end).toBe('exit');
    expect(out.relays).toEqual([]);
    expect(out.replies).toEqual([]);
  });
});

describe('the send socket of in-dialog requests follows the destination, not the route set', () => {
  it('relays a client re-INVITE whose Route names the media server directly from the private socket', () => {
    const kam = newKamailio();
    const raw = sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, toTag: 'x', source: `${CLIENT}:18015`, headers: [['Route', `<sip:${MEDIA_UDP}:5080;lr>`]] });
    const out = kam.request(raw, { ...FROM_CLIENT_UDP, source: `${CLIENT}:18015` });
    expect(out.relay?.destination.host).toBe(MEDIA_UDP);
    expect(out.relay?.socket.name).toBe('private_socket');
    expect(out.relay?.message.get('Via')).toMatch(new RegExp(`^SIP/2\\.0/UDP ${LOCAL_IP.replace(/\./g, '\\.')}:5070;`));
  });

  it('relays a media server request addressed to another media server from the private socket', () => {
    const kam = newKamailio();
    const raw = sipRequest({ method: 'INVITE', ruri: `sip:alice@${MEDIA_TCP}:5080;transport=tcp`, toTag: 'x', source: `${MEDIA_UDP}:5080`, headers: OUR_ROUTE_FOR_MEDIA });
    const out = kam.request(raw, FROM_MEDIA_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'tcp', host: MEDIA_TCP, port: 5080 });
    expect(out.relay?.socket.name).toBe('private_tcp_socket');
  });

  it('refuses with 403 a client in-dialog request to a media server over WebSocket/TLS (the private port has neither)', () => {
    const kam = newKamailio();
    const raw = sipRequest({
      method: 'INVITE', ruri: `sip:alice@${MEDIA_UDP}:5080;transport=ws`, toTag: 'x', proto: 'wss', source: FROM_WSS.source,
      headers: [['Route', `<sip:${PUBLIC_IP}:5060;r2=on;lr>, <sip:192.0.2.66:5060;lr>`]],
    });
    const out = kam.request(raw, FROM_WSS);
    expect(out.reply?.code).toBe(403);
    expect(out.relays).toEqual([]);
  });
});

describe('a media server is trusted only on the private port', () => {
  const ON_PUBLIC_UDP = { proto: 'udp', source: `${MEDIA_UDP}:1024`, socket: 'public_socket' } as const;

  it('handles a media server address on a public socket as a client: its forged in-dialog request gets 403', () => {
    const kam = newKamailio();
    const raw = sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, toTag: 'x', source: ON_PUBLIC_UDP.source, headers: [['Route', `<sip:${PUBLIC_IP}:5060;r2=on;lr>, <sip:192.0.2.66:5060;lr>`]] });
    const out = kam.request(raw, ON_PUBLIC_UDP);
    expect(out.reply?.code).toBe(403);
    expect(out.relays).toEqual([]);
  });

  it('challenges an initial INVITE from a media server address on the public TCP port (what a PROXY header can claim)', () => {
    const kam = newKamailio();
    const spoofed = { proto: 'tcp', source: `${MEDIA_UDP}:40000`, socket: 'public_tcp_socket' } as const;
    const out = kam.request(sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, from: `<sip:1000@${DOMAIN}>`, proto: 'tcp', source: spoofed.source }), spoofed);
    expect(out.reply?.code).toBe(407);
    expect(out.relays).toEqual([]);
  });

  it('still takes the same media server on the private port as a media server', () => {
    const kam = newKamailio();
    kam.request(clientRequest(kam, { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>` }, 'alice'), FROM_CLIENT_UDP);
    const out = kam.request(sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, from: `<sip:1000@${DOMAIN}>`, source: FROM_MEDIA_UDP.source }), FROM_MEDIA_UDP);
    expect(out.relay?.destination.host).toBe(CLIENT);
  });
});

describe('no relay to the proxy itself', () => {
  it("answers 404 to a media server's in-dialog request whose remote target is this proxy (rr's strict-routing recovery)", () => {
    const kam = newKamailio();
    const raw = sipRequest({ method: 'BYE', ruri: `sip:alice@${DOMAIN}`, toTag: 'x', source: `${MEDIA_UDP}:5080`, headers: OUR_ROUTE_FOR_MEDIA });
    const out = kam.request(raw, FROM_MEDIA_UDP);
    expect(out.reply?.code).toBe(404);
    expect(out.relays).toEqual([]);
  });

  it('answers 404 when the remote target is our public address on a port and transport we do not listen on (seed 1487523865)', () => {
    const kam = newKamailio();
    const ruri = `sip:alice@${PUBLIC_IP}:7777;transport=udp`;
    const raw = sipRequest({ method: 'INVITE', ruri, toTag: 'x', source: `${MEDIA_UDP}:1024`, headers: [['Route', `<sip:${LOCAL_IP}:5070;r2=on;lr>`]] });
    const out = kam.request(raw, { ...FROM_MEDIA_UDP, source: `${MEDIA_UDP}:1024` });
    expect(out.reply?.code).toBe(404);
    expect(out.relays).toEqual([]);
  });

  it('reaches a client whose address is an IPv6 literal (the host, not the whole URI, is compared with ours)', () => {
    const kam = newKamailio();
    const raw = sipRequest({ method: 'BYE', ruri: 'sip:alice@[2001:db8::20]:5060', toTag: 'x', source: `${MEDIA_UDP}:5080`, headers: OUR_ROUTE_FOR_MEDIA });
    const out = kam.request(raw, FROM_MEDIA_UDP);
    expect(out.reply?.code).not.toBe(404);
  });
});

describe('preloaded Route headers stop at the proxy', () => {
  it("relays a client's authenticated INVITE to the media server without the Route set it preloaded", () => {
    const kam = newKamailio();
    const routes: Array<[string, string]> = [['Route', `<sip:${PUBLIC_IP}:5060;r2=on;lr>, <sip:192.0.2.66:5060;lr>`]];
    const out = kam.request(clientRequest(kam, { method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, headers: routes }, 'alice'), FROM_CLIENT_UDP);
    expect(out.relay?.destination.host).toMatch(/^10\.0\.0\.2[12]$/);
    expect(out.relay?.message.get('Route')).toBeUndefined();
  });

  it("relays a media server's INVITE to a client without the Route it preloaded (LOCAL_IP stays private)", () => {
    const kam = newKamailio();
    kam.request(clientRequest(kam, { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>` }, 'alice'), FROM_CLIENT_UDP);
    const raw = sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, source: FROM_MEDIA_UDP.source, headers: [['Route', `<sip:${LOCAL_IP}:5070;lr>`]] });
    const out = kam.request(raw, FROM_MEDIA_UDP);
    expect(out.relay?.destination.host).toBe(CLIENT);
    expect(out.relay?.message.get('Route')).toBeUndefined();
  });
});
