/**
 * reply_route{} (ksr_reply_route): replies that belong to no transaction are
 * dropped, never forwarded on to their next Via; replies to what the proxy
 * relayed go on as before.
 */
import { describe, expect, it } from 'vitest';
import { DOMAIN, FROM_CLIENT_UDP, FROM_MEDIA_UDP, MEDIA_UDP, OFFER_SDP, PUBLIC_IP, clientRequest, newKamailio } from './scenario.ts';

function stray(status: string, nextVia: string): string {
  return [
    `SIP/2.0 ${status}`,
    `Via: SIP/2.0/UDP ${PUBLIC_IP}:5060;branch=z9hG4bK-forged`,
    `Via: ${nextVia}`,
    `From: <sip:alice@${DOMAIN}>;tag=a1`,
    `To: <sip:1000@${DOMAIN}>;tag=b1`,
    'Call-ID: forged-1',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('replies that match no transaction', () => {
  it('drops a forged 200 OK whose next Via is a media server on the private network, instead of forwarding it there', () => {
    const kam = newKamailio();
    const out = kam.strayReply(stray('200 OK', `SIP/2.0/UDP ${MEDIA_UDP}:5080;branch=z9hG4bK-ms`), FROM_CLIENT_UDP);
    expect(out).toMatchObject({ end: 'drop', dropped: true, forwarded: undefined });
  });

  it('drops a stray provisional reply from a media server too', () => {
    const kam = newKamailio();
    const out = kam.strayReply(stray('180 Ringing', 'SIP/2.0/UDP 203.0.113.50:32000;branch=z9hG4bK-c'), FROM_MEDIA_UDP);
    expect(out.dropped).toBe(true);
  });

  it('lets the replies of a relayed call through: the client gets the media server\'s 200', () => {
    const kam = newKamailio();
    const call = kam.request(clientRequest(kam, { method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, body: OFFER_SDP }, 'alice'), FROM_CLIENT_UDP);
    const ok = kam.replyFromUpstream(call, 200, { body: OFFER_SDP });
    expect(ok.routes.map((r) => [r.route, r.end])).toEqual([
      ['ksr_reply_route', 'return'],
      ['ksr_onreply_manage', 'return'],
    ]);
    expect(ok.forwarded?.code).toBe(200);
  });
});
