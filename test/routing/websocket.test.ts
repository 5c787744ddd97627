import { describe, expect, it } from 'vitest';
import { CLIENT, PUBLIC_IP, newKamailio } from './scenario.ts';

const WSS = { proto: 'tls', source: `${CLIENT}:50123`, socket: 'public_webrtc_socket' } as const;

function upgrade(extra: string[] = []): string {
  return [
    'GET / HTTP/1.1',
    `Host: ${PUBLIC_IP}:7777`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Protocol: sip',
    'Origin: https://phone.example.com',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

describe('WebSocket handshake on the WebRTC socket', () => {
  it('upgrades a SIP WebSocket handshake on the public TLS socket', () => {
    const kam = newKamailio();
    const out = kam.httpRequest(upgrade(['Sec-WebSocket-Version: 13']), WSS);
    expect(out.reply?.code).toBe(101);
    expect(out.upgraded).toBe(true);
  });

  it('lets websocket answer 426 to a handshake of the wrong WebSocket version, and notes the refusal', () => {
    const kam = newKamailio();
    const out = kam.httpRequest(upgrade(['Sec-WebSocket-Version: 8']), WSS);
    expect(out.reply?.code).toBe(426);
    expect(out.logs.map((l) => l.text).join('')).toContain(`handshake refused from ${CLIENT}`);
  });

  it('refuses plain HTTP (scanners probing the port) with 403', () => {
    const kam = newKamailio();
    const out = kam.httpRequest(`GET /admin HTTP/1.1\r\nHost: ${PUBLIC_IP}\r\n\r\n`, WSS);
    expect(out.reply?.code).toBe(403);
    expect(out.upgraded).toBe(false);
  });

  it('refuses a WebSocket upgrade on the plain TCP SIP port', () => {
    const kam = newKamailio();
    const out = kam.httpRequest(upgrade(['Sec-WebSocket-Version: 13']), { proto: 'tcp', source: `${CLIENT}:50124`, socket: 'public_tcp_socket' });
    expect(out.reply?.code).toBe(403);
  });

  it('notes a closed WebSocket connection', () => {
    const kam = newKamailio();
    kam.httpRequest(upgrade(['Sec-WebSocket-Version: 13']), WSS);
    const out = kam.websocketClosed({ source: WSS.source, socket: WSS.socket });
    expect(out.logs.map((l) => l.text).join('')).toContain(`websocket: websocket:closed from ${CLIENT}`);
  });
});
