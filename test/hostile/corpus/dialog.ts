/** Via floods and broken Vias; stray replies and in-dialog requests; abuse of the routing's rules. */
import { WHY, closed, reply, silence } from './expect.ts';
import { proxyUri, reply as sipReply, request, userUri } from './message.ts';
import type { BuildContext, Entry } from './types.ts';

const BOTH = ['udp', 'tcp'] as const;

const invite = (ctx: BuildContext, spec: Omit<Parameters<typeof request>[1], 'method'> = {}): string => request(ctx, { method: 'INVITE', ...spec });
const vias = (n: number): string[] => Array.from({ length: n }, (_, i) => `Via: SIP/2.0/UDP 10.7.${i >> 8}.${i & 255}:5060;branch=z9hG4bK-flood-${i}`);
const ownVia = (ctx: BuildContext): string => request(ctx, { method: 'X' }).split('\r\n')[1]!.slice('Via: '.length);

export const VIA: Entry[] = [
  {
    name: '500 Via headers on a keepalive',
    category: 'via', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'OPTIONS', ruri: proxyUri(ctx), add: vias(500) }),
    expect: reply(200, 'SIP sets no limit on Vias (Max-Forwards bounds hops): answered, every Via copied into the reply'),
    expectOn: { tcp: closed(WHY.tcpTooBig) },
  },
  {
    name: '900 Via headers on an INVITE',
    category: 'via', transports: BOTH,
    build: (ctx) => invite(ctx, { add: vias(900) }),
    expect: reply(407, WHY.challenge),
    expectOn: { tcp: closed(WHY.tcpTooBig) },
  },
  {
    name: '200 Via headers on an INVITE (within a stream\'s read buffer)',
    category: 'via', transports: ['tcp'],
    build: (ctx) => invite(ctx, { add: vias(200) }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'one Via header with 1000 comma-separated values',
    category: 'via', transports: ['udp'],
    build: (ctx) => invite(ctx, { add: [`Via: ${vias(1000).map((v) => v.slice(5)).join(', ')}`] }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'a top Via of garbage',
    category: 'via', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { Via: '!!!garbage!!!' } }),
    expect: silence(WHY.noVia),
  },
  {
    name: 'a second Via of garbage',
    category: 'via', transports: BOTH,
    build: (ctx) => invite(ctx, { add: ['Via: ###'] }),
    expect: silence(`${WHY.unparsableHeader}: a reply copies every Via, so all of them are parsed to build one`),
  },
  {
    name: 'Via with transport SIP/2.0/FOO',
    category: 'via', transports: ['udp'],
    build: (ctx) => invite(ctx).replace('SIP/2.0/UDP', 'SIP/2.0/FOO'),
    expect: reply(407, `${WHY.leniency}: the reply goes back where the request came from (rport)`),
  },
  {
    name: 'Via with SIP/3.0',
    category: 'via', transports: ['udp'],
    build: (ctx) => invite(ctx).replace('Via: SIP/2.0/UDP', 'Via: SIP/3.0/UDP'),
    expect: silence(WHY.noVia),
  },
  {
    name: 'Via with port 99999',
    category: 'via', transports: ['udp'],
    build: (ctx) => invite(ctx, { set: { Via: `SIP/2.0/UDP ${ctx.local.ip}:99999;branch=z9hG4bK-${ctx.token};rport` } }),
    expect: reply(407, `${WHY.leniency}; with rport the reply goes to the real source port anyway`),
  },
  {
    name: 'Via without a branch (RFC 2543 style)',
    category: 'via', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { Via: ownVia(ctx).replace(/;branch=[^;]*/, '') } }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'Via with a 5000-character branch',
    category: 'via', transports: BOTH,
    build: (ctx) => invite(ctx, { set: { Via: ownVia(ctx).replace(/;branch=[^;]*/, `;branch=z9hG4bK${'b'.repeat(5000)}`) } }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'Via claiming received= and rport= of a third party',
    category: 'via', transports: ['udp'],
    build: (ctx) => invite(ctx, { set: { Via: `${ownVia(ctx)}=9;received=198.51.100.66` } }),
    expect: reply(407, 'the reply goes to where the request really came from: Kamailio overwrites received/rport (force_rport), so a Via cannot aim it at a third party'),
  },
];

export const STRAY: Entry[] = [
  {
    name: 'a 200 OK for no transaction, next Via the sender',
    category: 'stray', transports: BOTH,
    build: (ctx) => sipReply(ctx, '200 OK', [`SIP/2.0/UDP ${ctx.proxy.publicIp}:${ctx.proxy.sipPort};branch=z9hG4bK-nothere-${ctx.token}`, ownVia(ctx)]),
    expect: silence(WHY.strayReply),
  },
  {
    name: 'a 200 OK for no transaction, next Via a media server on the private network',
    category: 'stray', transports: BOTH,
    mediaServerUntouched: true,
    build: (ctx) =>
      sipReply(ctx, '200 OK', [
        `SIP/2.0/UDP ${ctx.proxy.publicIp}:${ctx.proxy.sipPort};branch=z9hG4bK-nothere-${ctx.token}`,
        `SIP/2.0/UDP ${ctx.proxy.mediaServer.ip}:${ctx.proxy.mediaServer.port};branch=z9hG4bK-ms-${ctx.token}`,
      ]),
    expect: silence(WHY.strayReply),
  },
  {
    name: 'a 180 Ringing for no transaction',
    category: 'stray', transports: ['udp'],
    build: (ctx) => sipReply(ctx, '180 Ringing', [`SIP/2.0/UDP ${ctx.proxy.publicIp}:${ctx.proxy.sipPort};branch=z9hG4bK-x-${ctx.token}`, ownVia(ctx)]),
    expect: silence(WHY.strayReply),
  },
  {
    name: 'a 487 for no transaction',
    category: 'stray', transports: ['udp'],
    build: (ctx) => sipReply(ctx, '487 Request Terminated', [`SIP/2.0/UDP ${ctx.proxy.publicIp}:${ctx.proxy.sipPort};branch=z9hG4bK-x-${ctx.token}`, ownVia(ctx)]),
    expect: silence(WHY.strayReply),
  },
  {
    name: 'a reply with status 700',
    category: 'stray', transports: ['udp'],
    build: (ctx) => sipReply(ctx, '700 Beyond', [`SIP/2.0/UDP ${ctx.proxy.publicIp}:${ctx.proxy.sipPort};branch=z9hG4bK-x-${ctx.token}`, ownVia(ctx)]),
    expect: silence(WHY.strayReply),
  },
  {
    name: 'a reply whose only Via is the sender',
    category: 'stray', transports: ['udp'],
    build: (ctx) => sipReply(ctx, '200 OK', [ownVia(ctx)]),
    expect: silence(WHY.strayReply),
  },
  {
    name: 'a reply without Via',
    category: 'stray', transports: ['udp'],
    build: (ctx) => sipReply(ctx, '200 OK', []),
    expect: silence(WHY.replyNoVia),
  },
  {
    name: 'ACK outside any dialog',
    category: 'stray', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'ACK' }),
    expect: silence(WHY.ackNeverAnswered),
  },
  {
    name: 'ACK with a broken CSeq',
    category: 'stray', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'ACK', set: { CSeq: 'x ACK' } }),
    expect: silence(`${WHY.ackNeverAnswered}, not even by sanity`),
  },
  {
    name: 'CANCEL matching no transaction',
    category: 'stray', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'CANCEL' }),
    expect: silence(WHY.cancelUnknown),
  },
  {
    name: 'BYE with a To tag and no route set',
    category: 'stray', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'BYE', set: { To: `<${userUri(ctx)}>;tag=stray` } }),
    expect: reply(404, WHY.strayInDialog),
  },
  {
    name: 'BYE with a forged Route toward a foreign host',
    category: 'stray', transports: ['udp'],
    build: (ctx) =>
      request(ctx, {
        method: 'BYE',
        ruri: 'sip:victim@198.51.100.9',
        set: { To: `<${userUri(ctx)}>;tag=stray` },
        add: [`Route: <sip:${ctx.proxy.publicIp}:${ctx.proxy.sipPort};lr;r2=on>`, `Route: <sip:${ctx.proxy.localIp}:${ctx.proxy.privatePort};lr;r2=on>`],
      }),
    expect: reply(403, WHY.forgedRoute),
  },
  {
    name: 're-INVITE with a To tag, no dialog',
    category: 'stray', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'INVITE', set: { To: `<${userUri(ctx)}>;tag=stray` } }),
    expect: reply(404, WHY.strayInDialog),
  },
  {
    name: 'PRACK outside a dialog',
    category: 'stray', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'PRACK' }),
    expect: reply(481, WHY.prackNoDialog),
  },
  {
    name: 'NOTIFY with a To tag, no dialog',
    category: 'stray', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'NOTIFY', set: { To: `<${userUri(ctx)}>;tag=stray` }, add: ['Event: dialog'] }),
    expect: reply(404, WHY.strayInDialog),
  },
];

export const ABUSE: Entry[] = [
  ...['friendly-scanner', 'sipvicious', 'sipcli/v1.8', 'VaxSIPUserAgent/3.1', `${'x'.repeat(4000)} sundayddr`].map(
    (agent): Entry => ({
      name: `scanner User-Agent "${agent.length > 40 ? `${agent.slice(0, 12)}... ${agent.slice(-9)}` : agent}"`,
      category: 'abuse',
      transports: ['udp'],
      build: (ctx) => request(ctx, { method: 'OPTIONS', set: { 'User-Agent': agent } }),
      expect: silence(WHY.scanner),
    }),
  ),
  {
    name: 'INVITE on the private port from a stranger',
    category: 'abuse', transports: BOTH, port: 'private',
    build: (ctx) => request(ctx, { method: 'INVITE' }),
    expect: reply(403, WHY.privatePort),
  },
  {
    name: 'REGISTER on the private port from a stranger',
    category: 'abuse', transports: ['udp'], port: 'private',
    build: (ctx) => request(ctx, { method: 'REGISTER', ruri: `sip:${ctx.proxy.domain}:${ctx.proxy.sipPort}` }),
    expect: reply(403, WHY.privatePort),
  },
  {
    name: 'INVITE to a foreign domain',
    category: 'abuse', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'INVITE', ruri: 'sip:victim@198.51.100.9' }),
    expect: reply(403, WHY.foreignDomain),
  },
  {
    name: 'INVITE with a wrong digest response',
    category: 'abuse', transports: ['udp'],
    auth: true,
    build: (ctx) => request(ctx, { method: 'INVITE', add: [ctx.credentials('INVITE', userUri(ctx)).replace(/response="[0-9a-f]+"/, 'response="00000000000000000000000000000000"')] }),
    expect: reply(407, WHY.badCredentials),
  },
  {
    name: 'INVITE with credentials of an unknown user',
    category: 'abuse', transports: ['udp'],
    auth: true,
    build: (ctx) => request(ctx, { method: 'INVITE', add: [ctx.credentials('INVITE', userUri(ctx)).replace('username="alice"', 'username="nobody"')] }),
    expect: reply(407, WHY.badCredentials),
  },
  {
    name: 'INVITE with a garbage Proxy-Authorization',
    category: 'abuse', transports: BOTH,
    build: (ctx) => request(ctx, { method: 'INVITE', add: ['Proxy-Authorization: Digest !!!!'] }),
    expect: reply(407, WHY.badCredentials),
  },
  {
    name: 'OPTIONS to a user of the domain (no keepalive)',
    category: 'abuse', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'OPTIONS' }),
    expect: reply(407, WHY.challenge),
  },
  {
    name: 'REGISTER of every contact (*) without credentials',
    category: 'abuse', transports: ['udp'],
    build: (ctx) => request(ctx, { method: 'REGISTER', ruri: `sip:${ctx.proxy.domain}:${ctx.proxy.sipPort}`, set: { Contact: '*' }, add: ['Expires: 0'] }),
    expect: reply(401, WHY.challenge),
  },
];
