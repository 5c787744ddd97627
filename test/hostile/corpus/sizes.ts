/** Oversized messages, invalid SDP, wrong Max-Forwards. */
import { WHY, closed, reply, silence } from './expect.ts';
import { proxyUri, request, sdp, userUri } from './message.ts';
import type { BuildContext, Entry } from './types.ts';

const BOTH = ['udp', 'tcp'] as const;

const invite = (ctx: BuildContext, spec: Omit<Parameters<typeof request>[1], 'method'> = {}): string => request(ctx, { method: 'INVITE', ...spec });
const lines = (n: number, line: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => line(i));

export const OVERSIZED: Entry[] = [
  {
    name: 'one 60 KB header value',
    category: 'oversized', transports: ['udp'],
    build: (ctx) => invite(ctx, { add: [`X-Big: ${'a'.repeat(60_000)}`] }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: '3000 headers',
    category: 'oversized', transports: ['udp'],
    build: (ctx) => invite(ctx, { add: lines(3000, (i) => `X-H${i}: v`) }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'a 60 KB body',
    category: 'oversized', transports: ['udp'],
    build: (ctx) => invite(ctx, { body: 'x'.repeat(60_000), contentType: 'text/plain' }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'an 8 KB user part in the Request-URI',
    category: 'oversized', transports: BOTH,
    build: (ctx) => invite(ctx, { ruri: userUri(ctx, 'u'.repeat(8000)) }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'a 10 KB Call-ID',
    category: 'oversized', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { 'Call-ID': `${ctx.token}-${'c'.repeat(10_000)}` } }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'a 10 KB From display name',
    category: 'oversized', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { From: `"${'n'.repeat(10_000)}" <sip:alice@${ctx.proxy.domain}>;tag=1` } }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: '500 preloaded Route headers',
    category: 'oversized', transports: BOTH,
    build: (ctx) => invite(ctx, { add: lines(500, (i) => `Route: <sip:10.9.${i >> 8}.${i & 255};lr>`) }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: '300 Contact headers on REGISTER',
    category: 'oversized', transports: BOTH,
    build: (ctx) =>
      request(ctx, {
        method: 'REGISTER',
        ruri: `sip:${ctx.proxy.domain}:${ctx.proxy.sipPort}`,
        omit: ['Contact'],
        add: lines(300, (i) => `Contact: <sip:alice@10.8.${i >> 8}.${i & 255}:5060>`),
      }),
    expect: reply(401, WHY.challenge),
  },
  {
    name: 'a 20 KB Proxy-Authorization',
    category: 'oversized', transports: BOTH,
    build: (ctx) =>
      invite(ctx, {
        add: [`Proxy-Authorization: Digest username="${'a'.repeat(20_000)}", realm="${ctx.proxy.domain}", nonce="x", uri="${userUri(ctx)}", response="00"`],
      }),
    expect: reply(407, WHY.badCredentials),
    expectOn: { tcp: closed(WHY.tcpTooBig) },
  },
  {
    name: 'a 65507-byte datagram of letters (the largest UDP payload)',
    category: 'oversized', transports: ['udp'],
    build: () => Buffer.alloc(65_507, 'A'),
    expect: silence(WHY.udpGarbage),
  },
  {
    name: 'a 70 KB message on a stream',
    category: 'oversized', transports: ['tcp'],
    build: (ctx) => invite(ctx, { add: [`X-Big: ${'a'.repeat(70_000)}`] }),
    expect: closed(WHY.tcpTooBig),
  },
  {
    name: 'a 200 KB body on a stream, with its Content-Length',
    category: 'oversized', transports: ['tcp'],
    build: (ctx) => invite(ctx, { body: 'x'.repeat(200_000), contentType: 'text/plain' }),
    expect: closed(WHY.tcpTooBig),
  },
  {
    name: 'a 300 KB header section on a stream, no end',
    category: 'oversized', transports: ['tcp'],
    build: (ctx) => invite(ctx).replace(/\r\n\r\n$/, '\r\n') + 'X-Endless: ' + 'z'.repeat(300_000),
    expect: closed(WHY.tcpTooBig),
  },
];

/** Authenticated INVITEs with bodies that are not SDP anyone can use. */
const offer = (name: string, body: (ctx: BuildContext) => string, transports: Entry['transports'] = ['udp']): Entry => ({
  name,
  category: 'sdp',
  transports,
  auth: true,
  mediaServerUntouched: true,
  build: (ctx) => invite(ctx, { body: body(ctx), add: [ctx.credentials('INVITE', userUri(ctx))] }),
  expect: reply(488, WHY.sdpRefused),
});

export const SDP: Entry[] = [
  offer('SDP body of plain text', () => 'this is not sdp\r\n', ['udp', 'tcp']),
  offer('SDP without v=', (ctx) => sdp(ctx.local.ip).replace(/^v=0\r\n/, ''), ['udp', 'tcp']),
  offer('SDP without o=', (ctx) => sdp(ctx.local.ip).replace(/^o=.*\r\n/m, '')),
  offer('SDP without m=', (ctx) => sdp(ctx.local.ip).replace(/^m=.*\r\n/m, '')),
  offer('SDP without c=', (ctx) => sdp(ctx.local.ip).replace(/^c=.*\r\n/m, '')),
  offer('SDP with an impossible connection address', (ctx) => sdp(ctx.local.ip).replace(/^c=IN IP4 .*$/m, 'c=IN IP4 999.1.1.1')),
  offer('SDP with a non-numeric media port', (ctx) => sdp(ctx.local.ip).replace(/^m=audio \d+/m, 'm=audio port')),
  offer('SDP of binary bytes', () => '\x00\x01\x02\xff\xfe'.repeat(40)),
  {
    name: 'Content-Type application/sdp with an empty body',
    category: 'sdp', transports: ['udp'],
    auth: true,
    build: (ctx) => invite(ctx, { contentType: 'application/sdp', add: [ctx.credentials('INVITE', userUri(ctx))] }),
    expect: reply(488, 'an empty body is no offer (textops has_body_type wants a body), so nothing is anchored: relayed like a late-offer INVITE, and the media server (this test\'s, which wants an offer) refuses it'),
  },
  {
    name: 'invalid SDP without credentials',
    category: 'sdp', transports: ['udp', 'tcp'],
    mediaServerUntouched: true,
    build: (ctx) => invite(ctx, { body: 'not sdp at all\r\n' }),
    expect: reply(407, WHY.sdpUnauthenticated),
  },
];

const mf = (name: string, value: string, expect: Entry['expect'], method = 'INVITE', transports: Entry['transports'] = BOTH): Entry => ({
  name,
  category: 'max-forwards',
  transports,
  build: (ctx) =>
    request(ctx, {
      method,
      ...(method === 'OPTIONS' ? { ruri: proxyUri(ctx) } : {}),
      ...(method === 'REGISTER' ? { ruri: `sip:${ctx.proxy.domain}:${ctx.proxy.sipPort}` } : {}),
      set: { 'Max-Forwards': value },
    }),
  expect,
});

export const MAX_FORWARDS: Entry[] = [
  mf('Max-Forwards 0 on INVITE', '0', reply(483, WHY.maxForwardsZero)),
  mf('Max-Forwards 0 on a keepalive OPTIONS', '0', reply(483, WHY.maxForwardsZero), 'OPTIONS'),
  mf('Max-Forwards 0 on REGISTER', '0', reply(483, WHY.maxForwardsZero), 'REGISTER'),
  mf('Max-Forwards 0 on ACK', '0', silence(WHY.mfAck), 'ACK'),
  mf('Max-Forwards -1', '-1', reply(400, WHY.maxForwardsBad)),
  mf('Max-Forwards not a number', 'abc', reply(400, WHY.maxForwardsBad)),
  mf('Max-Forwards empty', '', reply(483, WHY.maxForwardsStr2s)),
  mf('Max-Forwards 65536', '65536', reply(483, WHY.maxForwardsStr2s)),
  mf('Max-Forwards 10^11', '99999999999', reply(400, WHY.maxForwardsBad)),
  mf('Max-Forwards with two numbers', '10 20', reply(400, WHY.maxForwardsBad)),
  mf('Max-Forwards 256 (above the 0-255 of RFC 3261)', '256', reply(407, WHY.maxForwardsCapped)),
  mf('Max-Forwards 1', '1', reply(407, 'Max-Forwards 1 may still be forwarded once (RFC 3261 16.3): the request goes on (407)')),
  {
    name: 'two Max-Forwards headers, 70 and 0',
    category: 'max-forwards', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'INVITE', add: ['Max-Forwards: 0'] }),
    expect: silence(`${WHY.unparsableHeader} (core/parser/msg_parser.c: "duplicate Max-Forwards header field")`),
  },
];
