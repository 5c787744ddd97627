/**
 * Event callbacks: the WebSocket upgrade reaching the xhttp event_callback,
 * websocket.handle_handshake answering it, xhttp_reply, and
 * websocket:closed for an upgraded connection.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HttpTransportSpec } from '../../mocks/index.ts';
import { FIXTURE_CFG, K, UDP_CLIENT, kam } from './helpers.ts';

const BROWSER: HttpTransportSpec = { proto: 'tls', source: '203.0.113.10:50000', socket: 'public_webrtc_socket' };

/** RFC 6455 §1.3's example key, whose accept value is known. */
function upgrade(extra: string[] = [], drop: string[] = []): string {
  const headers = [
    'Host: sip.example.com:7777',
    'Upgrade: WebSocket',
    'Connection: keep-alive, Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Protocol: sip',
    'Origin: https://phone.example.com',
  ].filter((h) => !drop.some((d) => h.startsWith(`${d}:`)));
  return ['GET / HTTP/1.1', ...headers, ...extra, '', ''].join('\r\n');
}

const handshakeOnly = (seen: unknown[] = []) => ({
  ksr_xhttp_event(...args: unknown[]) {
    seen.push(...args, K().websocket.handle_handshake());
  },
});

describe('httpRequest -> the xhttp event_callback', () => {
  it('calls it with the one argument "xhttp:request" on the HTTP message, with a Via xhttp adds', () => {
    const seen: Record<string, unknown> = {};
    const out = kam({
      ksr_xhttp_event(...args: unknown[]) {
        const k = K();
        Object.assign(seen, {
          args, upgrade: k.hdr.get('Upgrade'), host: k.pv.get('$hdr(Host)'), via: k.pv.get('$hdr(Via)'),
          hu: k.pv.get('$hu'), getHu: k.xhttp.get_hu(), rm: k.pv.get('$rm'), method: k.kx.get_method(), ru: k.pv.get('$ru'), rv: k.pv.get('$rv'),
          si: k.pv.get('$si'), sp: k.pv.get('$sp'), srcip: k.kx.get_srcip(), rn: k.pv.get('$Rn'), sock: k.kx.get_rcv_sock_name(), pr: k.pv.get('$pr'),
          present: k.hdr.is_present('Sec-WebSocket-Key'), tls: k.is_TLS(), precheck: k.tmx.t_precheck_trans(), check: k.tm.t_check_trans(),
        });
      },
    }).httpRequest(upgrade(), BROWSER);
    expect(out.end).toBe('return');
    expect(out).toMatchObject({ callback: 'ksr_xhttp_event', event: 'xhttp:request', replies: [], upgraded: false });
    expect(seen).toEqual({
      args: ['xhttp:request'], upgrade: 'WebSocket', host: 'sip.example.com:7777', via: 'SIP/2.0/TLS 203.0.113.10:50000',
      hu: '/', getHu: '/', rm: 'GET', method: 'GET', ru: null, rv: 'HTTP/1.1',
      si: '203.0.113.10', sp: 50000, srcip: '203.0.113.10', rn: 'public_webrtc_socket', sock: 'public_webrtc_socket', pr: 'tls',
      present: 1, tls: true, precheck: -2, check: -1,
    });
  });

  it('refuses what xhttp never sees: SIP text, UDP, a socket of another proto; request() refuses HTTP', () => {
    const m = kam(handshakeOnly());
    expect(() => m.httpRequest('OPTIONS sip:x SIP/2.0\r\n\r\n', BROWSER)).toThrow(/HTTP\/1.x request/);
    expect(() => m.httpRequest(upgrade(), { ...BROWSER, proto: 'udp' } as unknown as HttpTransportSpec)).toThrow(/tcp or tls/);
    expect(() => m.httpRequest(upgrade(), { ...BROWSER, proto: 'tcp' })).toThrow(/not a tcp socket/);
    expect(() => m.request(upgrade(), UDP_CLIENT)).toThrow(/needs a SIP request/);
  });

  it('fails when the cfg configures no callback, or names a function the routing does not export', () => {
    expect(() => kam({}).httpRequest(upgrade(), BROWSER)).toThrow(/"ksr_xhttp_event"\) names no function/);
    const dir = mkdtempSync(join(tmpdir(), 'mock-cfg-'));
    const cfg = join(dir, 'kamailio.cfg');
    writeFileSync(cfg, readFileSync(FIXTURE_CFG, 'utf8').replace(/^modparam\("xhttp".*$/m, ''));
    writeFileSync(join(dir, 'dispatcher.list'), '');
    expect(() => kam(handshakeOnly(), { cfgPath: cfg }).httpRequest(upgrade(), BROWSER)).toThrow(/sets no modparam\("xhttp", "event_callback"/);
  });

  it('xhttp_reply returns 0 and answers on HTTP: request version, the Via as "Sia", Content-Type only when given', () => {
    const rcs: unknown[] = [];
    const out = kam({
      ksr_xhttp_event() {
        rcs.push(K().xhttp.xhttp_reply(403, 'Forbidden', '', ''));
        rcs.push(K().xhttp.xhttp_reply(200, 'OK', 'text/plain', 'hello'));
      },
    }).httpRequest(upgrade(), BROWSER);
    expect(rcs).toEqual([0, 0]);
    const [forbidden, ok] = out.replies;
    expect(forbidden!.message.toString()).toBe(
      'HTTP/1.1 403 Forbidden\r\nSia: SIP/2.0/TLS 203.0.113.10:50000\r\nServer: Kamailio\r\nContent-Length: 0\r\n\r\n',
    );
    expect(ok!.message.get('Content-Type')).toBe('text/plain');
    expect(ok!.message.body).toBe('hello');
    expect(out.events.map((e) => e.fn)).toEqual(['xhttp.xhttp_reply', 'xhttp.xhttp_reply']);
  });
});

describe('websocket.handle_handshake (ws_handshake.c)', () => {
  it('answers a valid upgrade with 101 and the RFC 6455 accept key, returns 1 and upgrades the connection', () => {
    const seen: unknown[] = [];
    const out = kam(handshakeOnly(seen)).httpRequest(upgrade(), BROWSER);
    expect(seen).toEqual(['xhttp:request', 1]);
    expect(out.upgraded).toBe(true);
    expect(out.reply).toMatchObject({ code: 101, reason: 'Switching Protocols', by: 'sl' });
    expect(out.reply!.message.start).toMatchObject({ version: 'HTTP/1.1', status: 101 });
    expect(out.reply!.headers).toEqual([
      { name: 'Sec-WebSocket-Protocol', value: 'sip' },
      { name: 'Upgrade', value: 'websocket' },
      { name: 'Connection', value: 'upgrade' },
      { name: 'Sec-WebSocket-Accept', value: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' },
    ]);
  });

  it('does not look at the method or the path', () => {
    const seen: unknown[] = [];
    kam(handshakeOnly(seen)).httpRequest(upgrade().replace('GET / ', 'POST /admin '), BROWSER);
    expect(seen[1]).toBe(1);
  });

  it('lowercases Connection, Upgrade and Sec-WebSocket-Protocol in the received message', () => {
    let after: unknown;
    kam({ ksr_xhttp_event: () => { K().websocket.handle_handshake(); after = K().hdr.get('Upgrade'); } }).httpRequest(upgrade(), BROWSER);
    expect(after).toBe('websocket');
  });

  it.each([
    ['no Sec-WebSocket-Protocol', upgrade([], ['Sec-WebSocket-Protocol'])],
    ['only the msrp subprotocol (msrp is off without the msrp module)', upgrade(['Sec-WebSocket-Protocol: msrp'], ['Sec-WebSocket-Protocol'])],
    ['no Upgrade: websocket', upgrade(['Upgrade: h2c'], ['Upgrade'])],
    ['Connection without "upgrade"', upgrade(['Connection: keep-alive'], ['Connection'])],
    ['no Sec-WebSocket-Key', upgrade([], ['Sec-WebSocket-Key'])],
  ])('refuses %s: 400 with the supported protocol and version, returns 0', (_what, raw) => {
    const seen: unknown[] = [];
    const out = kam(handshakeOnly(seen)).httpRequest(raw, BROWSER);
    expect(seen[1]).toBe(0);
    expect(out.upgraded).toBe(false);
    expect(out.reply).toMatchObject({ code: 400, reason: 'Bad Request' });
    expect(out.reply!.headers).toEqual([{ name: 'Sec-WebSocket-Protocol', value: 'sip' }, { name: 'Sec-WebSocket-Version', value: '13' }]);
  });

  it('refuses another protocol version with 426 Upgrade Required and a duplicated key with a bare 400', () => {
    const v8 = kam(handshakeOnly()).httpRequest(upgrade(['Sec-WebSocket-Version: 8'], ['Sec-WebSocket-Version']), BROWSER);
    expect(v8.reply).toMatchObject({ code: 426, reason: 'Upgrade Required', headers: [{ name: 'Sec-WebSocket-Version', value: '13' }] });
    const dup = kam(handshakeOnly()).httpRequest(upgrade(['Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==']), BROWSER);
    expect(dup.reply).toMatchObject({ code: 400, reason: 'Bad Request', headers: [] });
  });

  it('answers 500 where there is no TCP connection (UDP) and nothing on a connection that is already WebSocket', () => {
    const rcs: unknown[] = [];
    const m = kam({ ksr_request_route: () => { rcs.push(K().websocket.handle_handshake()); } });
    const udp = m.request('OPTIONS sip:198.51.100.7 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.10;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n', UDP_CLIENT);
    const wss = m.request('OPTIONS sip:198.51.100.7 SIP/2.0\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bKy\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: c2\r\nCSeq: 1 OPTIONS\r\n\r\n', { ...BROWSER, proto: 'wss' });
    expect(rcs).toEqual([0, 0]);
    expect(udp.reply).toMatchObject({ code: 500, reason: 'Internal Server Error' });
    expect(wss.replies).toEqual([]);
  });
});

describe('websocketClosed -> the websocket event_callback', () => {
  it('runs with "websocket:closed" on a faked OPTIONS carrying the connection\'s addresses as they were at the handshake', () => {
    const seen: Record<string, unknown> = {};
    const m = kam({
      ...handshakeOnly(),
      ksr_websocket_event(...args: unknown[]) {
        const k = K();
        Object.assign(seen, { args, srcip: k.kx.get_srcip(), sp: k.pv.get('$sp'), rn: k.pv.get('$Rn'), pr: k.pv.get('$pr'), rm: k.pv.get('$rm') });
      },
    });
    expect(m.httpRequest(upgrade(), BROWSER).upgraded).toBe(true);
    const out = m.websocketClosed({ source: BROWSER.source, socket: BROWSER.socket });
    expect(out).toMatchObject({ end: 'return', callback: 'ksr_websocket_event', event: 'websocket:closed', replies: [] });
    expect(seen).toEqual({ args: ['websocket:closed'], srcip: '203.0.113.10', sp: 50000, rn: 'public_webrtc_socket', pr: 'tls', rm: 'OPTIONS' });
  });

  it('only exists for connections handle_handshake upgraded, once', () => {
    const m = kam({ ...handshakeOnly(), ksr_websocket_event: () => undefined });
    expect(() => m.websocketClosed({ source: BROWSER.source, socket: BROWSER.socket })).toThrow(/no WebSocket connection/);
    m.httpRequest(upgrade(), BROWSER);
    m.websocketClosed({ source: BROWSER.source, socket: BROWSER.socket });
    expect(() => m.websocketClosed({ source: BROWSER.source, socket: BROWSER.socket })).toThrow(/no WebSocket connection/);
  });
});
