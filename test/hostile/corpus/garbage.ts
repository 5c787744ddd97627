/** Garbage bytes, other protocols on the SIP ports, and broken or spoofed PROXY headers. */
import { WHY, closed, reply, silence } from './expect.ts';
import { proxyUri, request } from './message.ts';
import type { BuildContext, Entry } from './types.ts';

const BOTH = ['udp', 'tcp'] as const;

/** Deterministic bytes (mulberry32), so a failing entry sends the same thing again. */
export function randomBytesSeeded(seed: number, length: number): Buffer {
  let a = seed >>> 0;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

const keepalive = (ctx: BuildContext): string => request(ctx, { method: 'OPTIONS', ruri: proxyUri(ctx) });

/**
 * On a stream Kamailio reads up to the end of the headers (an empty line)
 * before it parses anything: garbage with one is refused and the connection
 * closed, garbage without one keeps the connection waiting for more.
 */
const garbage = (name: string, bytes: (ctx: BuildContext) => Buffer | string, onStream: 'closes' | 'waits' = 'waits'): Entry => ({
  name,
  category: 'garbage',
  transports: BOTH,
  build: bytes,
  expect: silence(WHY.udpGarbage),
  expectOn: { tcp: onStream === 'closes' ? closed(WHY.tcpGarbageClosed) : silence(WHY.tcpWaitsForHeaders) },
});

/** A TLS 1.2 ClientHello's first bytes (record header, handshake type 1). */
const CLIENT_HELLO = Buffer.from('160301002f0100002b0303' + '00'.repeat(32) + '000002002f0100', 'hex');
/** A STUN Binding Request (RFC 5389). */
const STUN = Buffer.from('000100002112a442' + '0102030405060708090a0b0c', 'hex');
/** A DNS query for example.com A. */
const DNS = Buffer.from('abcd01000001000000000000076578616d706c6503636f6d0000010001', 'hex');

export const GARBAGE: Entry[] = [
  garbage('100 random bytes', () => randomBytesSeeded(1, 100)),
  garbage('1000 random bytes', () => randomBytesSeeded(2, 1000)),
  garbage('10000 random bytes', () => randomBytesSeeded(3, 10_000)),
  garbage('512 NUL bytes', () => Buffer.alloc(512)),
  garbage('4096 bytes of 0xFF', () => Buffer.alloc(4096, 0xff)),
  garbage('random printable text with CRLFs', () => Buffer.from(randomBytesSeeded(4, 2000).map((b) => (b % 10 === 0 ? 10 : 32 + (b % 95)))), 'closes'),
  garbage('a keepalive OPTIONS in UTF-16', (ctx) => Buffer.from(keepalive(ctx), 'utf16le')),
  garbage('a TLS ClientHello on the plain SIP port', () => CLIENT_HELLO),
  garbage('a STUN Binding Request', () => STUN),
  garbage('a DNS query', () => DNS),
  garbage('an rtpengine ng command', () => 'cookie d7:command4:pinge'),
  garbage('a JSON document', () => '{"jsonrpc":"2.0","method":"core.kill","id":1}\r\n\r\n', 'closes'),
  garbage('"SIP/2.0" alone', () => 'SIP/2.0\r\n\r\n', 'closes'),
  garbage('random bytes, then a valid keepalive in the same write', (ctx) => Buffer.concat([randomBytesSeeded(5, 64), Buffer.from(keepalive(ctx))]), 'closes'),
  {
    name: 'random bytes in the middle of the headers',
    category: 'garbage', transports: BOTH,
    build: (ctx) => Buffer.concat([Buffer.from(keepalive(ctx).replace(/\r\n\r\n$/, '\r\n')), randomBytesSeeded(6, 300), Buffer.from('\r\n\r\n')]),
    expect: silence(WHY.brokenHeaderLine),
  },
  {
    name: 'an HTTP GET on the SIP port',
    category: 'garbage', transports: BOTH,
    build: (ctx) => `GET /admin HTTP/1.1\r\nHost: ${ctx.proxy.publicIp}\r\n\r\n`,
    expect: reply(403, `${WHY.httpOnSipPort} (xhttp answers HTTP on UDP too)`),
  },
  {
    name: 'a WebSocket upgrade on the plain TCP SIP port',
    category: 'garbage', transports: ['tcp'],
    build: (ctx) =>
      `GET / HTTP/1.1\r\nHost: ${ctx.proxy.domain}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n',
    expect: reply(403, WHY.httpOnSipPort),
  },
  {
    name: 'a single byte',
    category: 'garbage', transports: ['udp'],
    build: () => Buffer.from([0x41]),
    expect: silence(WHY.probePacket),
  },
  {
    name: 'a double CRLF keepalive',
    category: 'garbage', transports: BOTH,
    build: () => '\r\n\r\n',
    expect: silence(WHY.crlfPing),
  },
];

const proxyEntry = (name: string, bytes: (ctx: BuildContext) => Buffer | string, expect: Entry['expect'], port?: 'private'): Entry => ({
  name,
  category: 'proxy',
  transports: ['tcp'],
  build: bytes,
  expect,
  ...(port !== undefined ? { port } : {}),
});

const v1 = (ctx: BuildContext, source: string, sourcePort = 40000): string =>
  `PROXY TCP4 ${source} ${ctx.proxy.publicIp} ${sourcePort} ${ctx.proxy.sipPort}\r\n`;
/** The PROXY v2 signature (12 bytes). */
const V2_SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

export const PROXY: Entry[] = [
  proxyEntry('PROXY v1 with garbage addresses', (ctx) => 'PROXY TCP4 garbage here\r\n' + keepalive(ctx), closed(WHY.proxyHeaderBroken)),
  proxyEntry('PROXY v1 line longer than 107 bytes', (ctx) => `PROXY TCP4 ${'1'.repeat(200)}\r\n` + keepalive(ctx), closed(WHY.proxyHeaderBroken)),
  proxyEntry('PROXY v1 with an address out of range', (ctx) => v1(ctx, '999.1.1.1') + keepalive(ctx), closed(WHY.proxyHeaderBroken)),
  proxyEntry('PROXY v1 with source port 99999', (ctx) => v1(ctx, '127.66.0.9', 99999) + keepalive(ctx), closed(WHY.proxyHeaderBroken)),
  proxyEntry('PROXY v1 without its CRLF', (ctx) => `PROXY TCP4 127.66.0.9 ${ctx.proxy.publicIp} 40000 ${ctx.proxy.sipPort} ` + keepalive(ctx), silence(WHY.proxyNoCrlf)),
  proxyEntry('PROXY v1 sent twice', (ctx) => v1(ctx, '127.66.0.9') + v1(ctx, '127.66.0.10') + keepalive(ctx), closed(WHY.tcpGarbageClosed)),
  proxyEntry('PROXY UNKNOWN, then a keepalive', (ctx) => 'PROXY UNKNOWN\r\n' + keepalive(ctx), reply(200, WHY.proxyHeaderValid)),
  proxyEntry('PROXY TCP6 on an IPv4 socket, then a keepalive', (ctx) => `PROXY TCP6 ::1 ::1 40000 ${ctx.proxy.sipPort}\r\n` + keepalive(ctx), reply(200, WHY.proxyHeaderValid)),
  proxyEntry('PROXY v2 LOCAL command, then a keepalive', (ctx) => Buffer.concat([V2_SIG, Buffer.from([0x20, 0x00, 0x00, 0x00]), Buffer.from(keepalive(ctx))]), reply(200, WHY.proxyHeaderValid)),
  proxyEntry('PROXY v2 with version nibble 3', (ctx) => Buffer.concat([V2_SIG, Buffer.from([0x31, 0x11, 0x00, 0x0c]), Buffer.alloc(12), Buffer.from(keepalive(ctx))]), closed(WHY.proxyHeaderBroken)),
  proxyEntry('PROXY v2 declaring 60000 bytes of addresses', (ctx) => Buffer.concat([V2_SIG, Buffer.from([0x21, 0x11, 0xea, 0x60]), Buffer.from(keepalive(ctx))]), closed(WHY.proxyHeaderBroken)),
  proxyEntry('PROXY v2 signature alone', () => V2_SIG, silence(WHY.tcpWaitsForHeaders)),
  proxyEntry(
    'PROXY v1 claiming the media server\'s address, INVITE on the public port',
    (ctx) => v1(ctx, ctx.proxy.mediaServer.ip, ctx.proxy.mediaServer.port) + request(ctx, { method: 'INVITE' }),
    reply(407, WHY.proxyNotTrusted),
  ),
  proxyEntry(
    'PROXY v1 claiming the proxy\'s own address, INVITE on the public port',
    (ctx) => v1(ctx, ctx.proxy.localIp) + request(ctx, { method: 'INVITE' }),
    reply(407, WHY.proxyNotTrusted),
  ),
  proxyEntry(
    'PROXY v1 claiming the media server\'s address, INVITE on the private port',
    (ctx) => `PROXY TCP4 ${ctx.proxy.mediaServer.ip} ${ctx.proxy.localIp} ${ctx.proxy.mediaServer.port} ${ctx.proxy.privatePort}\r\n` + request(ctx, { method: 'INVITE' }),
    reply(403, WHY.proxyPrivatePort),
    'private',
  ),
  proxyEntry(
    'PROXY v1 after a first message, mid-stream',
    (ctx) => keepalive(ctx) + v1(ctx, '127.66.0.9') + keepalive(ctx),
    reply(200, `${WHY.tcpSplits}; the PROXY line then is garbage and closes the connection`),
  ),
];
