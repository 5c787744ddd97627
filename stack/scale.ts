/**
 * The two-node stack (`npm run stack -- up --nodes 2`, `up({ nodes: 2 })`):
 * what it adds to the one-node topology of stack/topology.ts.
 *
 *   node A = the vm (10.0.0.10), node B = a second vm namespace (10.0.0.11),
 *   each with its own Kamailio (same kamailio.cfg and bundle, NODE_ID 1/2, DMQ
 *   to each other) and its own rtpengine, each on its own RTP port range.
 *
 *   The router namespace no longer maps PUBLIC_IP 1:1 to one vm: it becomes the
 *   balancer that owns PUBLIC_IP, like a cloud NLB plus HAProxy:
 *   - UDP SIP: stateless DNAT (nftables, no conntrack) to a node picked by a
 *     flow hash (jhash of the client's address:port) over the healthy nodes;
 *     stack/nlb-health.ts rewrites the pick when a node stops or starts
 *     answering OPTIONS;
 *   - TCP SIP (5060) and WSS (7777): HAProxy on PUBLIC_IP, PROXY v1, a SIP
 *     OPTIONS tcp-check per node every 500 ms;
 *   - media: each node's RTP range DNATed to that node;
 *   - the nodes' UDP replies (SIP and media) leave with PUBLIC_IP as source and
 *     their own source port, so a client's NAT binding to PUBLIC_IP:5060 takes
 *     requests from either node.
 *
 * Why stateless: with conntrack, a UDP flow stays pinned to the node it first
 * went to even after that node died (the entry outlives the node), and node
 * B's packets to a client that talked to node A could not keep source port
 * 5060 (the translated tuple would clash with A's entry, so the kernel picks
 * another port). A cloud NLB hashes every packet; so does this.
 */
import { ADDR, PORT, PREFIX } from './topology.ts';

export interface ScaleNode {
  /** A or B, as in the README and the issue. */
  name: 'A' | 'B';
  ns: string;
  /** LOCAL_IP of the node. */
  address: string;
  /** Kamailio's NODE_ID (core server_id). */
  nodeId: number;
  /** The bridge port of its wire in the switch namespace (capture here). */
  port: 'vm' | 'vm2';
  rtpMin: number;
  rtpMax: number;
}

/** Node A is the one-node stack's vm, unchanged; node B is new. */
export const NODES: readonly [ScaleNode, ScaleNode] = [
  { name: 'A', ns: `${PREFIX}vm`, address: ADDR.LOCAL_IP, nodeId: 1, port: 'vm', rtpMin: PORT.RTP_MIN, rtpMax: PORT.RTP_MAX },
  { name: 'B', ns: `${PREFIX}vm2`, address: '10.0.0.11', nodeId: 2, port: 'vm2', rtpMin: PORT.RTP_MAX + 1, rtpMax: PORT.RTP_MAX + 1 + (PORT.RTP_MAX - PORT.RTP_MIN) },
];

/** DMQ_NOTIFICATION_ADDRESS of a node: the other node's private socket. */
export const dmqPeerOf = (node: ScaleNode): string => `sip:${NODES.find((n) => n !== node)!.address}:${PORT.PRIVATE}`;

/** Dispatcher set 2: both nodes, trusted peers on the private port (matched by IP and port). */
export function trustedPeersList(): string {
  return '# set 2 = the nodes, trusted peers on the private port (two-node stack)\n' + NODES.map((n) => `2 sip:${n.address}:${PORT.PRIVATE} 0 0 duid=node${n.name}`).join('\n') + '\n';
}

/** The nft table of the balancer; nlb-health.ts flushes and refills its chain `sip_pick`. */
export const NLB_TABLE = 'ksr_nlb';
/**
 * jhash seed of the flow hash. Fixed (nftables draws a random one otherwise)
 * so the tests can compute which node a client address:port lands on.
 */
export const NLB_SEED = 0x5e1f;

/**
 * The rule of chain `sip_pick`: the node for a UDP SIP packet from the
 * internet. One healthy node: all to it. None: all nodes stay in (a cloud NLB
 * fails open when every target is unhealthy).
 */
export function sipPickRule(healthy: readonly string[]): string {
  const targets = healthy.length > 0 ? healthy : NODES.map((n) => n.address);
  if (targets.length === 1) return `udp dport ${PORT.SIP} ip daddr set ${targets[0]}`;
  const map = targets.map((a, i) => `${i} : ${a}`).join(', ');
  return `udp dport ${PORT.SIP} ip daddr set jhash ip saddr . udp sport mod ${targets.length} seed 0x${NLB_SEED.toString(16)} map { ${map} }`;
}

/** Replaces the pick rule in one nft transaction (what nlb-health.ts runs). */
export function sipPickUpdate(healthy: readonly string[]): string {
  return `flush chain ip ${NLB_TABLE} sip_pick\nadd rule ip ${NLB_TABLE} sip_pick ${sipPickRule(healthy)}\n`;
}

/** The balancer's rules (router namespace), both nodes healthy at start. */
export function balancerRules(): string {
  const nodes = NODES.map((n) => n.address).join(', ');
  const media = NODES.map((n) => `    iifname "pub0" ip daddr ${ADDR.PUBLIC_IP} udp dport ${n.rtpMin}-${n.rtpMax} notrack ip daddr set ${n.address}`).join('\n');
  const mediaOut = NODES.map((n) => `${n.rtpMin}-${n.rtpMax}`).join(', ');
  return `# The balancer of the two-node stack (written by stack/scale.ts): PUBLIC_IP
# belongs to it. UDP SIP and media are translated statelessly (notrack), TCP
# SIP and WSS are HAProxy's (local sockets on PUBLIC_IP).
table ip ${NLB_TABLE} {
  chain prerouting {
    type filter hook prerouting priority raw; policy accept;
    iifname "pub0" ip daddr ${ADDR.PUBLIC_IP} udp dport ${PORT.SIP} notrack jump sip_pick
${media}
    iifname "priv0" ip saddr { ${nodes} } udp sport { ${PORT.SIP}, ${mediaOut} } ip daddr != ${ADDR.routerPrivate} notrack
  }
  chain sip_pick {
    ${sipPickRule(NODES.map((n) => n.address))}
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state untracked accept
    ct state established,related accept
    iifname "priv0" oifname "pub0" ip saddr { ${nodes} } accept
  }
  chain postrouting_stateless {
    type filter hook postrouting priority srcnat; policy accept;
    oifname "pub0" ip saddr { ${nodes} } udp sport { ${PORT.SIP}, ${mediaOut} } ip saddr set ${ADDR.PUBLIC_IP}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    # Anything else a node opens toward the internet (not SIP/media replies).
    oifname "pub0" ip saddr { ${nodes} } snat to ${ADDR.PUBLIC_IP}
  }
}
`;
}

/** Linux's jhash (lib/jhash.h, Bob Jenkins' lookup3) over 8 bytes: `ip saddr . udp sport` in nft's registers. */
function jhash8(key: Buffer, seed: number): number {
  const rol = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  let a = (0xdeadbeef + 8 + seed) >>> 0;
  let b = a;
  let c = a;
  b = (b + key.readUInt32LE(4)) >>> 0;
  a = (a + key.readUInt32LE(0)) >>> 0;
  // __jhash_final
  c ^= b; c = (c - rol(b, 14)) >>> 0;
  a ^= c; a = (a - rol(c, 11)) >>> 0;
  b ^= a; b = (b - rol(a, 25)) >>> 0;
  c ^= b; c = (c - rol(b, 16)) >>> 0;
  a ^= c; a = (a - rol(c, 4)) >>> 0;
  b ^= a; b = (b - rol(a, 14)) >>> 0;
  c ^= b; c = (c - rol(b, 24)) >>> 0;
  return c >>> 0;
}

/**
 * The node the balancer sends a UDP client (address:port as the balancer sees
 * it) to while `healthy` are up: the kernel's nft_jhash (jhash, then
 * reciprocal_scale to `mod`). The tests use it to pick client ports that land
 * on each node, and check it against where the calls really went.
 */
export function nodeForFlow(clientIp: string, clientPort: number, healthy: readonly ScaleNode[] = NODES): ScaleNode {
  if (healthy.length === 1) return healthy[0]!;
  const key = Buffer.alloc(8);
  clientIp.split('.').forEach((octet, i) => key.writeUInt8(Number(octet), i));
  key.writeUInt16BE(clientPort, 4);
  const hash = jhash8(key, NLB_SEED);
  // reciprocal_scale: (hash * mod) >> 32, exact in a double (below 2^53).
  const index = Math.floor((hash * healthy.length) / 2 ** 32);
  return healthy[index]!;
}
