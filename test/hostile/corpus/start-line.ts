/** Broken start lines: the first thing Kamailio parses. */
import { WHY, reply, silence } from './expect.ts';
import { proxyUri, request, userUri } from './message.ts';
import type { BuildContext, Entry } from './types.ts';

const BOTH = ['udp', 'tcp'] as const;

/** A valid OPTIONS keepalive whose first line is replaced. */
const withFirstLine = (ctx: BuildContext, line: string, method = 'OPTIONS'): string =>
  request(ctx, { method, ruri: proxyUri(ctx) }).replace(/^[^\r\n]*/, line);

export const START_LINE: Entry[] = [
  {
    name: 'method only, no URI, no version',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, 'OPTIONS'),
    expect: silence(WHY.unparsableFirstLine),
  },
  {
    name: 'no SIP version',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, `OPTIONS ${proxyUri(ctx)}`),
    expect: silence(WHY.unparsableFirstLine),
  },
  {
    name: 'SIP/3.0',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, `OPTIONS ${proxyUri(ctx)} SIP/3.0`),
    expect: silence(WHY.unparsableFirstLine),
  },
  {
    name: 'HTTP/1.1 as the version of a SIP request',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, `OPTIONS ${proxyUri(ctx)} HTTP/1.1`),
    expect: reply(403, WHY.httpVersion),
  },
  {
    name: 'no URI between method and version',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, 'INVITE SIP/2.0', 'INVITE'),
    expect: silence(WHY.unparsableFirstLine),
  },
  {
    name: 'a space inside the URI',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, `INVITE sip:10 00@${ctx.proxy.domain} SIP/2.0`, 'INVITE'),
    expect: silence(WHY.unparsableFirstLine),
  },
  {
    name: 'an http: Request-URI',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'INVITE', ruri: `http://${ctx.proxy.domain}/` }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'a mailto: Request-URI',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'INVITE', ruri: `mailto:alice@${ctx.proxy.domain}` }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'sip: with no host',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'INVITE', ruri: 'sip:' }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'a tel: Request-URI (no domain of ours)',
    category: 'start-line', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'INVITE', ruri: 'tel:+15551234' }),
    expect: reply(403, WHY.foreignDomain),
  },
  {
    name: 'status line with a non-numeric code',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, 'SIP/2.0 abc OK'),
    expect: silence(WHY.badReplyLine),
  },
  {
    name: 'status line with a two-digit code',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, 'SIP/2.0 99 Odd'),
    expect: silence(WHY.badReplyLine),
  },
  {
    name: 'a start line of binary bytes',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, '\xff\xfe\x00\x01 \x02 SIP/2.0'),
    expect: reply(400, `${WHY.anyMethod}; sanity then finds the Request-URI unparsable (400), and the routing must not fail on a method that is not even UTF-8 (it answered 500 until ebaaa02)`),
  },
  {
    name: 'start line only, no headers',
    category: 'start-line', transports: BOTH,
    build: (ctx) => `OPTIONS ${proxyUri(ctx)} SIP/2.0\r\n\r\n`,
    expect: silence(WHY.noVia),
  },
  {
    name: 'CR-only line ends',
    category: 'start-line', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'OPTIONS', ruri: proxyUri(ctx), eol: '\r' }),
    expect: silence(WHY.unparsableFirstLine),
  },
  {
    name: 'LF-only line ends',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'OPTIONS', ruri: proxyUri(ctx), eol: '\n' }),
    expect: reply(200, `${WHY.leniency} (RFC 3261 7.5 asks for CRLF; Kamailio accepts bare LF)`),
  },
  {
    name: 'leading CRLFs before the start line',
    category: 'start-line', transports: ['udp'],
    build: (ctx) => '\r\n\r\n' + request(ctx, { method: 'OPTIONS', ruri: proxyUri(ctx) }),
    expect: reply(200, 'RFC 3261 7.5: CRLFs before the start line are ignored; the keepalive is answered'),
  },
  {
    name: 'unknown method FOOBAR',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'FOOBAR' }),
    expect: reply(407, `${WHY.challenge}; RFC 3261 16.3: a proxy does not refuse an unknown method`),
  },
  {
    name: 'lower-case method (an extension method as far as SIP goes)',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'invite' }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'method with characters outside token',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'IN<V>ITE' }),
    expect: reply(407, WHY.anyMethod),
  },
  {
    name: 'a method name 2000 characters long',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'X'.repeat(2000) }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'two spaces between method and URI',
    category: 'start-line', transports: BOTH,
    build: (ctx) => withFirstLine(ctx, `OPTIONS  ${proxyUri(ctx)} SIP/2.0`),
    expect: silence(WHY.unparsableFirstLine),
  },
  {
    name: 'a NUL byte inside the Request-URI',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'INVITE', ruri: `sip:10\x0000@${ctx.proxy.domain}` }),
    expect: silence(WHY.unparsableFirstLine),
  },
  {
    name: 'a sips: Request-URI over plain UDP/TCP',
    category: 'start-line', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'INVITE', ruri: userUri(ctx).replace(/^sip:/, 'sips:') }),
    expect: reply(407, WHY.challenge),
  },
];
