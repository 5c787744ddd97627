/**
 * The article's cloud, on one machine: every host is a network namespace,
 * every wire a veth pair whose far end sits on a Linux bridge inside the
 * "switch" namespace. The root namespace only gets the namespace names
 * (/run/netns/ksr-*); no interface, address, route or rule is added there.
 *
 *   public 198.51.100.0/24 (bridge "pub")       private 10.0.0.0/24 (bridge "priv")
 *   c1      .101  SIPp UAC (public client)       vm   10.0.0.10 = LOCAL_IP: Kamailio + rtpengine
 *   home    .50   home NAT router for c2         ms1  10.0.0.21  SIPp UAS (media server, set 1)
 *   router  .10 = PUBLIC_IP, 1:1 NAT <-> vm      ms2  10.0.0.22  SIPp UAS (media server, set 1)
 *   lb      .20   HAProxy (PROXY v1) -> vm        router 10.0.0.1 (vm's default gateway), lb 10.0.0.2
 *   home LAN 192.168.1.0/24 (bridge "lan"): home .1, c2 .102 (SIPp UAC behind NAT)
 *
 * Addresses are documentation (RFC 5737) and private ranges that exist only
 * inside these namespaces; nothing is routed out of them.
 */

/**
 * Every namespace the stack creates starts with this; `down` also removes
 * leftovers of it. `STACK_PREFIX` (with `STACK_DIR`) gives a second stack its
 * own namespaces, so two checkouts on one machine never tear down each other's.
 */
export const PREFIX = stackPrefix(process.env);

export function stackPrefix(env: NodeJS.ProcessEnv): string {
  const prefix = env['STACK_PREFIX'];
  if (prefix === undefined || prefix === '') return 'ksr-';
  // Namespace names end up in /run/netns and in tcpdump's -i: keep them plain and short.
  if (!/^[a-z][a-z0-9]{0,5}-$/.test(prefix)) throw new Error(`STACK_PREFIX "${prefix}": 1-6 lowercase letters or digits, then "-" (default ksr-)`);
  return prefix;
}

export const NS = {
  switch: `${PREFIX}sw`,
  router: `${PREFIX}router`,
  lb: `${PREFIX}lb`,
  vm: `${PREFIX}vm`,
  ms1: `${PREFIX}ms1`,
  ms2: `${PREFIX}ms2`,
  c1: `${PREFIX}c1`,
  home: `${PREFIX}home`,
  c2: `${PREFIX}c2`,
} as const;
export type Host = Exclude<keyof typeof NS, 'switch'>;

/** Bridges in the switch namespace, one per segment. */
export const SEGMENT = {
  public: { bridge: 'pub', prefixLen: 24 },
  private: { bridge: 'priv', prefixLen: 24 },
  homeLan: { bridge: 'lan', prefixLen: 24 },
} as const;
export type Segment = keyof typeof SEGMENT;

export const ADDR = {
  /** The Elastic IP: owned by the router, 1:1 NAT to the vm. */
  PUBLIC_IP: '198.51.100.10',
  /** The vm's only address. */
  LOCAL_IP: '10.0.0.10',
  routerPrivate: '10.0.0.1',
  /** The balancer's own public address (a second entry point). */
  lbPublic: '198.51.100.20',
  lbPrivate: '10.0.0.2',
  ms1: '10.0.0.21',
  ms2: '10.0.0.22',
  c1: '198.51.100.101',
  homePublic: '198.51.100.50',
  homeLan: '192.168.1.1',
  c2: '192.168.1.102',
} as const;

export interface Link {
  host: Host;
  /** Interface name inside the host namespace. */
  ifname: string;
  /** Name of the peer (bridge port) inside the switch namespace: capture here. */
  port: string;
  segment: Segment;
  address: string;
}

export const LINKS: readonly Link[] = [
  { host: 'router', ifname: 'pub0', port: 'router-pub', segment: 'public', address: ADDR.PUBLIC_IP },
  { host: 'router', ifname: 'priv0', port: 'router-priv', segment: 'private', address: ADDR.routerPrivate },
  { host: 'lb', ifname: 'pub0', port: 'lb-pub', segment: 'public', address: ADDR.lbPublic },
  { host: 'lb', ifname: 'priv0', port: 'lb-priv', segment: 'private', address: ADDR.lbPrivate },
  { host: 'vm', ifname: 'eth0', port: 'vm', segment: 'private', address: ADDR.LOCAL_IP },
  { host: 'ms1', ifname: 'eth0', port: 'ms1', segment: 'private', address: ADDR.ms1 },
  { host: 'ms2', ifname: 'eth0', port: 'ms2', segment: 'private', address: ADDR.ms2 },
  { host: 'c1', ifname: 'eth0', port: 'c1', segment: 'public', address: ADDR.c1 },
  { host: 'home', ifname: 'pub0', port: 'home-pub', segment: 'public', address: ADDR.homePublic },
  { host: 'home', ifname: 'lan0', port: 'home-lan', segment: 'homeLan', address: ADDR.homeLan },
  { host: 'c2', ifname: 'eth0', port: 'c2', segment: 'homeLan', address: ADDR.c2 },
];

/** Default routes: the vm answers clients through the NAT router, c2 goes out through its home NAT. */
export const DEFAULT_ROUTES: Partial<Record<Host, string>> = {
  vm: ADDR.routerPrivate,
  c2: ADDR.homeLan,
};

/** Hosts that forward packets (and run nftables NAT). */
export const ROUTERS: readonly Host[] = ['router', 'home'];

/**
 * Fixed ports. Each namespace has its own port space, and every fixed port
 * here is below the kernel's ephemeral range (32768-60999), so no
 * kernel-chosen source port can take one.
 */
export const PORT = {
  SIP: 5060,
  PRIVATE: 5070,
  WEBRTC: 7777,
  /** rtpengine's ng socket, on the vm's loopback. */
  NG: 2223,
  RTP_MIN: 20000,
  RTP_MAX: 20199,
  /** The media servers' SIP port (FreeSWITCH's profile in the article). */
  UAS: 5090,
  UAS_MEDIA: 6000,
} as const;

export const SIP_DOMAIN = 'example.test';

/** Subscribers created at bring-up (realm SIP_DOMAIN). */
export const SUBSCRIBERS = [
  { user: 'alice', password: 'alice-secret' },
  { user: 'bob', password: 'bob-secret' },
  { user: 'carol', password: 'carol-secret' },
  { user: 'dave', password: 'dave-secret' },
] as const;

export const MEDIA_SERVERS = [
  { host: 'ms1', address: ADDR.ms1, duid: 'ms1' },
  { host: 'ms2', address: ADDR.ms2, duid: 'ms2' },
] as const satisfies ReadonlyArray<{ host: Host; address: string; duid: string }>;

/** Dispatcher set 1 = the two media servers, over UDP (calls leave from private_socket). */
export function dispatcherList(): string {
  return (
    '# Written by stack/ (npm run stack): set 1 = the SIPp media servers.\n' +
    MEDIA_SERVERS.map((ms) => `1 sip:${ms.address}:${PORT.UAS} 0 0 duid=${ms.duid}`).join('\n') +
    '\n'
  );
}

/** Bridge ports captured for the tests: Kamailio's wire, each client's and each media server's own wire. */
export const CAPTURE_PORTS = ['vm', 'c1', 'c2', 'home-pub', 'ms1', 'ms2'] as const;
/** `vm2`: node B's wire, captured in the two-node stack only (stack/scale.ts). */
export type CapturePort = (typeof CAPTURE_PORTS)[number] | 'vm2';
