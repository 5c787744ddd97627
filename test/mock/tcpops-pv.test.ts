/**
 * tcpops $tcp(c_si)/$tcp(c_sp) in the mock: what Kamailio 5.6.3 returned for
 * each kind of connection in test/engine/proxy-protocol.test.ts.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createKamailio, sipRequest, type TransportSpec } from '../../mocks/index.ts';
import { parseCfg } from '../../mocks/config/cfg.ts';
import { loadApiList } from '../../build/kemi/api-list.ts';
import { ENV, FIXTURE_DISPATCHER, K, TCP_CLIENT, UDP_CLIENT, inRoute } from './helpers.ts';

/** The project's cfg: tcp_accept_haproxy=yes, tcpops loaded (the fixture cfg sets neither); TLS_CERT for its WebRTC socket. */
const PROJECT_CFG = fileURLToPath(new URL('../../kamailio.cfg', import.meta.url));
const PROJECT = { cfgPath: PROJECT_CFG, env: { ...ENV, TLS_CERT: '/etc/kamailio/tls.pem' } } as const;
const PVS = ['$tcp(c_si)', '$tcp(c_sp)', '$si', '$sp'] as const;
const read = (transport: TransportSpec, extra: Parameters<typeof inRoute>[3] = PROJECT): unknown[] =>
  inRoute((k) => PVS.map((pv) => k.pv.get(pv)), undefined, transport, extra);

describe('tcpops $tcp(c_si) / $tcp(c_sp)', () => {
  it('is the connection peer, the same as $si/$sp, on a TCP connection without a PROXY header', () => {
    expect(read(TCP_CLIENT)).toEqual(['203.0.113.10', 40123, '203.0.113.10', 40123]);
  });

  it('is the real peer while $si/$sp are what a PROXY header claimed', () => {
    const spoofed: TransportSpec = { proto: 'tcp', source: '10.0.0.21:5090', socket: 'private_tcp_socket', proxiedBy: '198.51.100.66:40000' };
    expect(read(spoofed)).toEqual(['198.51.100.66', 40000, '10.0.0.21', 5090]);
    // TLS (and the WebSocket messages on it) the same way.
    expect(read({ proto: 'wss', source: '203.0.113.8:42000', socket: 'public_webrtc_socket', proxiedBy: '10.0.0.2:51000' })).toEqual([
      '10.0.0.2', 51000, '203.0.113.8', 42000,
    ]);
  });

  it('is null over UDP (no connection has the message conid 0)', () => {
    expect(read(UDP_CLIENT)).toEqual([null, null, '203.0.113.10', 5060]);
  });

  it('has no recorded peer on a connection Kamailio opened: c_sp is 0, and c_si (CRITICAL in Kamailio) throws', () => {
    const outbound: TransportSpec = { proto: 'tcp', source: '10.0.0.11:5090', socket: 'public_tcp_socket', outboundConnection: true };
    expect(inRoute((k) => [k.pv.get('$tcp(c_sp)'), k.pv.get('$sp'), k.pv.get('$Rn')], undefined, outbound, PROJECT)).toEqual([0, 5090, 'public_tcp_socket']);
    expect(() => inRoute((k) => k.pv.get('$tcp(c_si)'), undefined, outbound, PROJECT)).toThrow(/unknown address family 0/);
  });

  it('binds a connection Kamailio opened to the first TCP socket of the address, as 5.6.3 does (never private_tcp_socket here)', () => {
    const outbound: TransportSpec = { proto: 'tcp', source: '10.0.0.11:5090', socket: 'private_tcp_socket', outboundConnection: true };
    expect(() => read(outbound)).toThrow(/first tcp socket of its address \(public_tcp_socket\), not private_tcp_socket/);
  });

  it('has no recorded peer on any connection when tcp_accept_haproxy is off (the fixture cfg)', () => {
    expect(inRoute((k) => k.pv.get('$tcp(c_sp)'), undefined, TCP_CLIENT)).toBe(0);
    expect(() => inRoute((k) => k.pv.get('$tcp(c_si)'), undefined, TCP_CLIENT)).toThrow(/CRITICAL/);
  });

  it('refuses a harness transport Kamailio could not have produced', () => {
    expect(() => read({ ...UDP_CLIENT, proxiedBy: '10.0.0.2:5000' })).toThrow(/has no connection/);
    expect(() => read({ ...UDP_CLIENT, outboundConnection: true })).toThrow(/has no connection/);
    expect(() => read({ ...TCP_CLIENT, proxiedBy: '10.0.0.2:5000', outboundConnection: true })).toThrow(/never starts with a PROXY header/);
    expect(() => read({ ...TCP_CLIENT, proxiedBy: '10.0.0.2' })).toThrow(/"ip:port"/);
    expect(() => read({ ...TCP_CLIENT, proxiedBy: '10.0.0.2:5000' }, {})).toThrow(/tcp_accept_haproxy=yes/);
  });

  it('knows only c_si and c_sp, and only with tcpops loaded', () => {
    expect(() => inRoute((k) => k.pv.get('$tcp(conid)'), undefined, TCP_CLIENT, PROJECT)).toThrow(/not modelled/);
    const api = loadApiList();
    const withoutTcpops = { ...api, functions: api.functions.filter((f) => f.module !== 'tcpops') };
    expect(() => inRoute((k) => k.pv.get('$tcp(c_si)'), undefined, TCP_CLIENT, { ...PROJECT, api: withoutTcpops })).toThrow(/tcpops module is not loaded/);
  });

  it('is not modelled for replies from upstream over TCP', () => {
    let seen: unknown = 'not run';
    const kam = createKamailio({
      routing: {
        ksr_request_route: () => {
          K().tm.t_on_reply('ksr_onreply');
          K().setdsturi('sip:10.0.0.11:5090;transport=tcp');
          K().tm.t_relay();
        },
        ksr_onreply: () => {
          try {
            seen = K().pv.get('$tcp(c_si)');
          } catch (err) {
            seen = (err as Error).message;
          }
        },
      },
      cfgPath: PROJECT_CFG,
      env: ENV,
      dispatcherList: { file: FIXTURE_DISPATCHER },
    });
    const out = kam.request(sipRequest({ method: 'INVITE', ruri: 'sip:bob@198.51.100.7', proto: 'tcp', source: '203.0.113.10:40123' }), TCP_CLIENT);
    kam.replyFromUpstream(out, 180);
    expect(seen).toMatch(/models the connection of received requests and HTTP only/);
  });

  it('reads tcp_accept_haproxy from the cfg', () => {
    expect(parseCfg('tcp_accept_haproxy=yes\n', {}).acceptHaproxy).toBe(true);
    expect(parseCfg('tcp_accept_haproxy=no\n', {}).acceptHaproxy).toBe(false);
    expect(parseCfg('', {}).acceptHaproxy).toBe(false);
  });
});
