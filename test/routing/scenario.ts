/**
 * The deployment every routing scenario runs in: the article's cloud VM with
 * one private address, a public address on the NAT router / balancer, two
 * media servers (one reached over UDP, one over TCP) and two subscribers.
 */
import * as routing from '../../src/main';
import { authorizationValue, createKamailio, sipRequest, type Kamailio, type RequestSpec } from '../../mocks/index.ts';

export const LOCAL_IP = '10.0.0.10';
export const PUBLIC_IP = '198.51.100.10';
export const DOMAIN = 'sip.example.com';
export const MEDIA_UDP = '10.0.0.21';
export const MEDIA_TCP = '10.0.0.22';
export const CLIENT = '203.0.113.50';

export const ENV = {
  LOCAL_IP,
  PUBLIC_IP,
  SIP_DOMAIN: DOMAIN,
  SIP_PORT: '5060',
  PRIVATE_PORT: '5070',
  WEBRTC_PORT: '7777',
  TLS_CERT: '/etc/ssl/test-cert.pem',
};

export const DISPATCHER_LIST = [
  `1 sip:${MEDIA_UDP}:5080 0 0 duid=fs1`,
  `1 sip:${MEDIA_TCP}:5080;transport=tcp 0 0 duid=fs2`,
].join('\n');

export const SUBSCRIBERS = [
  { user: 'alice', password: 'alice-secret' },
  { user: 'bob', password: 'bob-secret' },
];

export function newKamailio(): Kamailio {
  return createKamailio({ routing, env: ENV, dispatcherList: DISPATCHER_LIST, subscribers: SUBSCRIBERS });
}

export const OFFER_SDP = [
  'v=0',
  `o=- 1 1 IN IP4 192.168.1.20`,
  's=-',
  `c=IN IP4 192.168.1.20`,
  't=0 0',
  'm=audio 40000 RTP/AVP 0 8',
  'a=candidate:1 1 UDP 2130706431 192.168.1.20 40000 typ host',
  '',
].join('\r\n');

/** A request from a client behind NAT, with credentials for `user` when given. */
export function clientRequest(kam: Kamailio, spec: Partial<RequestSpec> & { method: string }, user?: string): string {
  const ruri = spec.ruri ?? `sip:1000@${DOMAIN}`;
  const base: RequestSpec = {
    ruri,
    from: `<sip:${user ?? 'alice'}@${DOMAIN}>`,
    contact: `<sip:${user ?? 'alice'}@192.168.1.20:5060>`,
    ...spec,
  };
  if (user === undefined) return sipRequest(base);
  const password = SUBSCRIBERS.find((s) => s.user === user)!.password;
  const header = spec.method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization';
  const credentials = authorizationValue({ username: user, realm: DOMAIN, password, method: spec.method, uri: ruri, nonce: kam.nonce() });
  return sipRequest({ ...base, headers: [...(spec.headers ?? []), [header, credentials]] });
}

export const FROM_CLIENT_UDP = { proto: 'udp', source: `${CLIENT}:32000`, socket: 'public_socket' } as const;
export const FROM_CLIENT_TCP = { proto: 'tcp', source: `${CLIENT}:41000`, socket: 'public_tcp_socket' } as const;
export const FROM_MEDIA_UDP = { proto: 'udp', source: `${MEDIA_UDP}:5080`, socket: 'private_socket' } as const;
export const FROM_MEDIA_TCP = { proto: 'tcp', source: `${MEDIA_TCP}:53123`, socket: 'private_tcp_socket' } as const;

/** Values of every header line called `name` in a relayed or replied message. */
export function headerValues(message: { all(name: string): Array<{ value: string }> }, name: string): string[] {
  return message.all(name).map((h) => h.value);
}
