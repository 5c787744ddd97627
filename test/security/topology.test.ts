/**
 * What a client sees of the private side. Headers the proxy writes toward a
 * client carry PUBLIC_IP (our Via, our Record-Route entry of the client's
 * leg) and its own replies carry nothing private at all. What stays visible,
 * by decision (README "Security"):
 * - LOCAL_IP:PRIVATE_PORT as the second entry of our double Record-Route:
 *   the media server's leg of the route set, which the client sends back and
 *   the proxy consumes (rr r2=on); hiding it takes topology hiding (topoh).
 * - The media server's own headers: its Via below ours in its requests (the
 *   response path), its Contact (the remote target, reached only through our
 *   Route), its User-Agent/Server (set FreeSWITCH's user-agent-string).
 * These tests pin that list, so widening it is a decision too.
 */
import { describe, expect, it } from 'vitest';
import { sipReply, sipRequest, type SipMessage } from '../../mocks/index.ts';
import { CLIENT, DOMAIN, LOCAL_IP, MEDIA_TCP, MEDIA_UDP, PUBLIC_IP, credentials, newKamailio, register, request } from './support.ts';

const PRIVATE = [LOCAL_IP, MEDIA_UDP, MEDIA_TCP];
const CLIENTS = [
  { proto: 'udp', source: `${CLIENT}:32000`, socket: 'public_socket', port: 5060 },
  { proto: 'tcp', source: `${CLIENT}:41000`, socket: 'public_tcp_socket', port: 5060 },
  { proto: 'wss', source: `${CLIENT}:50123`, socket: 'public_webrtc_socket', port: 7777 },
] as const;
const FROM_MEDIA = { proto: 'udp', source: `${MEDIA_UDP}:5080`, socket: 'private_socket' } as const;

const lines = (m: SipMessage, name: string): string[] => m.all(name).map((h) => h.value);
const mentionsPrivate = (text: string): string[] => PRIVATE.filter((ip) => text.includes(ip));

describe('toward clients the proxy writes PUBLIC_IP', () => {
  for (const c of CLIENTS) {
    it(`a media server's INVITE to a client over ${c.proto}: our Via and the client's Record-Route entry are PUBLIC_IP:${c.port}`, () => {
      const kam = newKamailio();
      const t = { proto: c.proto, source: c.source, socket: c.socket };
      expect(kam.request(register(kam, t, 'alice'), t).reply?.code).toBe(200);
      const invite = sipRequest({
        method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, from: `<sip:1000@${DOMAIN}>`, source: FROM_MEDIA.source,
        contact: `<sip:mod_sofia@${MEDIA_UDP}:5080>`, headers: [['User-Agent', 'FreeSWITCH-mod_sofia/1.10.11']],
      });
      const sent = kam.request(invite, FROM_MEDIA).relay!.message;
      const [ours, theirs] = lines(sent, 'Via');
      expect(ours).toMatch(new RegExp(`^SIP/2\\.0/${c.proto.toUpperCase()} ${PUBLIC_IP.replace(/\./g, '\\.')}:${c.port};`));
      expect(mentionsPrivate(ours!)).toEqual([]);
      const rr = lines(sent, 'Record-Route');
      expect(rr).toHaveLength(2);
      expect(rr[0]).toContain(`sip:${PUBLIC_IP}:${c.port}`);
      expect(rr[0]).toContain(';r2=on');
      // Known and kept: the private leg's entry, and the media server's own headers.
      expect(rr[1]).toContain(`sip:${LOCAL_IP}:5070`);
      expect(theirs).toContain(MEDIA_UDP);
      expect(sent.get('Contact')).toContain(MEDIA_UDP);
      expect(sent.get('User-Agent')).toBe('FreeSWITCH-mod_sofia/1.10.11');
    });
  }

  it("a media server's 200 forwarded to the calling client: only the client's Via, the same two Record-Route entries", () => {
    const kam = newKamailio();
    const t = { proto: 'udp', source: `${CLIENT}:32000`, socket: 'public_socket' } as const;
    const ruri = `sip:1000@${DOMAIN}`;
    const out = kam.request(request(t, { method: 'INVITE', ruri, headers: [credentials(kam, 'INVITE', ruri, 'alice')] }), t);
    const ok = sipReply(out.relay!.message, 200, { headers: [['Contact', `<sip:mod_sofia@${MEDIA_UDP}:5080>`], ['Server', 'FreeSWITCH-mod_sofia/1.10.11']] });
    const forwarded = kam.replyFromUpstream(out, ok).forwarded!.message;
    expect(lines(forwarded, 'Via').flatMap(mentionsPrivate)).toEqual([]);
    const rr = lines(forwarded, 'Record-Route');
    expect(rr.map((r) => r.includes(`sip:${PUBLIC_IP}:5060`) || r.includes(`sip:${LOCAL_IP}:5070`))).toEqual([true, true]);
    // The client's route set, RR reversed for a UAC: PUBLIC_IP first, which is where its ACK and BYE go.
    expect(rr[rr.length - 1]).toContain(`sip:${PUBLIC_IP}:5060`);
    expect(forwarded.get('Server')).toBe('FreeSWITCH-mod_sofia/1.10.11');
  });
});

describe("the proxy's own replies to clients carry nothing private", () => {
  it('challenges, refusals, errors and keepalives name no private address; Server is plain "Kamailio"', () => {
    const kam = newKamailio();
    const t = CLIENTS[0];
    const replies = [
      request(t, { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>` }),
      request(t, { method: 'INVITE', ruri: `sip:1000@${DOMAIN}` }),
      request(t, { method: 'INVITE', ruri: 'sip:victim@evil.example.net' }),
      sipRequest({ method: 'BYE', ruri: `sip:1000@${DOMAIN}`, toTag: 'x', source: t.source }),
      request(t, { method: 'PRACK' }),
      sipRequest({ method: 'OPTIONS', ruri: `sip:${DOMAIN}`, source: t.source, maxForwards: 0 }),
      sipRequest({ method: 'OPTIONS', ruri: `sip:${PUBLIC_IP}:5060`, source: t.source }),
    ].map((raw) => kam.request(raw, t).reply!);
    expect(replies.map((r) => r.code)).toEqual([401, 407, 403, 404, 481, 483, 200]);
    for (const r of replies) {
      expect(mentionsPrivate(r.message.toString()), `${r.code} ${r.reason}`).toEqual([]);
      expect(r.message.get('Server')).toBe('Kamailio');
    }
    // The keepalive names the routing build and the worker (for the reload tool), nothing about the network.
    expect(replies[6]!.headers.map((h) => h.name)).toEqual(['X-Routing-Build', 'X-Routing-Worker']);
  });
});
