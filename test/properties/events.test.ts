/**
 * Properties of the xhttp and websocket event callbacks over random HTTP
 * requests on every stream socket: no crash, exactly one answer, an upgrade
 * only for a SIP WebSocket handshake on the public WebRTC socket, and an
 * upgraded connection carries SIP (a REGISTER gets its challenge) and closes
 * cleanly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { DOMAIN, PUBLIC_IP, newKamailio } from '../routing/scenario.ts';
import { crashLogs } from './model.ts';

/** The header with its valid handshake value most of the time, another value or none otherwise. */
const header = (name: string, [valid, ...others]: readonly string[]): fc.Arbitrary<string | null> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(`${name}: ${valid!}`) },
    { weight: 2, arbitrary: fc.constantFrom(...others.map((v) => `${name}: ${v}`)) },
    { weight: 1, arbitrary: fc.constant(null) },
  );

const httpRequest = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'OPTIONS', 'PUT'),
    path: fc.constantFrom('/', '/ws', '/sip', '/admin', '/../../etc/passwd', '/RPC2'),
    host: header('Host', [`${PUBLIC_IP}:7777`, 'evil.example.net', DOMAIN]),
    upgrade: header('Upgrade', ['websocket', 'WebSocket', 'h2c', 'websocket, h2c']),
    connection: header('Connection', ['Upgrade', 'keep-alive, Upgrade', 'keep-alive', 'close']),
    key: header('Sec-WebSocket-Key', ['dGhlIHNhbXBsZSBub25jZQ==', 'short', '']),
    version: header('Sec-WebSocket-Version', ['13', '8', 'x']),
    protocol: header('Sec-WebSocket-Protocol', ['sip', 'xmpp', 'sip, xmpp', 'msrp']),
    origin: header('Origin', ['https://phone.example.com', 'null']),
  })
  .map((r) => [`${r.method} ${r.path} HTTP/1.1`, r.host, r.upgrade, r.connection, r.key, r.version, r.protocol, r.origin].filter((l): l is string => l !== null).join('\r\n') + '\r\n\r\n');

const connection = fc
  .record({
    socket: fc.constantFrom('public_webrtc_socket', 'public_webrtc_socket', 'public_tcp_socket', 'private_tcp_socket'),
    ip: fc.constantFrom('203.0.113.50', '198.18.5.9', '10.0.0.21', '192.168.1.20'),
    port: fc.integer({ min: 1024, max: 65535 }),
  })
  .map((c) => ({ proto: c.socket === 'public_webrtc_socket' ? ('tls' as const) : ('tcp' as const), source: `${c.ip}:${c.port}`, socket: c.socket }));

describe('xhttp:request and websocket:closed on random HTTP requests', () => {
  it('never crash, answer exactly once, and upgrade only SIP WebSocket handshakes on the WebRTC socket', () => {
    fc.assert(
      fc.property(httpRequest, connection, (raw, conn) => {
        const kam = newKamailio();
        const out = kam.httpRequest(raw, conn);
        expect(out.end).not.toBe('error');
        expect(crashLogs(out)).toEqual([]);
        expect(out.replies).toHaveLength(1);
        if (out.upgraded) {
          expect(conn.socket).toBe('public_webrtc_socket');
          expect(out.reply?.code).toBe(101);
          // The upgraded connection carries SIP: an unauthenticated REGISTER is challenged.
          const register = kam.request(
            sipRequest({ method: 'REGISTER', ruri: `sip:${DOMAIN}`, from: `<sip:alice@${DOMAIN}>`, to: `<sip:alice@${DOMAIN}>`, proto: 'wss', source: conn.source }),
            { proto: 'wss', source: conn.source, socket: conn.socket },
          );
          expect(register.reply?.code).toBe(401);
          const closed = kam.websocketClosed({ source: conn.source, socket: conn.socket });
          expect(closed.end).not.toBe('error');
          expect(crashLogs(closed)).toEqual([]);
        } else {
          expect(out.reply?.code).toBeGreaterThanOrEqual(400);
        }
      }),
      { numRuns: 200 },
    );
  });
});
