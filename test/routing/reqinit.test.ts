import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { CLIENT, DOMAIN, FROM_CLIENT_UDP, FROM_MEDIA_UDP, LOCAL_IP, PUBLIC_IP, newKamailio } from './scenario.ts';

/** The reload tool (build/reload) probing the workers from the proxy's own address. */
const FROM_PROXY_ITSELF_PUBLIC = { proto: 'udp', source: `${LOCAL_IP}:41000`, socket: 'public_socket' } as const;
const FROM_PROXY_ITSELF_PRIVATE = { proto: 'udp', source: `${LOCAL_IP}:41000`, socket: 'private_socket' } as const;

describe('REQINIT', () => {
  it('answers an OPTIONS keepalive to the proxy itself with 200 and the build id, without credentials', () => {
    const kam = newKamailio();
    const out = kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${PUBLIC_IP}:5060` }), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(200);
    expect(out.reply?.headers).toContainEqual({ name: 'X-Routing-Build', value: 'test' });
    expect(out.relay).toBeUndefined();
  });

  it('names the worker that answered a keepalive by its PID, for the reload tool to tell workers apart', () => {
    const kam = newKamailio();
    const out = kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${PUBLIC_IP}:5060` }), FROM_CLIENT_UDP);
    expect(out.reply?.headers).toContainEqual({ name: 'X-Routing-Worker', value: String(process.pid) });
  });

  it('answers keepalives from the proxy\'s own address on the private port too, with build and worker', () => {
    const kam = newKamailio();
    const out = kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${LOCAL_IP}:5070` }), FROM_PROXY_ITSELF_PRIVATE);
    expect(out.reply?.code).toBe(200);
    expect(out.reply?.headers).toContainEqual({ name: 'X-Routing-Build', value: 'test' });
    expect(out.reply?.headers).toContainEqual({ name: 'X-Routing-Worker', value: String(process.pid) });
  });

  it('never bans the proxy\'s own address for a burst of keepalives (the reload tool\'s probe)', () => {
    const kam = newKamailio();
    const codes: Array<number | undefined> = [];
    for (let i = 0; i < 40; i++) {
      codes.push(kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${LOCAL_IP}:5060` }), FROM_PROXY_ITSELF_PUBLIC).reply?.code);
    }
    expect(codes).toEqual(new Array<number>(40).fill(200));
    expect(kam.htable.get('ipban', LOCAL_IP)).toBeNull();
  });

  it('screens anything else from the proxy\'s own address: 403 on the private port', () => {
    const kam = newKamailio();
    const invite = kam.request(sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}` }), FROM_PROXY_ITSELF_PRIVATE);
    expect(invite.reply?.code).toBe(403);
    const toUser = kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:alice@${DOMAIN}` }), FROM_PROXY_ITSELF_PRIVATE);
    expect(toUser.reply?.code).toBe(403);
  });

  it('answers an OPTIONS keepalive to the SIP domain, also from a media server', () => {
    const kam = newKamailio();
    expect(kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${DOMAIN}` }), FROM_MEDIA_UDP).reply?.code).toBe(200);
  });

  it('replies 483 when Max-Forwards is exhausted', () => {
    const kam = newKamailio();
    const out = kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${DOMAIN}`, maxForwards: 0 }), FROM_CLIENT_UDP);
    expect(out.reply).toMatchObject({ code: 483 });
  });

  it('replies 400 to a Max-Forwards that is no number, and lowers one above max_limit', () => {
    const kam = newKamailio();
    for (const value of ['abc', '-1', '10 20', '99999999999']) {
      const broken = sipRequest({ method: 'INVITE', ruri: `sip:1000@${DOMAIN}` }).replace('Max-Forwards: 70', `Max-Forwards: ${value}`);
      expect(kam.request(broken, FROM_CLIENT_UDP).reply, value).toMatchObject({ code: 400, reason: 'Bad Max-Forwards' });
    }
    const high = sipRequest({ method: 'INVITE', ruri: `sip:1000@${DOMAIN}` }).replace('Max-Forwards: 70', 'Max-Forwards: 255');
    expect(kam.request(high, FROM_CLIENT_UDP).reply?.code).toBe(407);
  });

  it('checks the syntax before answering a keepalive: a malformed OPTIONS gets 400, not 200', () => {
    const kam = newKamailio();
    const broken = sipRequest({ method: 'OPTIONS', ruri: `sip:${PUBLIC_IP}:5060` }).replace('CSeq: 1 OPTIONS', 'CSeq: x OPTIONS');
    const out = kam.request(broken, FROM_CLIENT_UDP);
    expect(out.replies.map((r) => r.code)).toEqual([400]);
  });

  it('refuses an extension in Proxy-Require with 420 and Unsupported: the proxy supports none (RFC 3261 16.3)', () => {
    const kam = newKamailio();
    const out = kam.request(sipRequest({ method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, headers: [['Proxy-Require', 'com.example.x']] }), FROM_CLIENT_UDP);
    expect(out.reply).toMatchObject({ code: 420, headers: [{ name: 'Unsupported', value: 'com.example.x' }] });
    expect(out.relay).toBeUndefined();
  });

  it('drops a scanner silently', () => {
    const kam = newKamailio();
    const out = kam.request(
      sipRequest({ method: 'OPTIONS', ruri: `sip:100@${DOMAIN}`, headers: [['User-Agent', 'friendly-scanner']] }),
      FROM_CLIENT_UDP,
    );
    expect(out.end).toBe('drop');
    expect(out.replies).toEqual([]);
  });

  it('lets an ordinary softphone through the scanner check', () => {
    const kam = newKamailio();
    const out = kam.request(
      sipRequest({ method: 'OPTIONS', ruri: `sip:${DOMAIN}`, headers: [['User-Agent', 'Linphone/5.2 (belle-sip/5.2)']] }),
      FROM_CLIENT_UDP,
    );
    expect(out.reply?.code).toBe(200);
  });

  it('keeps dropping a scanner and passing a softphone when their User-Agents come back, however many others came between', () => {
    const kam = newKamailio();
    const keepalive = (agent: string) =>
      kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${DOMAIN}`, headers: [['User-Agent', agent]] }), {
        ...FROM_CLIENT_UDP,
        // A source of its own per request: pike would ban one address sending this many.
        source: `198.51.100.${(seq++ % 200) + 1}:5060`,
      });
    let seq = 0;
    const scanner = 'sipvicious/0.3.4';
    const phone = 'Zoiper rv2.10.20.2';
    const long = `${'x'.repeat(200)} sip-scan`;
    // Past the number of verdicts a worker keeps, so they are forgotten at least once.
    const others = Array.from({ length: 300 }, (_, i) => `Softphone ${i}`);
    for (const agent of [scanner, phone, long, '__proto__', 'constructor', 'toString', ...others, scanner, phone, long, '__proto__']) {
      const out = keepalive(agent);
      if (agent === scanner || agent === long) expect(out.end, agent).toBe('drop');
      else expect(out.reply?.code, agent).toBe(200);
    }
  });

  it('refuses with 403 a request on the private port from an address that is not a media server', () => {
    const kam = newKamailio();
    const out = kam.request(sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}` }), {
      proto: 'udp',
      source: `${CLIENT}:5060`,
      socket: 'private_socket',
    });
    expect(out.reply?.code).toBe(403);
    expect(out.relay).toBeUndefined();
  });

  it('bans a flooding source: requests beyond the pike limit are dropped, and so is the next one', () => {
    const kam = newKamailio();
    const ends: string[] = [];
    for (let i = 0; i < 40; i++) {
      ends.push(kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${DOMAIN}` }), FROM_CLIENT_UDP).end);
    }
    expect(ends.slice(0, 5)).toEqual(['exit', 'exit', 'exit', 'exit', 'exit']);
    expect(ends[39]).toBe('drop');
    expect(kam.htable.get('ipban', CLIENT)).not.toBeNull();
  });

  it('lets a sanity failure end the route with the reply sanity sent', () => {
    const kam = newKamailio();
    const broken = sipRequest({ method: 'INVITE', ruri: `sip:1000@${DOMAIN}` }).replace(/CSeq: 1 INVITE/, 'CSeq: 1 BYE');
    const out = kam.request(broken, FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(400);
    expect(out.relay).toBeUndefined();
  });
});
