/**
 * rtpengine down, not answering, or refusing: an offer that cannot be
 * anchored is refused (503 without rtpengine, 488 for an SDP it refuses),
 * never relayed unanchored; calls end and answers pass whatever rtpengine
 * does (relay.ts refuseUnanchoredOffer, reply.ts).
 */
import { describe, expect, it } from 'vitest';
import { sipReply, sipRequest, type Kamailio } from '../../mocks/index.ts';
import { CLIENT, DOMAIN, FROM_CLIENT_UDP, FROM_MEDIA_UDP, LOCAL_IP, MEDIA_UDP, OFFER_SDP, PUBLIC_IP, clientRequest, newKamailio } from './scenario.ts';

const INVITE = { method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, body: OFFER_SDP };
const CLIENT_ROUTES: Array<[string, string]> = [['Route', `<sip:${PUBLIC_IP}:5060;r2=on;lr>, <sip:${LOCAL_IP}:5070;r2=on;lr>`]];

function inDialog(method: string, body?: string): string {
  return sipRequest({ method, ruri: `sip:mod_sofia@${MEDIA_UDP}:5080`, source: `${CLIENT}:32000`, toTag: 'callee-tag', headers: CLIENT_ROUTES, ...(body !== undefined ? { body } : {}) });
}

function down(): Kamailio {
  const kam = newKamailio();
  kam.rtpengine.setState('down');
  return kam;
}

describe('an offer rtpengine cannot anchor', () => {
  it('gets 503 when no rtpengine answers, and is not relayed unanchored to the media server', () => {
    const kam = down();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    expect(out.reply).toMatchObject({ code: 503, reason: 'Media Relay Unavailable', by: 'sl' });
    expect(out.relays).toEqual([]);
    // The failed offer, then the query that tells "no rtpengine" from "refused".
    expect(out.rtpengine.map((c) => c.fn)).toEqual(['rtpengine_manage', 'rtpengine_query']);
    expect(out.logs).toContainEqual({ level: 'ERROR', text: 'rtpengine: no rtpengine answered, offer refused with 503\n' });
  });

  it('gets 488 when rtpengine answers with an error (it refused this SDP)', () => {
    const kam = newKamailio();
    kam.rtpengine.setState('refusing');
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    expect(out.reply).toMatchObject({ code: 488, reason: 'Not Acceptable Here' });
    expect(out.relays).toEqual([]);
    expect(out.logs.filter((l) => l.level === 'ERROR')).toEqual([]);
  });

  it('gets 488 for a body Kamailio cannot parse as SDP, though rtpengine is up (asked nothing for the offer, it answers the query)', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, { ...INVITE, body: 'v=0\r\nthis is not sdp\r\n' }, 'alice'), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(488);
    expect(out.relays).toEqual([]);
  });

  it('gets 503 when a media server calls a registered client without rtpengine: the client is never dialled', () => {
    const kam = newKamailio();
    const register = { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>` };
    expect(kam.request(clientRequest(kam, register, 'alice'), FROM_CLIENT_UDP).reply?.code).toBe(200);
    kam.rtpengine.setState('down');
    const out = kam.request(sipRequest({ method: 'INVITE', ruri: `sip:alice@${LOCAL_IP}:5070`, source: `${MEDIA_UDP}:5080`, from: `<sip:1000@${MEDIA_UDP}>`, body: OFFER_SDP }), FROM_MEDIA_UDP);
    expect(out.reply?.code).toBe(503);
    expect(out.relays).toEqual([]);
  });

  it('refuses an in-dialog re-INVITE or UPDATE offer the same way (the call keeps its media as it was)', () => {
    const kam = down();
    expect(kam.request(inDialog('INVITE', OFFER_SDP), FROM_CLIENT_UDP).reply?.code).toBe(503);
    expect(kam.request(inDialog('UPDATE', OFFER_SDP), FROM_CLIENT_UDP).reply?.code).toBe(503);
  });
});

describe('what goes on without rtpengine', () => {
  it('relays a BYE: the call ends whatever rtpengine says', () => {
    const kam = down();
    const bye = kam.request(inDialog('BYE'), FROM_CLIENT_UDP);
    expect(bye.relay?.destination.host).toBe(MEDIA_UDP);
    expect(bye.rtpengine.map((c) => c.fn)).toEqual(['rtpengine_manage']);
  });

  it('relays an ACK carrying an answer: an ACK cannot be refused', () => {
    const kam = down();
    const ack = kam.request(inDialog('ACK', OFFER_SDP), FROM_CLIENT_UDP);
    expect(ack.relay?.destination.host).toBe(MEDIA_UDP);
  });

  it('relays an INVITE without SDP (late offer): there is nothing to anchor yet', () => {
    const kam = down();
    const out = kam.request(clientRequest(kam, { ...INVITE, body: '' }, 'alice'), FROM_CLIENT_UDP);
    expect(out.relay?.destination.host).toBe(MEDIA_UDP);
    expect(out.rtpengine).toEqual([]);
  });

  it('forwards an answer rtpengine can no longer take (it went away after the offer) and logs it', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP);
    expect(out.relay?.destination.host).toBe(MEDIA_UDP);
    kam.rtpengine.setState('down');
    const ok = kam.replyFromUpstream(out, sipReply(out.relay!.message, 200, { body: OFFER_SDP }));
    expect(ok.forwarded?.code).toBe(200);
    expect(ok.logs).toContainEqual({ level: 'ERROR', text: 'rtpengine: answer not anchored, relayed as it is\n' });
  });

  it('uses rtpengine again as soon as it answers: the next offer is relayed', () => {
    const kam = down();
    expect(kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP).reply?.code).toBe(503);
    kam.rtpengine.setState('up');
    expect(kam.request(clientRequest(kam, INVITE, 'alice'), FROM_CLIENT_UDP).relays).toHaveLength(1);
  });
});
