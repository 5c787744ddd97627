import { describe, expect, it } from 'vitest';
import { createKamailio } from '../../mocks/index.ts';
import * as routing from '../../src/main';
import { FLAG } from '../../src/routing/config';
import { OFFER_TO_MEDIA_SERVER } from '../../src/routing/media';
import {
  DOMAIN,
  ENV,
  SUBSCRIBERS,
  FROM_CLIENT_TCP,
  FROM_CLIENT_UDP,
  LOCAL_IP,
  MEDIA_TCP,
  MEDIA_UDP,
  OFFER_SDP,
  PUBLIC_IP,
  clientRequest,
  headerValues,
  newKamailio,
} from './scenario.ts';

const INVITE = { method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, body: OFFER_SDP };

function viaHosts(message: Parameters<typeof headerValues>[0]): string[] {
  return headerValues(message, 'Via').map((v) => v.split(/[ ;]/)[1]!);
}

describe('calls from clients to the media servers', () => {
  it('challenges an INVITE without credentials with 407 and relays nothing', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(407);
    expect(out.reply?.headers.map((h) => h.name)).toContain('Proxy-Authenticate');
    expect(out.relays).toEqual([]);
    expect(out.rtpengine).toEqual([]);
  });

  it('sends a client INVITE arriving on public 5060 to the media server from the private port, with external->internal flags', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: MEDIA_UDP, port: 5080 });
    expect(out.relay?.socket.name).toBe('private_socket');
    expect(viaHosts(out.relay!.message)[0]).toBe(`${LOCAL_IP}:5070`);
    const [privateSide, publicSide] = headerValues(out.relay!.message, 'Record-Route');
    expect(privateSide).toMatch(new RegExp(`^<sip:${LOCAL_IP}:5070;r2=on;lr;ftag=`));
    expect(publicSide).toMatch(new RegExp(`^<sip:${PUBLIC_IP}:5060;r2=on;lr;ftag=`));
    expect(out.rtpengine).toEqual([expect.objectContaining({ fn: 'rtpengine_manage', flags: OFFER_TO_MEDIA_SERVER })]);
    expect(out.rtpengine[0]!.flags).toBe('replace-origin ICE=remove RTP/AVP rtcp-mux-demux external internal');
    expect(out.flags).toContain(FLAG.toSwitch);
    expect(out.noConnect).toEqual({ forward: false, reply: false });
    expect(out.callbacks).toMatchObject({ failure: 'ksr_failure_manage', onreply: 'ksr_onreply_manage' });
    expect(headerValues(out.relay!.message, 'Proxy-Authorization')).toEqual([]);
  });

  it('takes turns between the media servers, and reaches the TCP one from the private TCP socket whatever the client used', () => {
    const kam = newKamailio();
    const first = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    const second = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    const tcpLeg = [first, second].find((o) => o.relay?.destination.host === MEDIA_TCP)!;
    expect(tcpLeg.relay?.destination.proto).toBe('tcp');
    expect(tcpLeg.relay?.socket.name).toBe('private_tcp_socket');
    expect([first, second].map((o) => o.relay?.destination.host).sort()).toEqual([MEDIA_UDP, MEDIA_TCP]);
  });

  it('sends an INVITE from a subscriber over TCP to a UDP media server from the private UDP socket, answering only over the client connection', () => {
    const kam = newKamailio();
    const outs = [kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_TCP), kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_TCP)];
    const udpLeg = outs.find((o) => o.relay?.destination.host === MEDIA_UDP)!;
    expect(udpLeg.relay?.socket.name).toBe('private_socket');
    expect(udpLeg.noConnect.reply).toBe(true);
    expect(headerValues(udpLeg.relay!.message, 'Record-Route')[1]).toMatch(new RegExp(`^<sip:${PUBLIC_IP}:5060;transport=tcp;r2=on;lr`));
  });

  it('leaves the Contact of a request that already crossed another proxy alone (only the first hop is aliased)', () => {
    const kam = newKamailio();
    const viaProxy = clientRequest(kam, { ...INVITE, headers: [['Via', 'SIP/2.0/UDP 192.168.1.1:5060;branch=z9hG4bKfirsthop']] }, 'alice');
    const out = kam.request(viaProxy, FROM_CLIENT_UDP);
    expect(out.relay?.message.get('Contact')).toBe(`<sip:alice@192.168.1.20:5060>`);
    expect(out.flags).toContain(FLAG.nated);
  });

  it('aliases the Contact of a NATed first-hop client so the media server can reach it in-dialog', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    expect(out.relay?.message.get('Contact')).toBe(`<sip:alice@192.168.1.20:5060;alias=203.0.113.50~32000~1>`);
  });

  it('refuses with 403 a call to a foreign domain: no open relay', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, { ...INVITE, ruri: 'sip:1000@evil.example.net' }, 'alice'), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(403);
    expect(out.relays).toEqual([]);
  });

  it('lets tm answer 478 (once) when a media server is configured by a name that does not resolve', () => {
    const kam = createKamailio({ routing, env: ENV, dispatcherList: '1 sip:media.invalid:5080 16 0', subscribers: SUBSCRIBERS });
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    expect(out.relays).toEqual([]);
    expect(out.replies.map((r) => r.code)).toEqual([478]);
  });

  it('answers 503 when every media server is down', () => {
    const kam = newKamailio();
    kam.dispatcher.setState(`sip:${MEDIA_UDP}:5080`, 'inactive');
    kam.dispatcher.setState(`sip:${MEDIA_TCP}:5080;transport=tcp`, 'inactive');
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    expect(out.reply).toMatchObject({ code: 503 });
    expect(out.rtpengine).toEqual([]);
  });
});
