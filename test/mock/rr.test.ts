/**
 * rr.loose_route as rr/loose.c 5.6.3 does it, beyond the basics in
 * modules.test.ts: the send socket forced by our double Route, the second
 * entry taken as ours whatever it names, and after_strict for an in-dialog
 * request whose R-URI is this proxy.
 */
import { describe, expect, it } from 'vitest';
import { sipRequest, type TransportSpec } from '../../mocks/index.ts';
import { K, MEDIA_UDP, TCP_CLIENT, UDP_CLIENT, inRoute, kam } from './helpers.ts';

// The fixture cfg: LOCAL_IP 10.0.0.5 (private 5070), PUBLIC_IP 198.51.100.7 advertised on 5060 and 7777.
const inDialog = (ruri: string, route: string): string =>
  sipRequest({ method: 'BYE', ruri, toTag: 'tt', headers: [['Route', route]] });
const relayOf = (raw: string, transport = UDP_CLIENT) =>
  kam({ ksr_request_route() { K().rr.loose_route(); K().tm.t_relay(); } }).request(raw, transport).relay;

describe('rr.loose_route: double Record-Route', () => {
  it('forces the send socket the second of our entries names (after_loose rr_do_force_send_socket)', () => {
    const toMedia = relayOf(inDialog('sip:fs@10.0.0.11:5080', '<sip:198.51.100.7:5060;r2=on;lr>, <sip:10.0.0.5:5070;r2=on;lr>'));
    expect(toMedia?.socket.name).toBe('private_socket');
    expect(toMedia?.message.get('Via')).toMatch(/^SIP\/2\.0\/UDP 10\.0\.0\.5:5070;/);
    const overTcp = relayOf(inDialog('sip:fs@10.0.0.11:5080;transport=tcp', '<sip:198.51.100.7:5060;transport=tcp;r2=on;lr>, <sip:10.0.0.5:5070;transport=tcp;r2=on;lr>'), TCP_CLIENT);
    expect(overTcp?.socket.name).toBe('private_tcp_socket');
    const toClient = relayOf(inDialog('sip:alice@203.0.113.10:5060', '<sip:10.0.0.5:5070;r2=on;lr>, <sip:198.51.100.7:5060;r2=on;lr>'), MEDIA_UDP);
    expect(toClient?.socket.name).toBe('public_socket');
    expect(toClient?.message.get('Via')).toMatch(/^SIP\/2\.0\/UDP 198\.51\.100\.7:5060;/);
  });

  it('finds a WebSocket leg in the TLS list (grep_sock_info retries ws as wss)', () => {
    const r = inRoute(
      (k) => [k.rr.loose_route(), k.kx.get_send_sock_name()],
      inDialog('sip:alice@203.0.113.10:5060', '<sip:10.0.0.5:5070;r2=on;lr>, <sip:198.51.100.7:7777;transport=ws;r2=on;lr>'),
      MEDIA_UDP,
    );
    expect(r).toEqual([1, 'public_webrtc_socket']);
  });

  it('takes the entry after an r2=on one as ours whatever it names, and forces no socket when it is not ours', () => {
    const r = inRoute(
      (k) => [k.rr.loose_route(), k.pv.get('$du'), k.kx.get_send_sock_name()],
      inDialog('sip:fs@10.0.0.11:5080', '<sip:198.51.100.7:5060;r2=on;lr>, <sip:192.0.2.66:5060;lr>'),
    );
    expect(r).toEqual([1, null, null]);
  });

  it('removes a lone r2=on entry and forces nothing', () => {
    expect(inRoute((k) => [k.rr.loose_route(), k.pv.get('$du'), k.kx.get_send_sock_name()], inDialog('sip:fs@10.0.0.11:5080', '<sip:198.51.100.7:5060;r2=on;lr>'))).toEqual([1, null, null]);
  });
});

describe('rr.loose_route: after_strict (in-dialog R-URI is this proxy)', () => {
  it('returns -1 (RR_NOT_DRIVEN) when nothing follows our r2=on entry', () => {
    const r = inRoute(
      (k) => [k.rr.loose_route(), k.pv.get('$du'), k.pv.get('$ru'), k.kx.get_send_sock_name()],
      inDialog('sip:1000@198.51.100.7', '<sip:198.51.100.7:5060;r2=on;lr>'),
    );
    // The socket is the one the FIRST entry names: after_strict greps the entry it is looking at.
    expect(r).toEqual([-1, null, 'sip:1000@198.51.100.7', 'public_socket']);
  });

  it('skips only the first of our double Route, so the second one (this proxy) becomes $du and the R-URI', () => {
    const raw = inDialog('sip:1000@198.51.100.7', '<sip:198.51.100.7:5060;r2=on;lr>, <sip:10.0.0.5:5070;r2=on;lr>');
    expect(inRoute((k) => [k.rr.loose_route(), k.pv.get('$du'), k.pv.get('$ru')], raw)).toEqual([1, 'sip:10.0.0.5:5070;r2=on;lr', 'sip:10.0.0.5:5070;r2=on;lr']);
  });

  it('sends to a loose next hop (its entry stays) and takes the last Route entry as the R-URI', () => {
    const foreign = inDialog('sip:1000@198.51.100.7', '<sip:192.0.2.9;lr>, <sip:bob@192.0.2.10>');
    expect(inRoute((k) => [k.rr.loose_route(), k.pv.get('$du'), k.pv.get('$ru')], foreign)).toEqual([1, 'sip:192.0.2.9;lr', 'sip:bob@192.0.2.10']);
    const relay = relayOf(foreign);
    expect(relay?.destination).toEqual({ proto: 'udp', host: '192.0.2.9', port: 5060 });
    expect(relay?.message.get('Route')).toBe('<sip:192.0.2.9;lr>');
  });

  it('puts a strict next hop (no ;lr) into the R-URI', () => {
    const raw = inDialog('sip:1000@198.51.100.7', '<sip:bob@192.0.2.10>, <sip:192.0.2.9;lr>');
    expect(inRoute((k) => [k.rr.loose_route(), k.pv.get('$du'), k.pv.get('$ru')], raw)).toEqual([1, null, 'sip:bob@192.0.2.10']);
    expect(relayOf(raw)?.message.get('Route')).toBe('<sip:192.0.2.9;lr>');
  });
});

describe('rr.record_route: the transport of each leg', () => {
  const relayFrom = (raw: string, transport: TransportSpec, via: string) =>
    kam({
      ksr_request_route() {
        K().rr.record_route();
        K().corex.set_send_socket_name(via);
        K().tm.t_relay();
      },
    }).request(raw, transport).relay!.message.all('Record-Route').map((h) => h.value);

  it('writes transport=ws for a WebSocket leg, WS or WSS, on a TLS socket too (msg_translator SUBST_*_PROTO)', () => {
    const fromBrowser = sipRequest({ method: 'INVITE', ruri: 'sip:fs@10.0.0.11:5080', proto: 'wss', source: '203.0.113.10:50000', fromTag: 'ft' });
    expect(relayFrom(fromBrowser, { proto: 'wss', source: '203.0.113.10:50000', socket: 'public_webrtc_socket' }, 'private_socket')).toEqual([
      '<sip:10.0.0.5:5070;r2=on;lr;ftag=ft>',
      '<sip:198.51.100.7:7777;transport=ws;r2=on;lr;ftag=ft>',
    ]);
    const toBrowser = sipRequest({ method: 'INVITE', ruri: 'sip:alice@203.0.113.10:50000;transport=wss', source: '10.0.0.11:5080', fromTag: 'ft' });
    expect(relayFrom(toBrowser, MEDIA_UDP, 'public_webrtc_socket')).toEqual([
      '<sip:198.51.100.7:7777;transport=ws;r2=on;lr;ftag=ft>',
      '<sip:10.0.0.5:5070;r2=on;lr;ftag=ft>',
    ]);
  });

  it('writes the socket protocol otherwise (none for UDP)', () => {
    const fromTcp = sipRequest({ method: 'INVITE', ruri: 'sip:fs@10.0.0.11:5080', proto: 'tcp', source: '203.0.113.10:40123', fromTag: 'ft' });
    expect(relayFrom(fromTcp, TCP_CLIENT, 'private_socket')).toEqual(['<sip:10.0.0.5:5070;r2=on;lr;ftag=ft>', '<sip:198.51.100.7:5060;transport=tcp;r2=on;lr;ftag=ft>']);
  });
});
