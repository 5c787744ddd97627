/**
 * Namespaces, bridges, veth links, addresses, routes and NAT rules of the
 * topology (stack/topology.ts), with iproute2 and nftables. Everything is
 * created directly inside the stack's namespaces: veth pairs are born with
 * both ends already in their namespaces, so the root namespace never holds
 * an interface of the stack, even for an instant.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADDR, DEFAULT_ROUTES, LINKS, NS, PREFIX, ROUTERS, SEGMENT, type Host } from './topology.ts';

export function run(command: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(command, [...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${command} is missing (scripts/install-system-deps.sh installs it)`);
    throw new Error(`${command} ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** `ip netns exec NS command...` */
export function nsRun(ns: string, command: string, args: readonly string[], input?: string): string {
  return run('ip', ['netns', 'exec', ns, command, ...args], input);
}

export function listStackNamespaces(): string[] {
  return run('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(PREFIX));
}

/** PIDs of every process inside a namespace (`ip netns pids`). */
export function namespacePids(ns: string): number[] {
  try {
    return run('ip', ['netns', 'pids', ns])
      .split('\n')
      .filter((line) => /^\d+$/.test(line.trim()))
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Fails with the reason when this machine cannot run the stack (not root,
 * no netns support), before anything is created.
 */
export function checkPrivileges(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the stack needs root (network namespaces, veth links, nftables): run as root, as CI does');
  }
  run('ip', ['netns', 'list']);
}

/** Creates one namespace with loopback up and IPv6 off (no DAD/RS noise in the captures). */
export function createNamespace(ns: string, onCreated: (ns: string) => void): void {
  run('ip', ['netns', 'add', ns]);
  onCreated(ns);
  run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  nsRun(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
}

/** Bridges of the switch namespace and every host's links, addresses and routes. */
export function wire(): void {
  for (const { bridge } of Object.values(SEGMENT)) {
    run('ip', ['-n', NS.switch, 'link', 'add', bridge, 'type', 'bridge']);
    // No STP, no forwarding delay: a port forwards the moment it is up.
    run('ip', ['-n', NS.switch, 'link', 'set', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    run('ip', ['-n', NS.switch, 'link', 'set', bridge, 'up']);
  }
  for (const link of LINKS) {
    const ns = NS[link.host];
    run('ip', ['link', 'add', link.ifname, 'netns', ns, 'type', 'veth', 'peer', 'name', link.port, 'netns', NS.switch]);
    run('ip', ['-n', NS.switch, 'link', 'set', link.port, 'master', SEGMENT[link.segment].bridge, 'up']);
    run('ip', ['-n', ns, 'addr', 'add', `${link.address}/${SEGMENT[link.segment].prefixLen}`, 'dev', link.ifname]);
    run('ip', ['-n', ns, 'link', 'set', link.ifname, 'up']);
  }
  for (const [host, gateway] of Object.entries(DEFAULT_ROUTES) as Array<[Host, string]>) {
    run('ip', ['-n', NS[host], 'route', 'add', 'default', 'via', gateway]);
  }
  for (const host of ROUTERS) {
    nsRun(NS[host], 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  }
}

/**
 * The cloud's 1:1 NAT (AWS Elastic IP): everything sent to PUBLIC_IP goes to
 * the vm, every packet the vm sends out gets PUBLIC_IP as source, ports
 * untouched (SIP and every rtpengine media port alike). Only the vm is
 * reachable from outside; the media servers are not.
 */
export function routerRules(): string {
  return `# 1:1 NAT of the cloud router (written by stack/net.ts)
table ip ksr_cloud_nat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "pub0" ip daddr ${ADDR.PUBLIC_IP} dnat to ${ADDR.LOCAL_IP}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "pub0" ip saddr ${ADDR.LOCAL_IP} snat to ${ADDR.PUBLIC_IP}
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "pub0" oifname "priv0" ip daddr ${ADDR.LOCAL_IP} accept
    iifname "priv0" oifname "pub0" ip saddr ${ADDR.LOCAL_IP} accept
  }
}
`;
}

/** A home router: the LAN behind one public address (masquerade), nothing in from outside. */
export function homeRules(): string {
  return `# Home NAT in front of c2 (written by stack/net.ts)
table ip ksr_home_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "pub0" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan0" oifname "pub0" accept
  }
}
`;
}

/** `router`: the router's rules, the 1:1 NAT unless given (the two-node stack's balancer, stack/scale.ts). */
export function applyRules(confDir: string, router: string = routerRules()): void {
  for (const [host, rules] of [['router', router], ['home', homeRules()]] as const) {
    const file = join(confDir, `nft-${host}.conf`);
    writeFileSync(file, rules);
    nsRun(NS[host], 'nft', ['-f', file]);
  }
}

export function deleteNamespace(ns: string): void {
  run('ip', ['netns', 'del', ns]);
}
