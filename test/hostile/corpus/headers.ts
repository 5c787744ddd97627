/** Missing, duplicated and broken mandatory headers; bad CSeq and Content-Length. */
import { WHY, reply, silence } from './expect.ts';
import { proxyUri, request } from './message.ts';
import type { BuildContext, Entry } from './types.ts';

const BOTH = ['udp', 'tcp'] as const;

const invite = (ctx: BuildContext, spec: Omit<Parameters<typeof request>[1], 'method'> = {}): string => request(ctx, { method: 'INVITE', ...spec });
const keepalive = (ctx: BuildContext, spec: Omit<Parameters<typeof request>[1], 'method'> = {}): string =>
  request(ctx, { method: 'OPTIONS', ruri: proxyUri(ctx), ...spec });

const missing = (header: string, why: string): Entry => ({
  name: `missing ${header}`,
  category: 'headers', transports: BOTH,
  build: (ctx) => invite(ctx, { omit: [header] }),
  expect: silence(why),
});

const duplicated = (header: string, value: (ctx: BuildContext) => string): Entry => ({
  name: `duplicated ${header} (a second, different value)`,
  category: 'headers', transports: BOTH,
  build: (ctx) => invite(ctx, { add: [`${header}: ${value(ctx)}`] }),
  expect: silence(WHY.unparsableHeader),
});

export const HEADERS: Entry[] = [
  missing('Via', WHY.noVia),
  missing('From', WHY.missingRequired),
  missing('To', WHY.missingRequired),
  missing('Call-ID', WHY.missingRequired),
  missing('CSeq', WHY.missingRequired),
  {
    name: 'missing Max-Forwards',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { omit: ['Max-Forwards'] }),
    expect: reply(407, WHY.maxForwardsAdded),
  },
  duplicated('From', (ctx) => `<sip:mallory@${ctx.proxy.domain}>;tag=evil`),
  duplicated('To', (ctx) => `<sip:carol@${ctx.proxy.domain}>`),
  duplicated('Call-ID', () => 'second-call-id@hostile.invalid'),
  duplicated('CSeq', () => '2 INVITE'),
  {
    name: 'empty Call-ID',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { 'Call-ID': '' } }),
    expect: reply(407, `${WHY.leniency}: Kamailio's parser takes an empty Call-ID (RFC 3261 25.1 wants a word); harmless here, the request is only challenged`),
  },
  {
    name: 'empty From',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { From: '' } }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'empty To',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { To: '' } }),
    expect: silence(WHY.missingRequired),
  },
  {
    name: 'From with an unparsable URI',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { From: '<sip:@@@>;tag=1' } }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'To with an unparsable URI',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { To: '<sip:[::::>' } }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'From without a tag',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { From: `<sip:alice@${ctx.proxy.domain}>` } }),
    expect: reply(407, `${WHY.challenge} (RFC 3261 8.1.1.3 wants a tag; RFC 2543 clients send none)`),
  },
  {
    name: 'a header line without a colon',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { add: ['ThisLineHasNoColon'] }),
    expect: silence(WHY.brokenHeaderLine),
  },
  {
    name: 'a continuation line with nothing to continue (first header folded)',
    category: 'headers', transports: ['udp'],
    build: (ctx) => invite(ctx).replace('\r\nVia:', '\r\n  folded\r\nVia:'),
    expect: silence(WHY.brokenHeaderLine),
  },
  {
    name: 'a header name with a space in it',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { add: ['X Bad Name: 1'] }),
    expect: silence(WHY.brokenHeaderLine),
  },
  {
    name: 'a NUL byte in a header value',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { add: ['X-Nul: a\x00b'] }),
    expect: reply(407, WHY.leniency),
  },
  {
    name: 'bytes above 0x7F in a header name',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { add: ['X-\xe9\xe8: 1'] }),
    expect: silence(WHY.brokenHeaderLine),
  },
  {
    name: 'Proxy-Require of an unsupported extension',
    category: 'headers', transports: BOTH,
    build: (ctx) => invite(ctx, { add: ['Proxy-Require: com.example.evil'] }),
    expect: reply(420, WHY.proxyRequire),
  },
  {
    name: 'Proxy-Require on a keepalive OPTIONS',
    category: 'headers', transports: ['udp'],
    build: (ctx) => keepalive(ctx, { add: ['Proxy-Require: foo'] }),
    expect: reply(420, WHY.proxyRequire),
  },
  {
    name: 'Require of an unknown extension (for the UAS, not the proxy)',
    category: 'headers', transports: ['udp'],
    build: (ctx) => invite(ctx, { add: ['Require: com.example.evil'] }),
    expect: reply(407, 'RFC 3261 16.3: a proxy does not look at Require (only Proxy-Require); the request is challenged'),
  },
  {
    name: 'non-numeric Expires on REGISTER',
    category: 'headers', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'REGISTER', ruri: `sip:${ctx.proxy.domain}:${ctx.proxy.sipPort}`, add: ['Expires: soon'] }),
    expect: reply(400, WHY.expires),
  },
  {
    name: 'Expires beyond 2^32 on REGISTER',
    category: 'headers', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'REGISTER', ruri: `sip:${ctx.proxy.domain}:${ctx.proxy.sipPort}`, add: ['Expires: 99999999999999'] }),
    expect: reply(400, WHY.expires),
  },
  {
    name: 'a garbage Contact on REGISTER',
    category: 'headers', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'REGISTER', ruri: `sip:${ctx.proxy.domain}:${ctx.proxy.sipPort}`, set: { Contact: '<<<garbage>>>' } }),
    expect: reply(401, WHY.challenge),
  },
  {
    name: 'compact header forms only (v, f, t, i, l, m)',
    category: 'headers', transports: BOTH,
    build: (ctx) =>
      keepalive(ctx)
        .replace(/^Via:/m, 'v:')
        .replace(/^From:/m, 'f:')
        .replace(/^To:/m, 't:')
        .replace(/^Call-ID:/m, 'i:')
        .replace(/^Contact:/m, 'm:')
        .replace(/^Content-Length:/m, 'l:'),
    expect: reply(200, 'RFC 3261 7.3.3: compact forms are valid; the keepalive is answered'),
  },
];

export const CSEQ_LENGTH: Entry[] = [
  {
    name: 'CSeq number not a number',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { CSeq: 'abc INVITE' } }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'CSeq number negative',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { CSeq: '-1 INVITE' } }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'CSeq number beyond 2^32',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { CSeq: '99999999999 INVITE' } }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'CSeq method other than the request method',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { CSeq: '1 BYE' } }),
    expect: reply(400, WHY.sanity400),
  },
  {
    name: 'CSeq without a method',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { CSeq: '1' } }),
    expect: silence(WHY.unparsableHeader),
  },
  {
    name: 'CSeq without a number',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { CSeq: 'INVITE' } }),
    expect: silence(WHY.unparsableHeader),
  },
  {
    name: 'keepalive OPTIONS with a non-numeric CSeq',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => keepalive(ctx, { set: { CSeq: 'x OPTIONS' } }),
    expect: reply(400, `${WHY.sanity400}: the syntax is checked before a keepalive is answered`),
  },
  {
    name: 'keepalive OPTIONS whose CSeq names another method',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => keepalive(ctx, { set: { CSeq: '1 INVITE' } }),
    expect: reply(400, `${WHY.sanity400}: the syntax is checked before a keepalive is answered`),
  },
  {
    name: 'Content-Length not a number',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => keepalive(ctx, { contentLength: 'abc' }),
    expect: silence(WHY.unparsableHeader),
  },
  {
    name: 'Content-Length negative',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => keepalive(ctx, { contentLength: '-5' }),
    expect: silence(WHY.unparsableHeader),
  },
  {
    name: 'Content-Length larger than the body',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => invite(ctx, { body: 'v=0\r\n', contentLength: '500' }),
    expect: reply(400, WHY.sanityCl),
    expectOn: { tcp: silence(WHY.tcpWaitsForBody) },
  },
  {
    name: 'Content-Length smaller than the body',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => keepalive(ctx, { body: 'hello world', contentType: 'text/plain', contentLength: '5' }),
    expect: reply(400, WHY.sanityCl),
    expectOn: { tcp: reply(200, WHY.tcpSplits) },
  },
  {
    name: 'Content-Length of 10^11',
    category: 'cseq-length', transports: BOTH,
    build: (ctx) => keepalive(ctx, { contentLength: '99999999999' }),
    expect: silence(WHY.unparsableHeader),
  },
  {
    name: 'two Content-Length headers that disagree',
    category: 'cseq-length', transports: ['udp'],
    build: (ctx) => keepalive(ctx, { add: ['Content-Length: 40'] }),
    expect: silence(WHY.unparsableHeader),
  },
  {
    name: 'no Content-Length on a stream',
    category: 'cseq-length', transports: ['tcp'],
    build: (ctx) => keepalive(ctx, { omit: ['Content-Length'] }),
    expect: reply(200, WHY.tcpNoCl),
  },
  {
    name: 'no Content-Length in a datagram (allowed on UDP)',
    category: 'cseq-length', transports: ['udp'],
    build: (ctx) => keepalive(ctx, { omit: ['Content-Length'] }),
    expect: reply(200, 'RFC 3261 20.14: Content-Length may be left out over UDP; the keepalive is answered'),
  },
];
