import { describe, expect, it } from 'vitest';
import { sipRequest, type Kamailio } from '../../mocks/index.ts';
import { FLAG } from '../../src/routing/config';
import { OFFER_TO_MEDIA_SERVER } from '../../src/routing/media';
import {
  CLIENT,
  DOMAIN,
  FROM_CLIENT_UDP,
  FROM_MEDIA_UDP,
  LOCAL_IP,
  MEDIA_UDP,
  OFFER_SDP,
  PUBLIC_IP,
  clientRequest,
  newKamailio,
} from './scenario.ts';

/** The route set a client learns from our double Record-Route. */
const CLIENT_ROUTES: Array<[string, string]> = [['Route', `<sip:${PUBLIC_IP}:5060;r2=on;lr>, <sip:${LOCAL_IP}:5070;r2=on;lr>`]];
/** ... and the one a media server learns. */
const MEDIA_ROUTES: Array<[string, string]> = [['Route', `<sip:${LOCAL_IP}:5070;r2=on;lr>, <sip:${PUBLIC_IP}:5060;r2=on;lr>`]];

function inDialog(method: string, ruri: string, routes: Array<[string, string]>, source = `${CLIENT}:32000`, body?: string): string {
  return sipRequest({ method, ruri, source, toTag: 'callee-tag', headers: routes, ...(body ? { body } : {}) });
}

describe('DIALOG', () => {
  it('relays a client BYE along the Record-Route set to the media server and releases the media', () => {
    const kam = newKamailio();
    const out = kam.request(inDialog('BYE', `sip:mod_sofia@${MEDIA_UDP}:5080`, CLIENT_ROUTES), FROM_CLIENT_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: MEDIA_UDP, port: 5080 });
    expect(out.rtpengine).toEqual([expect.objectContaining({ fn: 'rtpengine_manage', method: 'BYE' })]);
    expect(out.flags).toContain(FLAG.toSwitch);
  });

  it('relays a client re-INVITE to the media server with the client->switch flags', () => {
    const kam = newKamailio();
    const out = kam.request(inDialog('INVITE', `sip:mod_sofia@${MEDIA_UDP}:5080`, CLIENT_ROUTES, undefined, OFFER_SDP), FROM_CLIENT_UDP);
    expect(out.relay?.destination.host).toBe(MEDIA_UDP);
    expect(out.rtpengine.map((c) => c.flags)).toEqual([OFFER_TO_MEDIA_SERVER]);
    expect(out.callbacks.failure).toBeNull();
  });

  it("follows a Route past ours when it leads to a media server (the media server's own Record-Route)", () => {
    const kam = newKamailio();
    const routes: Array<[string, string]> = [['Route', `${CLIENT_ROUTES[0]![1]}, <sip:${MEDIA_UDP}:5080;lr>`]];
    const out = kam.request(inDialog('BYE', 'sip:mod_sofia@10.0.0.99:5080', routes), FROM_CLIENT_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: MEDIA_UDP, port: 5080 });
  });

  it('refuses with 403 a forged Route past ours that leads outside', () => {
    const kam = newKamailio();
    const routes: Array<[string, string]> = [['Route', `${CLIENT_ROUTES[0]![1]}, <sip:192.0.2.66:5060;lr>`]];
    const out = kam.request(inDialog('BYE', `sip:mod_sofia@${MEDIA_UDP}:5080`, routes), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(403);
    expect(out.relays).toEqual([]);
  });

  it('relays an in-dialog INFO (DTMF) without touching rtpengine', () => {
    const kam = newKamailio();
    const out = kam.request(inDialog('INFO', `sip:mod_sofia@${MEDIA_UDP}:5080`, CLIENT_ROUTES), FROM_CLIENT_UDP);
    expect(out.relay?.destination.host).toBe(MEDIA_UDP);
    expect(out.rtpengine).toEqual([]);
  });

  it('absorbs the ACK to a negative reply in tm without relaying it', () => {
    const kam = newKamailio();
    const invite = clientRequest(kam, { method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, body: OFFER_SDP, callId: 'call-486', branch: 'z9hG4bKbusy' }, 'alice');
    const out = kam.request(invite, FROM_CLIENT_UDP);
    kam.replyFromUpstream(out, 486);
    const ack = sipRequest({ method: 'ACK', ruri: `sip:1000@${DOMAIN}`, source: `${CLIENT}:32000`, callId: 'call-486', branch: 'z9hG4bKbusy', toTag: 'callee-tag' });
    const acked = kam.request(ack, FROM_CLIENT_UDP);
    expect(acked.relays).toEqual([]);
    expect(acked.end).toBe('exit');
  });

  it('refuses with 403 an in-dialog request whose forged route leads anywhere but a media server', () => {
    const kam = newKamailio();
    const out = kam.request(inDialog('MESSAGE', 'sip:victim@192.0.2.66:5060', CLIENT_ROUTES), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(403);
    expect(out.relays).toEqual([]);
  });

  it('relays a media server BYE to a client behind NAT through the alias in its Contact', () => {
    const kam = newKamailio();
    const ruri = `sip:alice@192.168.1.20:5060;alias=${CLIENT}~32000~1`;
    const out = kam.request(inDialog('BYE', ruri, MEDIA_ROUTES, `${MEDIA_UDP}:5080`), FROM_MEDIA_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: CLIENT, port: 32000 });
    expect(out.flags).toContain(FLAG.fromSwitch);
  });

  it('absorbs an ACK for an unknown transaction', () => {
    const kam = newKamailio();
    const out = kam.request(inDialog('ACK', `sip:1000@${DOMAIN}`, []), FROM_CLIENT_UDP);
    expect(out.end).toBe('exit');
    expect(out.relays).toEqual([]);
    expect(out.replies).toEqual([]);
  });

  it('answers 404 to an in-dialog request that carries no route through us', () => {
    const kam = newKamailio();
    const out = kam.request(inDialog('BYE', `sip:1000@${DOMAIN}`, []), FROM_CLIENT_UDP);
    expect(out.reply).toMatchObject({ code: 404 });
  });
});

describe('CANCEL and retransmissions', () => {
  function ringingCall(kam: Kamailio): { invite: string; out: ReturnType<Kamailio['request']> } {
    const invite = clientRequest(kam, { method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, body: OFFER_SDP, callId: 'call-1', branch: 'z9hG4bKcall1' }, 'alice');
    const out = kam.request(invite, FROM_CLIENT_UDP);
    kam.replyFromUpstream(out, 180);
    return { invite, out };
  }

  it('relays a CANCEL along its INVITE transaction and releases the media', () => {
    const kam = newKamailio();
    const { invite } = ringingCall(kam);
    const cancel = invite
      .replace(/^INVITE /, 'CANCEL ')
      .replace(/CSeq: 1 INVITE/, 'CSeq: 1 CANCEL')
      .replace(/\r\nContent-Type[^]*$/, '\r\nContent-Length: 0\r\n\r\n')
      .replace(/\r\nProxy-Authorization:[^\r]*/, '');
    const out = kam.request(cancel, FROM_CLIENT_UDP);
    expect(out.relay?.method).toBe('CANCEL');
    expect(out.rtpengine.map((c) => c.method)).toEqual(['CANCEL']);
    // Its R-URI names the SIP domain: resolving it would hold the worker on DNS.
    expect(out.logs.filter((l) => l.text.includes('could not resolve'))).toEqual([]);
  });

  it('drops a CANCEL that matches no transaction', () => {
    const kam = newKamailio();
    const cancel = sipRequest({ method: 'CANCEL', ruri: `sip:1000@${DOMAIN}`, source: `${CLIENT}:32000` });
    const out = kam.request(cancel, FROM_CLIENT_UDP);
    expect(out.relays).toEqual([]);
    expect(out.end).toBe('exit');
  });

  it('ends the route for a copy of a request another worker is still processing', () => {
    const kam = newKamailio();
    const invite = clientRequest(kam, { method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, body: OFFER_SDP }, 'alice');
    const out = kam.request(invite, { ...FROM_CLIENT_UDP, inFlightElsewhere: true });
    expect(out.end).toBe('exit');
    expect(out.relays).toEqual([]);
    expect(out.replies).toEqual([]);
  });

  it('absorbs a retransmitted INVITE without relaying it again', () => {
    const kam = newKamailio();
    const { invite } = ringingCall(kam);
    const again = kam.request(invite, FROM_CLIENT_UDP);
    expect(again.relays).toEqual([]);
    expect(again.rtpengine).toEqual([]);
  });
});
