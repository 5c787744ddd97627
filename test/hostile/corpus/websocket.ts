/** TLS and secure WebSocket on the WebRTC socket: broken handshakes, garbage after the upgrade. */
import { wsFrame } from '../wire.ts';
import { randomBytesSeeded } from './garbage.ts';
import { WHY, closed, reply, silence } from './expect.ts';
import { proxyUri, request } from './message.ts';
import type { BuildContext, Entry } from './types.ts';

const host = (ctx: BuildContext): string => `${ctx.proxy.domain}:${ctx.proxy.webrtcPort}`;
const origin = (ctx: BuildContext): string => `https://${ctx.proxy.domain}`;

/** An upgrade request with one thing changed. */
function upgrade(ctx: BuildContext, change: { path?: string; host?: string; origin?: string | null; drop?: string; set?: Record<string, string> } = {}): string {
  const headers: Array<[string, string]> = [
    ['Host', change.host ?? host(ctx)],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Protocol', 'sip'],
    ['Origin', change.origin === undefined ? origin(ctx) : (change.origin ?? '')],
  ];
  const lines = headers
    .filter(([name]) => name !== change.drop && !(name === 'Origin' && change.origin === null))
    .map(([name, value]) => `${name}: ${change.set?.[name] ?? value}`);
  return `GET ${change.path ?? '/'} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

const handshake = (name: string, build: (ctx: BuildContext) => string, expect: Entry['expect']): Entry => ({
  name,
  category: 'websocket',
  transports: ['tls'],
  http: true,
  build,
  expect,
});

const keepalive = (ctx: BuildContext, spec: Omit<Parameters<typeof request>[1], 'method'> = {}): string =>
  request(ctx, { method: 'OPTIONS', ruri: proxyUri(ctx), ...spec });

export const WEBSOCKET: Entry[] = [
  handshake('HTTP GET without Upgrade on the WebRTC port', (ctx) => `GET / HTTP/1.1\r\nHost: ${host(ctx)}\r\n\r\n`, reply(403, WHY.wsHandshakeRefused)),
  handshake('upgrade on a path that is not SIP\'s', (ctx) => upgrade(ctx, { path: '/admin' }), reply(403, WHY.wsHandshakeRefused)),
  handshake('upgrade with a foreign Origin', (ctx) => upgrade(ctx, { origin: 'https://evil.example' }), reply(403, WHY.wsHandshakeRefused)),
  handshake('upgrade with a foreign Host (DNS rebinding)', (ctx) => upgrade(ctx, { host: 'evil.example' }), reply(403, WHY.wsHandshakeRefused)),
  handshake('upgrade without Sec-WebSocket-Key', (ctx) => upgrade(ctx, { drop: 'Sec-WebSocket-Key' }), reply(400, WHY.wsHandshakeBad)),
  handshake('upgrade with Sec-WebSocket-Version 8', (ctx) => upgrade(ctx, { set: { 'Sec-WebSocket-Version': '8' } }), reply(426, WHY.wsHandshakeBad)),
  handshake('upgrade for a subprotocol other than sip', (ctx) => upgrade(ctx, { set: { 'Sec-WebSocket-Protocol': 'chat' } }), reply(400, WHY.wsHandshakeBad)),
  handshake('upgrade with a 20 KB header', (ctx) => upgrade(ctx).replace('\r\n\r\n', `\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`), closed(WHY.tcpTooBig)),
  {
    name: 'garbage right after the TLS handshake',
    category: 'websocket', transports: ['tls'],
    build: () => randomBytesSeeded(7, 500),
    expect: silence(WHY.tcpWaitsForHeaders),
  },
  {
    name: 'plain SIP (no TLS) on the TLS port',
    category: 'websocket', transports: ['tcp'],
    port: 'webrtc',
    build: (ctx) => keepalive(ctx),
    expect: closed(WHY.notTls),
  },
  {
    name: 'SIP over TLS without WebSocket: a keepalive',
    category: 'websocket', transports: ['tls'],
    build: (ctx) => keepalive(ctx),
    expect: reply(200, WHY.sipOverTls),
  },
  {
    name: 'SIP over TLS without WebSocket: a broken CSeq',
    category: 'websocket', transports: ['tls'],
    build: (ctx) => keepalive(ctx, { set: { CSeq: 'x OPTIONS' } }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'WebSocket: a keepalive OPTIONS (the control entry)',
    category: 'websocket', transports: ['wss'],
    build: (ctx) => keepalive(ctx),
    expect: reply(200, WHY.keepalive),
  },
  {
    name: 'WebSocket: a text frame of garbage',
    category: 'websocket', transports: ['wss'],
    build: () => 'hello, is this SIP?',
    expect: silence(WHY.wsGarbageSip),
  },
  {
    name: 'WebSocket: a binary frame of random bytes',
    category: 'websocket', transports: ['wss'],
    build: () => '',
    frames: () => [wsFrame(randomBytesSeeded(8, 300), { opcode: 0x2 })],
    expect: silence(WHY.wsGarbageSip),
  },
  {
    name: 'WebSocket: raw bytes that are no frame',
    category: 'websocket', transports: ['wss'],
    build: () => '',
    frames: () => [Buffer.concat([Buffer.from([0x0f, 0x0f]), randomBytesSeeded(9, 200)])],
    expect: closed(WHY.wsProtocolError),
  },
  {
    name: 'WebSocket: an unmasked frame from the client',
    category: 'websocket', transports: ['wss'],
    build: () => '',
    frames: (ctx) => [wsFrame(keepalive(ctx), { mask: false })],
    expect: closed(WHY.wsProtocolError),
  },
  {
    name: 'WebSocket: reserved opcode 3',
    category: 'websocket', transports: ['wss'],
    build: () => '',
    frames: () => [wsFrame('x', { opcode: 0x3 })],
    expect: closed(WHY.wsProtocolError),
  },
  {
    name: 'WebSocket: a frame declaring 2^40 bytes',
    category: 'websocket', transports: ['wss'],
    build: () => '',
    frames: () => [wsFrame('short', { declaredLength: 2 ** 40 })],
    expect: silence('the websocket module waits for the rest of the frame it was promised (the connection is held, like a half-sent stream message)'),
  },
  {
    name: 'WebSocket: a broken CSeq',
    category: 'websocket', transports: ['wss'],
    build: (ctx) => keepalive(ctx, { set: { CSeq: 'x OPTIONS' } }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'WebSocket: Max-Forwards 0',
    category: 'websocket', transports: ['wss'],
    build: (ctx) => keepalive(ctx, { set: { 'Max-Forwards': '0' } }),
    expect: reply(483, WHY.maxForwardsZero),
  },
  {
    name: 'WebSocket: a ping frame',
    category: 'websocket', transports: ['wss'],
    build: () => '',
    frames: () => [wsFrame('ping?', { opcode: 0x9 })],
    expect: silence(WHY.wsPing),
  },
  {
    name: 'WebSocket: an INVITE without credentials',
    category: 'websocket', transports: ['wss'],
    build: (ctx) => request(ctx, { method: 'INVITE' }),
    expect: reply(407, WHY.challenge),
  },
];
