/** The SIP message model: parsing, compact forms, URIs, builder. */
import { describe, expect, it } from 'vitest';
import { SipMessage, sipReply, sipRequest } from '../../mocks/index.ts';
import { parseNameAddr, parseUri, splitList } from '../../mocks/sip/uri.ts';

describe('SIP message model', () => {
  it('parses LF-only text with compact headers and repeated headers', () => {
    const m = SipMessage.parse('INVITE sip:bob@example.com SIP/2.0\nv: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\nVia: SIP/2.0/TCP 5.6.7.8;branch=z9hG4bK2\nf: <sip:a@b>;tag=x\nt: <sip:bob@example.com>\ni: c1\nCSeq: 7 INVITE\nl: 4\n\nbody');
    expect(m.method).toBe('INVITE');
    expect(m.all('Via').map((h) => h.name)).toEqual(['v', 'Via']);
    expect(m.get('Call-ID')).toBe('c1');
    expect(m.cseq).toEqual({ num: '7', method: 'INVITE' });
    expect(m.body).toBe('body');
  });

  it('parses a reply and keeps CRLF in the body', () => {
    const m = SipMessage.parse('SIP/2.0 183 Session Progress\r\nCSeq: 1 INVITE\r\n\r\nv=0\r\no=x\r\n');
    expect(m.start).toEqual({ kind: 'reply', version: 'SIP/2.0', status: 183, reason: 'Session Progress' });
    expect(m.method).toBe('INVITE');
    expect(m.body).toBe('v=0\r\no=x\r\n');
  });

  it('serialises with CRLF and a Content-Length that matches the body', () => {
    const m = SipMessage.parse('MESSAGE sip:b@c SIP/2.0\nContent-Length: 99\n\nhéllo');
    expect(m.toString()).toBe('MESSAGE sip:b@c SIP/2.0\r\nContent-Length: 6\r\n\r\nhéllo');
  });

  it('parses URIs with user, port, params and headers', () => {
    expect(parseUri('sip:alice:pw@[2001:db8::1]:5070;transport=tcp;lr?Subject=x')).toEqual({
      scheme: 'sip', user: 'alice', password: 'pw', host: '[2001:db8::1]', port: 5070,
      params: [['transport', 'tcp'], ['lr', null]], headers: 'Subject=x',
    });
    expect(parseUri('not a uri')).toBeNull();
  });

  it('parses name-addr and splits lists outside quotes and brackets', () => {
    expect(parseNameAddr('"Bob, Jr" <sip:bob@x;lr>;tag=9')).toEqual({ display: '"Bob, Jr"', uri: 'sip:bob@x;lr', params: [['tag', '9']] });
    expect(splitList('"A, B" <sip:a@x>, <sip:b@y;p=1,2>')).toEqual(['"A, B" <sip:a@x>', '<sip:b@y;p=1,2>']);
  });

  it('builds a request with sensible defaults and a reply to it', () => {
    const raw = sipRequest({ method: 'INVITE', ruri: 'sip:bob@example.com', source: '203.0.113.10:5062', proto: 'tcp', body: 'v=0\r\n' });
    const req = SipMessage.parse(raw);
    expect(req.get('Via')).toMatch(/^SIP\/2.0\/TCP 203.0.113.10:5062;branch=z9hG4bK\w+;rport$/);
    expect(req.get('To')).toBe('<sip:bob@example.com>');
    expect(req.get('Contact')).toBe('<sip:alice@203.0.113.10:5062;transport=tcp>');
    expect(req.get('Content-Type')).toBe('application/sdp');
    const rep = sipReply(req, 180, { toTag: 't1' });
    expect(rep.start).toMatchObject({ status: 180, reason: 'Ringing' });
    expect(rep.get('To')).toBe('<sip:bob@example.com>;tag=t1');
    expect(rep.get('CSeq')).toBe('1 INVITE');
  });

  it("parses HTTP/1.x start lines as Kamailio's parser does (a request with method and path, isHttp)", () => {
    const get = SipMessage.parse('GET /ws HTTP/1.1\r\nHost: a:7777\r\nUpgrade: websocket\r\n\r\n');
    expect(get.start).toEqual({ kind: 'request', method: 'GET', uri: '/ws', version: 'HTTP/1.1' });
    expect([get.isRequest, get.isHttp, get.method, get.get('host')]).toEqual([true, true, 'GET', 'a:7777']);
    expect(SipMessage.parse('HTTP/1.0 101 Switching Protocols\r\n\r\n').start).toMatchObject({ kind: 'reply', status: 101 });
    expect(SipMessage.parse('OPTIONS sip:a SIP/2.0\r\n\r\n').isHttp).toBe(false);
    expect(() => SipMessage.parse('GET / HTTP/3\r\n\r\n')).toThrow(/bad start line/);
  });
});
