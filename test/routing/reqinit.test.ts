import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { CLIENT, DOMAIN, FROM_CLIENT_UDP, FROM_MEDIA_UDP, PUBLIC_IP, newKamailio } from './scenario.ts';

describe('REQINIT', () => {
  it('answers an OPTIONS keepalive to the proxy itself with 200 and the build id, without credentials', () => {
    const kam = newKamailio();
    const out = kam.request(sipRequest({ method: 'OPTIONS', ruri: `sip:${PUBLIC_IP}:5060` }), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(200);
    expect(out.reply?.headers).toContainEqual({ name: 'X-Routing-Build', value: 'test' });
    expect(out.relay).toBeUndefined();
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
