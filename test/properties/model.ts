/**
 * Random but well-formed SIP traffic for the routing's property tests, and
 * what the deployment allows it to cause. The deployment is the one every
 * routing scenario runs in (test/routing/scenario.ts): LOCAL_IP behind
 * PUBLIC_IP, media servers MEDIA_UDP (UDP) and MEDIA_TCP (TCP) in dispatcher
 * set 1, subscribers alice and bob.
 *
 * A generated request is a plain description (`RequestPlan`); it becomes SIP
 * text only against a running mock (`buildRequest`), because valid digest
 * credentials need a nonce that mock issued.
 */
import fc from 'fast-check';
import { authorizationValue, sipRequest, type Kamailio, type Proto, type RequestOutcome, type SentReply } from '../../mocks/index.ts';
import { DOMAIN, LOCAL_IP, MEDIA_TCP, MEDIA_UDP, PUBLIC_IP, SUBSCRIBERS, newKamailio } from '../routing/scenario.ts';

export const METHODS = ['INVITE', 'REGISTER', 'OPTIONS', 'BYE', 'ACK', 'CANCEL', 'MESSAGE', 'SUBSCRIBE', 'INFO', 'UPDATE', 'PRACK', 'REFER', 'NOTIFY'] as const;
export type Method = (typeof METHODS)[number];

export const MEDIA_IPS: readonly string[] = [MEDIA_UDP, MEDIA_TCP];
export const PRIVATE_SOCKETS = ['private_socket', 'private_tcp_socket'] as const;
export const PUBLIC_SOCKETS = ['public_socket', 'public_tcp_socket', 'public_webrtc_socket'] as const;
export const ALL_SOCKETS = [...PUBLIC_SOCKETS, ...PRIVATE_SOCKETS] as const;
export type SocketName = (typeof ALL_SOCKETS)[number];

/** Where a message comes from and the socket it arrives on. */
export interface Source {
  kind: 'client' | 'media' | 'stranger';
  proto: Proto;
  ip: string;
  port: number;
  socket: SocketName;
}

/** The sockets a message of this transport can arrive on (ws rides on TCP, wss on TLS). */
function socketsFor(proto: Proto): SocketName[] {
  if (proto === 'udp') return ['public_socket', 'private_socket'];
  if (proto === 'tcp' || proto === 'ws') return ['public_tcp_socket', 'private_tcp_socket'];
  return ['public_webrtc_socket'];
}

const port = fc.integer({ min: 1024, max: 65535 });
const publicIp = fc.oneof(
  fc.constantFrom('203.0.113.50', '203.0.113.77', '198.18.5.9', '192.0.2.200'),
  fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }))
    .filter(([a, b]) => a !== 10 && a !== 127 && !(a === 172 && b >= 16 && b <= 31) && !(a === 192 && b === 168) && !(a === 100 && b >= 64 && b <= 127))
    .map((o) => o.join('.')),
);

/** Mostly the socket the source is meant to use (public for clients, private for media servers), sometimes the other. */
function onSocket(kind: Source['kind'], protos: readonly Proto[], ip: fc.Arbitrary<string>): fc.Arbitrary<Source> {
  const usual = kind === 'media' ? 1 : 0;
  return fc.tuple(fc.constantFrom(...protos), ip, port).chain(([proto, addr, p]) => {
    const sockets = socketsFor(proto);
    const socket = sockets.length === 1 ? fc.constant(sockets[0]!) : fc.oneof({ weight: 3, arbitrary: fc.constant(sockets[usual]!) }, { weight: 1, arbitrary: fc.constant(sockets[1 - usual]!) });
    return socket.map((name): Source => ({ kind, proto, ip: addr, port: p, socket: name }));
  });
}

/** Clients on public addresses, over every transport, on any socket of their transport (private ones included). */
export const clientSource = onSocket('client', ['udp', 'tcp', 'tls', 'ws', 'wss'], publicIp);
/** Media servers by IP, from any port, over any transport, on any socket. */
export const mediaSource = onSocket('media', ['udp', 'tcp', 'tls'], fc.constantFrom(...MEDIA_IPS));
/** Private addresses that are no media server (another VM, a home network seen through a VPN). */
export const strangerSource = onSocket('stranger', ['udp', 'tcp'], fc.constantFrom('10.0.0.99', '192.168.1.20', '172.16.0.5'));
export const anySource = fc.oneof({ weight: 3, arbitrary: clientSource }, { weight: 2, arbitrary: mediaSource }, { weight: 1, arbitrary: strangerSource });

/** How the routing must see a source: a media server only on the private port (the article's split by port). */
export function isTrustedMediaServer(s: Pick<Source, 'ip' | 'socket'>): boolean {
  return MEDIA_IPS.includes(s.ip) && (s.socket === 'private_socket' || s.socket === 'private_tcp_socket');
}

export function transport(s: Source): { proto: Proto; source: string; socket: string } {
  return { proto: s.proto, source: `${s.ip}:${s.port}`, socket: s.socket };
}

const user = fc.constantFrom('alice', 'bob', '1000', 'carol', '');
const ourHost = fc.constantFrom(DOMAIN, PUBLIC_IP, `${PUBLIC_IP}:5060`);
const anyHost = fc.constantFrom(
  DOMAIN,
  PUBLIC_IP,
  `${PUBLIC_IP}:5060`,
  `${PUBLIC_IP}:7777`,
  `${LOCAL_IP}:5070`,
  LOCAL_IP,
  'evil.example.net',
  '192.0.2.66:5060',
  `${MEDIA_UDP}:5080`,
  `${MEDIA_TCP}:5080`,
  '203.0.113.50:32000',
  '192.168.1.20:5060',
);
const host = fc.oneof(ourHost, anyHost);
const uriParams = fc.constantFrom('', ';transport=tcp', ';transport=udp', ';transport=ws', ';alias=203.0.113.50~32000~1', ';alias=192.0.2.66~5060~2');
/** Remote targets in-dialog requests carry: a media server's Contact, a NATed client's aliased Contact. */
const dialogTarget = fc.constantFrom(
  `sip:mod_sofia@${MEDIA_UDP}:5080`,
  `sip:mod_sofia@${MEDIA_TCP}:5080;transport=tcp`,
  'sip:alice@192.168.1.20:5060;alias=203.0.113.50~32000~1',
  'sip:alice@192.168.1.20:5060;transport=tcp;alias=203.0.113.50~41000~2',
  'sip:df7jal23@r5e0sdh.invalid;transport=ws;alias=198.18.5.9~52000~6',
);
export const ruri = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(user, host, uriParams).map(([u, h, p]) => `sip:${u === '' ? '' : `${u}@`}${h}${p}`) },
  { weight: 2, arbitrary: dialogTarget },
);

/** Route sets: ours as a client or a media server learns it, forged ones, and mixes. */
export const ROUTES = {
  none: null,
  oursClient: `<sip:${PUBLIC_IP}:5060;r2=on;lr;ftag=ft>, <sip:${LOCAL_IP}:5070;r2=on;lr;ftag=ft>`,
  oursClientTcp: `<sip:${PUBLIC_IP}:5060;transport=tcp;r2=on;lr>, <sip:${LOCAL_IP}:5070;transport=tcp;r2=on;lr>`,
  oursClientWss: `<sip:${PUBLIC_IP}:7777;transport=ws;r2=on;lr>, <sip:${LOCAL_IP}:5070;transport=tcp;r2=on;lr>`,
  oursMedia: `<sip:${LOCAL_IP}:5070;r2=on;lr;ftag=ft>, <sip:${PUBLIC_IP}:5060;r2=on;lr;ftag=ft>`,
  oursSingle: `<sip:${PUBLIC_IP}:5060;lr>`,
  forged: '<sip:192.0.2.66:5060;lr>',
  forgedStrict: '<sip:victim@192.0.2.66:5060>',
  oursThenForged: `<sip:${PUBLIC_IP}:5060;r2=on;lr>, <sip:${LOCAL_IP}:5070;r2=on;lr>, <sip:192.0.2.66:5060;lr>`,
  oursThenMedia: `<sip:${PUBLIC_IP}:5060;r2=on;lr>, <sip:${LOCAL_IP}:5070;r2=on;lr>, <sip:${MEDIA_UDP}:5080;lr>`,
  halfOursThenForged: `<sip:${PUBLIC_IP}:5060;r2=on;lr>, <sip:192.0.2.66:5060;lr>`,
  forgedThenOurs: `<sip:192.0.2.66:5060;lr>, <sip:${PUBLIC_IP}:5060;r2=on;lr>`,
  mediaOnly: `<sip:${MEDIA_UDP}:5080;lr>`,
} as const;
export type RouteSet = keyof typeof ROUTES;

export type Credentials = 'none' | 'valid' | 'wrongPassword' | 'unknownUser' | 'wrongRealm' | 'otherSubscriber' | 'badNonce';

export interface RequestPlan {
  method: Method;
  ruri: string;
  fromUser: string;
  fromDomain: string;
  toUser: string | null;
  toTag: boolean;
  route: RouteSet;
  sdp: boolean;
  credentials: Credentials;
  contact: string | null;
  maxForwards: number | null;
  expires: number | null;
  userAgent: string | null;
}

export const SDP = ['v=0', 'o=- 1 1 IN IP4 192.168.1.20', 's=-', 'c=IN IP4 192.168.1.20', 't=0 0', 'm=audio 40000 RTP/AVP 0 8', ''].join('\r\n');

export const requestPlan: fc.Arbitrary<RequestPlan> = fc.record({
  method: fc.constantFrom(...METHODS),
  ruri,
  fromUser: fc.constantFrom('alice', 'bob', 'mallory', ''),
  fromDomain: fc.constantFrom(DOMAIN, 'evil.example.net'),
  toUser: fc.option(fc.constantFrom('alice', 'bob', '1000'), { nil: null }),
  toTag: fc.boolean(),
  route: fc.constantFrom(...(Object.keys(ROUTES) as RouteSet[])),
  sdp: fc.boolean(),
  credentials: fc.constantFrom<Credentials>('none', 'valid', 'valid', 'wrongPassword', 'unknownUser', 'wrongRealm', 'otherSubscriber', 'badNonce'),
  contact: fc.constantFrom('<sip:alice@192.168.1.20:5060>', '<sip:alice@203.0.113.50:32000>', '<sip:alice@203.0.113.50:32000;transport=tcp>', null, '*'),
  maxForwards: fc.constantFrom(70, 70, 70, 70, 70, 70, 70, 70, 1, 0, null),
  expires: fc.constantFrom(null, null, 0, 60, 3600),
  userAgent: fc.constantFrom(null, 'Linphone/5.2', 'Zoiper rv2.10'),
});

/** The identity auth_check's flag 1 compares the auth user with: To for REGISTER, From otherwise. */
function identityUser(p: RequestPlan): string {
  return p.method === 'REGISTER' ? (p.toUser ?? userOf(p.ruri)) : p.fromUser;
}

function userOf(uri: string): string {
  return /^sip:([^@;]*)@/.exec(uri)?.[1] ?? '';
}

/** What the mock needs to know about the request to judge the outcome. */
export interface BuiltRequest {
  text: string;
  /** The request carries digest credentials a subscriber could only make with the right password. */
  authenticated: boolean;
}

export function buildRequest(kam: Kamailio, p: RequestPlan, source: Source, extra: { callId?: string; branch?: string } = {}): BuiltRequest {
  const headers: Array<[string, string]> = [];
  const route = ROUTES[p.route];
  if (route !== null) headers.push(['Route', route]);
  if (p.expires !== null) headers.push(['Expires', String(p.expires)]);
  if (p.userAgent !== null) headers.push(['User-Agent', p.userAgent]);
  const identity = identityUser(p);
  const subscriber = SUBSCRIBERS.find((s) => s.user === identity);
  let authenticated = false;
  if (p.credentials !== 'none') {
    const other = SUBSCRIBERS.find((s) => s.user !== identity)!;
    const who = p.credentials === 'otherSubscriber' ? other : subscriber ?? other;
    const value = authorizationValue({
      username: p.credentials === 'unknownUser' ? 'mallory' : who.user,
      realm: p.credentials === 'wrongRealm' ? 'other.example.org' : DOMAIN,
      password: p.credentials === 'wrongPassword' ? 'guess' : who.password,
      method: p.method,
      uri: p.ruri,
      nonce: p.credentials === 'badNonce' ? 'bm9uY2U=' : kam.nonce(),
    });
    headers.push([p.method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization', value]);
    authenticated = p.credentials === 'valid' && subscriber !== undefined && (p.method !== 'REGISTER' || p.fromUser === identity);
  }
  const from = `<sip:${p.fromUser === '' ? '' : `${p.fromUser}@`}${p.fromDomain}>`;
  const to = p.toUser === null ? undefined : `<sip:${p.toUser}@${DOMAIN}>`;
  const text = sipRequest({
    method: p.method,
    ruri: p.ruri,
    source: `${source.ip}:${source.port}`,
    proto: source.proto,
    from,
    ...(to === undefined ? {} : { to }),
    toTag: p.toTag ? 'remote-tag' : null,
    maxForwards: p.maxForwards,
    contact: p.contact,
    headers,
    ...(p.sdp ? { body: SDP } : {}),
    ...(extra.callId === undefined ? {} : { callId: extra.callId }),
    ...(extra.branch === undefined ? {} : { branch: extra.branch }),
  });
  return { text, authenticated };
}

/** Clients registered before the request arrives: nobody, or alice over some transport. */
export interface Registration {
  proto: 'udp' | 'tcp' | 'wss';
  ip: string;
  port: number;
}

export const registration: fc.Arbitrary<Registration | null> = fc.option(
  fc.record({ proto: fc.constantFrom<Registration['proto']>('udp', 'tcp', 'wss'), ip: fc.constantFrom('203.0.113.50', '198.18.5.9'), port }),
  { nil: null },
);

const REGISTER_SOCKET: Record<Registration['proto'], SocketName> = { udp: 'public_socket', tcp: 'public_tcp_socket', wss: 'public_webrtc_socket' };

/** A fresh proxy; `reg` registers alice through the routing itself, from behind a NAT. */
export function world(reg: Registration | null): Kamailio {
  const kam = newKamailio();
  if (reg !== null) {
    const source: Source = { kind: 'client', proto: reg.proto, ip: reg.ip, port: reg.port, socket: REGISTER_SOCKET[reg.proto] };
    const plan: RequestPlan = {
      method: 'REGISTER', ruri: `sip:${DOMAIN}`, fromUser: 'alice', fromDomain: DOMAIN, toUser: 'alice', toTag: false, route: 'none', sdp: false,
      credentials: 'valid', contact: `<sip:alice@192.168.1.20:5060${reg.proto === 'udp' ? '' : `;transport=${reg.proto === 'wss' ? 'ws' : 'tcp'}`}>`,
      maxForwards: 70, expires: 3600, userAgent: null,
    };
    const out = kam.request(buildRequest(kam, plan, source).text, transport(source));
    if (out.reply?.code !== 200) throw new Error(`setup: alice's REGISTER got ${out.reply?.code}`);
  }
  return kam;
}

/** Hosts the registered contacts of every subscriber can be reached at: their received address, else the Contact host. */
export function registeredHosts(kam: Kamailio): string[] {
  return SUBSCRIBERS.flatMap((s) => kam.location.lookup(s.user)).map((b) => hostOf(b.received ?? b.contact));
}

export function hostOf(uri: string): string {
  return /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)/.exec(uri)?.[1] ?? '';
}

/**
 * The socket a relay must leave from: private toward media servers, public
 * toward clients, of the destination's transport (null: no such socket). WebSocket exists only on
 * the WebRTC (TLS) socket here: the handshake is refused anywhere else, and
 * browsers write ;transport=ws in their Contact over WSS too.
 */
export function expectedSocket(destination: { proto: Proto; host: string }): SocketName | null {
  if (MEDIA_IPS.includes(destination.host)) {
    // The private port has no TLS socket: only a media server itself can ask for TLS to another one.
    if (destination.proto === 'tls' || destination.proto === 'wss') return null;
    return destination.proto === 'udp' ? 'private_socket' : 'private_tcp_socket';
  }
  switch (destination.proto) {
    case 'udp':
      return 'public_socket';
    case 'tcp':
      return 'public_tcp_socket';
    default:
      return 'public_webrtc_socket';
  }
}

export const isFinal = (r: SentReply): boolean => r.code >= 200;

/** Lines the entry wrapper logs for an exception the routing did not expect. */
export function crashLogs(out: Pick<RequestOutcome, 'logs'>): string[] {
  return out.logs.filter((l) => l.text.includes('routing error in') || l.text.includes('error stack from js')).map((l) => l.text);
}
