import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { ANSWER_TO_PLAIN_PEER, ANSWER_TO_WEBRTC_CLIENT } from '../../src/routing/media';
import {
  CLIENT,
  DOMAIN,
  FROM_CLIENT_UDP,
  FROM_MEDIA_UDP,
  LOCAL_IP,
  MEDIA_TCP,
  MEDIA_UDP,
  OFFER_SDP,
  clientRequest,
  newKamailio,
} from './scenario.ts';

const INVITE = { method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, body: OFFER_SDP };
const ANSWER_SDP = OFFER_SDP.replace(/192\.168\.1\.20/g, MEDIA_UDP);

describe('failure route: media server failover', () => {
  it('moves a call refused with 503 to the other media server, from the private socket of its transport', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    const first = out.relay!.destination.host;
    const result = kam.replyFromUpstream(out, 503);
    const retry = result.relays[0];
    expect(retry?.destination.host).toBe(first === MEDIA_UDP ? MEDIA_TCP : MEDIA_UDP);
    expect(retry?.socket.name).toBe(retry?.destination.proto === 'tcp' ? 'private_tcp_socket' : 'private_socket');
    expect(result.forwarded).toBeUndefined();
  });

  it('marks a media server that does not answer inactive and tries the next one', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    const silent = out.relay!.dstUri!;
    const result = kam.timeout(out);
    expect(result.relays).toHaveLength(1);
    expect(kam.dispatcher.find(silent)?.state).toBe('inactive');
  });

  it('gives the client a clear 503 and releases the media when no media server is left', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    const second = kam.replyFromUpstream(out, 500);
    const last = kam.replyFromUpstream(out, 503);
    expect(second.relays).toHaveLength(1);
    expect(last.forwarded).toMatchObject({ code: 503, reason: 'No Media Server Available' });
    expect(last.rtpengine.map((c) => c.fn)).toEqual(['rtpengine_delete']);
  });

  it('passes a busy callee (486) to the client without failover and releases the media', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    const result = kam.replyFromUpstream(out, 486);
    expect(result.relays).toEqual([]);
    expect(result.forwarded?.code).toBe(486);
    expect(result.rtpengine.map((c) => c.fn)).toEqual(['rtpengine_delete']);
  });

  it('releases the media of a call the client cancelled', () => {
    const kam = newKamailio();
    const invite = clientRequest(kam, INVITE, 'alice');
    const out = kam.request(invite, FROM_CLIENT_UDP);
    const cancel = invite
      .replace(/^INVITE /, 'CANCEL ')
      .replace(/CSeq: 1 INVITE/, 'CSeq: 1 CANCEL')
      .replace(/\r\nContent-Type[^]*$/, '\r\nContent-Length: 0\r\n\r\n');
    kam.request(cancel, FROM_CLIENT_UDP);
    const result = kam.replyFromUpstream(out, 487);
    expect(result.relays).toEqual([]);
    expect(result.rtpengine.map((c) => c.fn)).toEqual(['rtpengine_delete']);
  });
});

describe('reply route: SDP answers and NATed callees', () => {
  it('passes the media server answer through rtpengine without direction flags', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    const result = kam.replyFromUpstream(out, 200, { body: ANSWER_SDP });
    expect(result.rtpengine).toEqual([expect.objectContaining({ fn: 'rtpengine_manage', flags: ANSWER_TO_PLAIN_PEER, status: 200 })]);
    expect(ANSWER_TO_PLAIN_PEER).toBe('replace-origin ICE=remove');
  });

  it('answers a WebSocket caller with the WebRTC answer flags', () => {
    const kam = newKamailio();
    const wss = { proto: 'wss', source: `${CLIENT}:50123`, socket: 'public_webrtc_socket' } as const;
    const invite = clientRequest(kam, { ...INVITE, contact: '<sip:abc@df7jal23ls0d.invalid;transport=ws>' }, 'alice');
    const out = kam.request(invite, wss);
    const result = kam.replyFromUpstream(out, 200, { body: ANSWER_SDP });
    expect(result.rtpengine.map((c) => c.flags)).toEqual([ANSWER_TO_WEBRTC_CLIENT]);
  });

  it("aliases a NATed client's Contact in its 200 so in-dialog requests reach it", () => {
    const kam = newKamailio();
    const register = { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>` };
    kam.request(clientRequest(kam, register, 'alice'), FROM_CLIENT_UDP);
    const invite = sipRequest({ method: 'INVITE', ruri: `sip:alice@${LOCAL_IP}:5070`, source: `${MEDIA_UDP}:5080`, body: OFFER_SDP });
    const out = kam.request(invite, FROM_MEDIA_UDP);
    const result = kam.replyFromUpstream(out, 200, { body: OFFER_SDP, headers: [['Contact', '<sip:alice@192.168.1.20:5060>']] });
    expect(result.forwarded?.message.get('Contact')).toContain(`;alias=${CLIENT}~32000~1`);
  });

  it('leaves the Contact of a media server reply alone', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    const result = kam.replyFromUpstream(out, 200, { body: ANSWER_SDP, headers: [['Contact', `<sip:mod_sofia@${MEDIA_UDP}:5080>`]] });
    expect(result.forwarded?.message.get('Contact')).toBe(`<sip:mod_sofia@${MEDIA_UDP}:5080>`);
  });
});
