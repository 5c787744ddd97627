import { describe, expect, it } from 'vitest';
import * as routing from '../../src/main';
import { createKamailio, type Kamailio } from '../../mocks/index.ts';
import { CLIENT, DISPATCHER_LIST, DOMAIN, ENV, PUBLIC_IP, SUBSCRIBERS, newKamailio } from './scenario.ts';

const WSS = { proto: 'tls', source: `${CLIENT}:50123`, socket: 'public_webrtc_socket' } as const;

interface Upgrade {
  path?: string;
  host?: string | null;
  origin?: string | null;
  extra?: string[];
}

function upgrade({ path = '/', host = `${DOMAIN}:7777`, origin = `https://${DOMAIN}`, extra = ['Sec-WebSocket-Version: 13'] }: Upgrade = {}): string {
  return [
    `GET ${path} HTTP/1.1`,
    ...(host === null ? [] : [`Host: ${host}`]),
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Protocol: sip',
    ...(origin === null ? [] : [`Origin: ${origin}`]),
    ...extra,
    '',
    '',
  ].join('\r\n');
}

function withOrigins(origins: string): Kamailio {
  return createKamailio({ routing, env: { ...ENV, WEBRTC_ORIGINS: origins }, dispatcherList: DISPATCHER_LIST, subscribers: SUBSCRIBERS });
}

const logText = (out: { logs: Array<{ text: string }> }): string => out.logs.map((l) => l.text).join('');

describe('WebSocket handshake on the WebRTC socket', () => {
  it('upgrades a SIP WebSocket handshake on the public TLS socket for the SIP domain, from a page of the same host', () => {
    const kam = newKamailio();
    const out = kam.httpRequest(upgrade(), WSS);
    expect(out.reply?.code).toBe(101);
    expect(out.upgraded).toBe(true);
  });

  it.each([
    ['the SIP domain with the WebRTC port', `${DOMAIN}:7777`, `https://${DOMAIN}`],
    ['the SIP domain without a port (a balancer on 443), in any case', DOMAIN.toUpperCase(), `https://${DOMAIN}`],
    ['the public address with the WebRTC port', `${PUBLIC_IP}:7777`, `https://${PUBLIC_IP}`],
    ['the public address, the page on another https port of it', PUBLIC_IP, `https://${PUBLIC_IP}:8443`],
  ])('accepts Host %s', (_what, host, origin) => {
    const out = newKamailio().httpRequest(upgrade({ host, origin }), WSS);
    expect(out.reply?.code).toBe(101);
  });

  it('accepts a client that sends no Origin (no browser: it could send any)', () => {
    const out = newKamailio().httpRequest(upgrade({ origin: null }), WSS);
    expect(out.reply?.code).toBe(101);
  });

  it('accepts the /ws path', () => {
    expect(newKamailio().httpRequest(upgrade({ path: '/ws' }), WSS).reply?.code).toBe(101);
  });

  it.each([
    ['another name (DNS rebinding, a client set up for another server)', 'attacker.example:7777'],
    ['the SIP domain on another port', `${DOMAIN}:5060`],
    ['the SIP domain with a port suffix that is not a port', `${DOMAIN}x:7777`],
    ['the private address', '10.0.0.10:7777'],
  ])('refuses Host %s with 403', (_what, host) => {
    const out = newKamailio().httpRequest(upgrade({ host }), WSS);
    expect(out.reply?.code).toBe(403);
    expect(out.upgraded).toBe(false);
    expect(logText(out)).toContain(`websocket: 403 to ${CLIENT}: Host ${host} is not this service`);
  });

  it('refuses a handshake without Host with 403', () => {
    const out = newKamailio().httpRequest(upgrade({ host: null }), WSS);
    expect(out.reply?.code).toBe(403);
  });

  it.each([
    ['a page of another site', 'https://evil.example'],
    ['a plain-http page of the same host', `http://${DOMAIN}`],
    ['a page of the same host with a port that is no number', `https://${DOMAIN}:x`],
    ['a page of a name that merely starts like the host', `https://${DOMAIN}.evil.example`],
    ['a sandboxed or file: page', 'null'],
    ['an empty Origin', ''],
  ])('by default refuses Origin of %s with 403', (_what, origin) => {
    const out = newKamailio().httpRequest(upgrade({ origin }), WSS);
    expect(out.reply?.code).toBe(403);
    expect(logText(out)).toContain('is not allowed');
  });

  it('with WEBRTC_ORIGINS set accepts exactly those origins (any case), and no longer the same host by default', () => {
    const kam = withOrigins(' https://phone.example.com, https://App.example.com:8443 ');
    expect(kam.httpRequest(upgrade({ origin: 'https://phone.example.com' }), WSS).reply?.code).toBe(101);
    expect(kam.httpRequest(upgrade({ origin: 'https://APP.example.com:8443' }), WSS).reply?.code).toBe(101);
    expect(kam.httpRequest(upgrade({ origin: 'https://app.example.com' }), WSS).reply?.code).toBe(403);
    expect(kam.httpRequest(upgrade({ origin: `https://${DOMAIN}` }), WSS).reply?.code).toBe(403);
    expect(kam.httpRequest(upgrade({ origin: '' }), WSS).reply?.code).toBe(403);
  });

  it('treats a blank WEBRTC_ORIGINS as unset', () => {
    const kam = withOrigins('  ');
    expect(kam.httpRequest(upgrade(), WSS).reply?.code).toBe(101);
    expect(kam.httpRequest(upgrade({ origin: 'https://evil.example' }), WSS).reply?.code).toBe(403);
  });

  it.each(['/admin', '/ws/', '/?x=1', '/sip'])('refuses path %s with 403', (path) => {
    const out = newKamailio().httpRequest(upgrade({ path }), WSS);
    expect(out.reply?.code).toBe(403);
    expect(logText(out)).toContain(`path ${path} is not a SIP WebSocket path`);
  });

  it('lets websocket answer 426 to a handshake of the wrong WebSocket version, and notes the refusal', () => {
    const out = newKamailio().httpRequest(upgrade({ extra: ['Sec-WebSocket-Version: 8'] }), WSS);
    expect(out.reply?.code).toBe(426);
    expect(logText(out)).toContain(`handshake refused from ${CLIENT}`);
  });

  it('refuses plain HTTP (scanners probing the port) with 403, without a log line each', () => {
    const out = newKamailio().httpRequest(`GET /admin HTTP/1.1\r\nHost: ${PUBLIC_IP}\r\n\r\n`, WSS);
    expect(out.reply?.code).toBe(403);
    expect(out.upgraded).toBe(false);
    expect(logText(out)).not.toContain('websocket: 403');
  });

  it('refuses a WebSocket upgrade on the plain TCP SIP port', () => {
    const out = newKamailio().httpRequest(upgrade(), { proto: 'tcp', source: `${CLIENT}:50124`, socket: 'public_tcp_socket' });
    expect(out.reply?.code).toBe(403);
  });

  it('notes a closed WebSocket connection', () => {
    const kam = newKamailio();
    kam.httpRequest(upgrade(), WSS);
    const out = kam.websocketClosed({ source: WSS.source, socket: WSS.socket });
    expect(logText(out)).toContain(`websocket: websocket:closed from ${CLIENT}`);
  });
});

describe('WebSocket handshake with an IPv6 public address', () => {
  it('accepts the bracketed address as Host', () => {
    const kam = createKamailio({ routing, env: { ...ENV, PUBLIC_IP: '2001:DB8::10', SIP_DOMAIN: 'sip.example.com' }, dispatcherList: DISPATCHER_LIST, subscribers: SUBSCRIBERS });
    expect(kam.httpRequest(upgrade({ host: '[2001:db8::10]:7777', origin: 'https://[2001:db8::10]' }), WSS).reply?.code).toBe(101);
  });
});
