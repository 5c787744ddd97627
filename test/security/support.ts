/** Shared pieces of the security scenarios: sources, request builders, credentials. */
import { authorizationValue, sipRequest, type Kamailio, type RequestOutcome, type RequestSpec } from '../../mocks/index.ts';
import { DOMAIN, LOCAL_IP, MEDIA_TCP, MEDIA_UDP, PUBLIC_IP, SUBSCRIBERS } from '../routing/scenario.ts';

export { CLIENT, DOMAIN, LOCAL_IP, MEDIA_TCP, MEDIA_UDP, PUBLIC_IP, newKamailio } from '../routing/scenario.ts';

export const ATTACKER = '192.0.2.66';

export const FROM_ATTACKER_UDP = { proto: 'udp', source: `${ATTACKER}:5060`, socket: 'public_socket' } as const;
export const FROM_ATTACKER_TCP = { proto: 'tcp', source: `${ATTACKER}:40000`, socket: 'public_tcp_socket' } as const;
export const FROM_ATTACKER_WSS = { proto: 'wss', source: `${ATTACKER}:50000`, socket: 'public_webrtc_socket' } as const;
export const PUBLIC_TRANSPORTS = [FROM_ATTACKER_UDP, FROM_ATTACKER_TCP, FROM_ATTACKER_WSS] as const;

/** Our double Record-Route as a client learns it, which anybody can copy. */
export const OUR_ROUTE_FOR_CLIENTS = `<sip:${PUBLIC_IP}:5060;r2=on;lr>, <sip:${LOCAL_IP}:5070;r2=on;lr>`;

export const MEDIA_IPS = [MEDIA_UDP, MEDIA_TCP];

type Transport = { proto: string; source: string };

/** A request from `t`, with From/Contact of `user` (default alice) at our domain. */
export function request(t: Transport, spec: Partial<RequestSpec> & { method: string }, user = 'alice'): string {
  return sipRequest({
    ruri: `sip:1000@${DOMAIN}`,
    from: `<sip:${user}@${DOMAIN}>`,
    contact: `<sip:${user}@192.168.1.20:5060>`,
    source: t.source,
    proto: t.proto,
    ...spec,
  });
}

/** Digest credentials: `as` signs with `password` (default: the subscriber's own). */
export function credentials(kam: Kamailio, method: string, ruri: string, as: string, password?: string): [string, string] {
  const pw = password ?? SUBSCRIBERS.find((s) => s.user === as)?.password ?? 'no-such-user';
  const value = authorizationValue({ username: as, realm: DOMAIN, password: pw, method, uri: ruri, nonce: kam.nonce() });
  return [method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization', value];
}

/** A REGISTER for `user` signed with `password`. */
export function register(kam: Kamailio, t: Transport, user: string, password?: string): string {
  const ruri = `sip:${DOMAIN}`;
  return request(t, { method: 'REGISTER', ruri, to: `<sip:${user}@${DOMAIN}>`, headers: [credentials(kam, 'REGISTER', ruri, user, password)] }, user);
}

/** Nothing reached a media server, and no binding was saved. */
export function nothingReachedTheMediaServers(out: RequestOutcome): void {
  if (out.relays.some((r) => MEDIA_IPS.includes(r.destination.host))) throw new Error(`relayed to ${out.relays.map((r) => r.destination.host).join(', ')}`);
  if (out.registrations.length > 0) throw new Error('saved a binding');
}
