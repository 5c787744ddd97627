/**
 * PROXY protocol headers: Kamailio 5.6 (tcp_accept_haproxy=yes) takes one
 * from anyone who opens a TCP/TLS connection, on every TCP socket, and sets
 * $si/$sp to whatever it claims. In the article's cloud the 1:1 NAT maps
 * every port of PUBLIC_IP to the vm, so anyone can open PUBLIC_IP:5070 and
 * claim a media server's address. The routing compares the claim with the
 * connection's real peer (tcpops $tcp(c_si)/$tcp(c_sp); the mock's
 * `proxiedBy`, as measured on 5.6.3 in test/engine/proxy-protocol.test.ts).
 */
import { describe, expect, it } from 'vitest';
import * as routing from '../../src/main';
import { createKamailio, sipRequest, type Kamailio, type TransportSpec } from '../../mocks/index.ts';
import { CLIENT, DISPATCHER_LIST, DOMAIN, ENV, FROM_CLIENT_TCP, FROM_CLIENT_UDP, FROM_MEDIA_TCP, FROM_MEDIA_UDP, MEDIA_TCP, MEDIA_UDP, PUBLIC_IP, SUBSCRIBERS, newKamailio } from './scenario.ts';

/** Someone on the internet, through the 1:1 NAT. */
const ATTACKER = '198.51.100.66:40000';
const BALANCERS = '10.0.0.2, 10.0.0.3';

/** A TCP connection to the private port that began with `PROXY TCP4 <claimed> ...`, sent by `realPeer`. */
const privateTcpClaiming = (claimed: string, realPeer = ATTACKER): TransportSpec => ({ proto: 'tcp', source: claimed, socket: 'private_tcp_socket', proxiedBy: realPeer });

/** A media server's call for a subscriber who is not registered: 480 when the media server is trusted (LOCATION). */
const callForAlice = (): string => sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, proto: 'tcp', source: `${MEDIA_TCP}:5080` });

function withProxySources(sources: string): Kamailio {
  return createKamailio({ routing, env: { ...ENV, PROXY_SOURCES: sources }, dispatcherList: DISPATCHER_LIST, subscribers: SUBSCRIBERS });
}

describe('PROXY protocol headers on the private TCP port', () => {
  it("refuses a header claiming a media server's address: 403, never trusted, nothing relayed", () => {
    const kam = newKamailio();
    const out = kam.request(callForAlice(), privateTcpClaiming(`${MEDIA_TCP}:5080`));
    expect(out.reply).toMatchObject({ code: 403, reason: 'Forbidden', by: 'sl' });
    expect(out.relays).toEqual([]);
    expect(out.rtpengine).toEqual([]);
  });

  it('still trusts the media server on its own connection (no header): its call reaches LOCATION (480, alice is not registered)', () => {
    const kam = newKamailio();
    expect(kam.request(callForAlice(), FROM_MEDIA_TCP).reply).toMatchObject({ code: 480, by: 'tm' });
    expect(kam.request(sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, source: `${MEDIA_UDP}:5080` }), FROM_MEDIA_UDP).reply?.code).toBe(480);
  });

  it('refuses any claim that differs from the real peer: another media server, or its own address with another port', () => {
    const kam = newKamailio();
    expect(kam.request(callForAlice(), privateTcpClaiming(`${MEDIA_UDP}:5080`, `${MEDIA_TCP}:53123`)).reply?.code).toBe(403);
    expect(kam.request(callForAlice(), privateTcpClaiming(`${MEDIA_TCP}:5080`, `${MEDIA_TCP}:53123`)).reply?.code).toBe(403);
    // A header naming the real peer exactly claims nothing.
    expect(kam.request(callForAlice(), privateTcpClaiming(`${MEDIA_TCP}:53123`, `${MEDIA_TCP}:53123`)).reply?.code).toBe(480);
  });

  it('refuses before bans and pike: a flood of claimed addresses bans nobody, and each gets its 403', () => {
    const kam = newKamailio();
    const codes = new Set<number | undefined>();
    for (let i = 0; i < 40; i++) {
      codes.add(kam.request(callForAlice(), privateTcpClaiming(`${CLIENT}:5060`)).reply?.code);
    }
    expect([...codes]).toEqual([403]);
    // The victim whose address was claimed is still served.
    expect(kam.htable.get('ipban', CLIENT)).toBeNull();
    expect(kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${PUBLIC_IP}:5060` }), FROM_CLIENT_UDP).reply?.code).toBe(200);
  });

  it("trusts nothing on a connection Kamailio opened to a media server: 5.6.3 shows it on public_tcp_socket, and tcpops' c_si is never read there", () => {
    const kam = withProxySources(BALANCERS);
    const fromOutbound: TransportSpec = { proto: 'tcp', source: `${MEDIA_TCP}:5080`, socket: 'public_tcp_socket', outboundConnection: true };
    const out = kam.request(callForAlice(), fromOutbound);
    expect(out.end).not.toBe('error');
    // A client's INVITE on the public side: challenged, not refused as forged.
    expect(out.reply?.code).toBe(407);
  });
});

describe('PROXY protocol headers on the public TCP/TLS ports', () => {
  const register = (): string => sipRequest({ method: 'REGISTER', ruri: `sip:${DOMAIN}`, from: `<sip:alice@${DOMAIN}>`, to: `<sip:alice@${DOMAIN}>`, proto: 'tcp', source: `${CLIENT}:41000` });
  const throughPeer = (peer: string, socket = 'public_tcp_socket', proto: 'tcp' | 'wss' = 'tcp'): TransportSpec => ({ proto, source: `${CLIENT}:41000`, socket, proxiedBy: peer });

  it('accepts a header from any peer while PROXY_SOURCES is unset, as before', () => {
    const kam = newKamailio();
    expect(kam.request(register(), throughPeer(ATTACKER)).reply?.code).toBe(401);
  });

  it('with PROXY_SOURCES set, refuses a header from any other peer (403), takes one from a listed balancer', () => {
    const kam = withProxySources(BALANCERS);
    expect(kam.request(register(), throughPeer(ATTACKER)).reply).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect(kam.request(register(), throughPeer('10.0.0.2:50000')).reply?.code).toBe(401);
    expect(kam.request(register(), throughPeer('10.0.0.3:50001')).reply?.code).toBe(401);
    // The WebRTC (TLS) port the same way.
    expect(kam.request(register(), throughPeer(ATTACKER, 'public_webrtc_socket', 'wss')).reply?.code).toBe(403);
    expect(kam.request(register(), throughPeer('10.0.0.2:50000', 'public_webrtc_socket', 'wss')).reply?.code).toBe(401);
  });

  it('with PROXY_SOURCES set, still serves clients connecting directly, over TCP and UDP', () => {
    const kam = withProxySources(BALANCERS);
    expect(kam.request(register(), FROM_CLIENT_TCP).reply?.code).toBe(401);
    expect(kam.request(sipRequest({ method: 'REGISTER', ruri: `sip:${DOMAIN}`, from: `<sip:alice@${DOMAIN}>`, to: `<sip:alice@${DOMAIN}>` }), FROM_CLIENT_UDP).reply?.code).toBe(401);
  });

  it('reads PROXY_SOURCES separated by spaces or commas; blank is unset', () => {
    const spaced = withProxySources('  10.0.0.2 ,, 10.0.0.3 ');
    expect(spaced.request(register(), throughPeer('10.0.0.2:50000')).reply?.code).toBe(401);
    expect(spaced.request(register(), throughPeer('10.0.0.3:50000')).reply?.code).toBe(401);
    expect(spaced.request(register(), throughPeer('10.0.0.20:50000')).reply?.code).toBe(403);
    expect(withProxySources(' ').request(register(), throughPeer(ATTACKER)).reply?.code).toBe(401);
  });

  it('refuses a claimed source before bans and pike there too', () => {
    const kam = withProxySources(BALANCERS);
    const codes = new Set<number | undefined>();
    for (let i = 0; i < 40; i++) codes.add(kam.request(register(), throughPeer(ATTACKER)).reply?.code);
    expect([...codes]).toEqual([403]);
    expect(kam.htable.get('ipban', CLIENT)).toBeNull();
  });
});
