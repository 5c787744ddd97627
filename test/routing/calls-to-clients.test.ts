import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { FLAG } from '../../src/routing/config';
import { OFFER_TO_CLIENT, OFFER_TO_WEBRTC_CLIENT } from '../../src/routing/media';
import {
  CLIENT,
  DOMAIN,
  FROM_CLIENT_TCP,
  FROM_CLIENT_UDP,
  FROM_MEDIA_TCP,
  FROM_MEDIA_UDP,
  LOCAL_IP,
  OFFER_SDP,
  PUBLIC_IP,
  clientRequest,
  headerValues,
  newKamailio,
} from './scenario.ts';
import type { Kamailio, TransportSpec } from '../../mocks/index.ts';

function register(kam: Kamailio, user: string, transport: TransportSpec, contact?: string): void {
  const spec = { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:${user}@${DOMAIN}>`, ...(contact ? { contact } : {}) };
  expect(kam.request(clientRequest(kam, spec, user), transport).reply?.code).toBe(200);
}

/** The article's FreeSWITCH bridge: the media server sends the call to Kamailio's private port. */
function mediaServerInvite(user: string): string {
  return sipRequest({ method: 'INVITE', ruri: `sip:${user}@${LOCAL_IP}:5070`, source: '10.0.0.21:5080', from: '<sip:1000@10.0.0.21>', body: OFFER_SDP });
}

describe('calls from media servers to registered clients', () => {
  it('sends a media server INVITE to a UDP subscriber from the public socket, to the address NAT showed, with internal->external flags', () => {
    const kam = newKamailio();
    register(kam, 'alice', FROM_CLIENT_UDP);
    const out = kam.request(mediaServerInvite('alice'), FROM_MEDIA_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: CLIENT, port: 32000 });
    expect(out.relay?.socket.name).toBe('public_socket');
    expect(headerValues(out.relay!.message, 'Via')[0]).toContain(`${PUBLIC_IP}:5060`);
    expect(headerValues(out.relay!.message, 'Record-Route')[0]).toMatch(new RegExp(`^<sip:${PUBLIC_IP}:5060;r2=on;lr`));
    expect(out.rtpengine.map((c) => c.flags)).toEqual([OFFER_TO_CLIENT]);
    expect(OFFER_TO_CLIENT).toBe('replace-origin ICE=remove internal external');
    expect(out.flags).toContain(FLAG.fromSwitch);
  });

  it('reaches a TCP subscriber over its existing connection from the public TCP socket, never dialling a new one', () => {
    const kam = newKamailio();
    register(kam, 'bob', FROM_CLIENT_TCP, `<sip:bob@192.168.1.30:5060;transport=tcp>`);
    const out = kam.request(mediaServerInvite('bob'), FROM_MEDIA_TCP);
    expect(out.relay?.destination).toEqual({ proto: 'tcp', host: CLIENT, port: 41000 });
    expect(out.relay?.socket.name).toBe('public_tcp_socket');
    expect(out.relay?.noConnect).toBe(true);
  });

  it('uses the WebRTC flags only toward a WebSocket client', () => {
    const kam = newKamailio();
    const wss = { proto: 'wss', source: `${CLIENT}:50123`, socket: 'public_webrtc_socket' } as const;
    register(kam, 'alice', wss, '<sip:abc123@df7jal23ls0d.invalid;transport=ws>');
    const out = kam.request(mediaServerInvite('alice'), FROM_MEDIA_UDP);
    expect(out.relay?.destination.proto).toBe('wss');
    expect(out.relay?.socket.name).toBe('public_webrtc_socket');
    expect(out.rtpengine.map((c) => c.flags)).toEqual([OFFER_TO_WEBRTC_CLIENT]);
    expect(OFFER_TO_WEBRTC_CLIENT).toBe(
      'replace-origin ICE=force SDES=off UDP/TLS/RTP/SAVPF rtcp-mux-offer rtcp-mux-require codec-mask-all codec-transcode-PCMA codec-transcode-PCMU generate-mid internal external',
    );
    expect(out.flags).toContain(FLAG.webrtcClient);
  });

  it('answers 480 for a subscriber who is not registered, statefully', () => {
    const kam = newKamailio();
    const out = kam.request(mediaServerInvite('bob'), FROM_MEDIA_UDP);
    expect(out.reply).toMatchObject({ code: 480, by: 'tm' });
  });

  it('answers 404 for a user who is no subscriber', () => {
    const kam = newKamailio();
    expect(kam.request(mediaServerInvite('nobody'), FROM_MEDIA_UDP).reply).toMatchObject({ code: 404 });
  });

  it('answers 405 when the registered contacts do not accept the method', () => {
    const kam = newKamailio();
    const spec = { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>`, headers: [['Allow', 'INVITE, ACK, BYE, CANCEL']] as Array<[string, string]> };
    expect(kam.request(clientRequest(kam, spec, 'alice'), FROM_CLIENT_UDP).reply?.code).toBe(200);
    const message = sipRequest({ method: 'MESSAGE', ruri: `sip:alice@${LOCAL_IP}:5070`, source: '10.0.0.21:5080', body: 'hi', contentType: 'text/plain' });
    expect(kam.request(message, FROM_MEDIA_UDP).reply).toMatchObject({ code: 405 });
  });
});
