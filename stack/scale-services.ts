/**
 * What runs on the two-node stack besides the one-node stack's daemons
 * (stack/scale.ts has the topology and the balancer's rules): node B's
 * namespace and wire, both nodes' deployments (NODE_ID, DMQ to each other,
 * set 2 = the nodes), node B's rtpengine and Kamailio, the balancer's HAProxy
 * and UDP health checker; and, for the failover tests, killing a node (its
 * Kamailio and rtpengine, by PID) and starting it again.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_DIR, deploymentEnv, resolveDeployment, type Deployment } from '../scripts/lib/env.ts';
import { renderBalancerHaproxyCfg } from './haproxy.ts';
import { createNamespace, run } from './net.ts';
import type { Bencoded } from './ng.ts';
import { signal, startProcess } from './processes.ts';
import { NODES, dmqPeerOf, trustedPeersList, type ScaleNode } from './scale.ts';
import * as svc from './services.ts';
import { isAlive, readState, writeState, type ProcessRecord } from './state.ts';
import { ADDR, NS, PORT, SEGMENT } from './topology.ts';

const execFileAsync = promisify(execFile);
const TSX = join(PROJECT_DIR, 'node_modules', '.bin', 'tsx');

export interface StackNode extends ScaleNode {
  paths: svc.Paths;
  deployment: Deployment;
  /** binrpc ctl socket, for kamcmd -s. */
  ctl: string;
  /** The running daemons (replaced when the node is started again). */
  kamailio: ProcessRecord;
  rtpengine: ProcessRecord;
  /** kamcmd against this node's Kamailio; returns stdout. */
  rpc(...args: string[]): Promise<string>;
  /** One ng command to this node's rtpengine (from inside its namespace). */
  ng(command: Record<string, Bencoded>): Promise<Record<string, Bencoded>>;
}

/** Node B's namespace and its one wire on the private bridge, default route through the balancer. */
export function wireNodeB(onCreated: (ns: string) => void): void {
  const b = NODES[1];
  createNamespace(b.ns, onCreated);
  run('ip', ['link', 'add', 'eth0', 'netns', b.ns, 'type', 'veth', 'peer', 'name', b.port, 'netns', NS.switch]);
  run('ip', ['-n', NS.switch, 'link', 'set', b.port, 'master', SEGMENT.private.bridge, 'up']);
  run('ip', ['-n', b.ns, 'addr', 'add', `${b.address}/${SEGMENT.private.prefixLen}`, 'dev', 'eth0']);
  run('ip', ['-n', b.ns, 'link', 'set', 'eth0', 'up']);
  run('ip', ['-n', b.ns, 'route', 'add', 'default', 'via', ADDR.routerPrivate]);
}

/** Node B keeps its configs, logs and RUN_DIR apart from node A's (which are the one-node stack's). */
export const nodePaths = (p: svc.Paths, node: ScaleNode): svc.Paths => (node.name === 'A' ? p : svc.paths(join(p.dir, 'node-b')));

/**
 * Each node's deployment: the vm's, with its own LOCAL_IP, RUN_DIR, database,
 * dispatcher list and RTP range, NODE_ID, and the other node as
 * DMQ_NOTIFICATION_ADDRESS (env.ts derives its own DMQ_SERVER_ADDRESS).
 */
export function nodeDeployment(p: svc.Paths, node: ScaleNode, vm: Deployment): Deployment {
  const np = nodePaths(p, node);
  return resolveDeployment(
    {
      ...deploymentEnv(vm),
      LOCAL_IP: node.address,
      RUN_DIR: np.run,
      DB_URL: `sqlite://${join(np.run, 'kamailio.sqlite')}`,
      DISPATCHER_LIST: join(np.conf, 'dispatcher.list'),
      RTP_PORT_MIN: String(node.rtpMin),
      RTP_PORT_MAX: String(node.rtpMax),
      NODE_ID: String(node.nodeId),
      DMQ_NOTIFICATION_ADDRESS: dmqPeerOf(node),
    },
    PROJECT_DIR,
  );
}

/** Node B's configs and database (node A's are the one-node stack's), and set 2 in both dispatcher lists. */
export function renderNodeConfigs(p: svc.Paths, deployments: readonly Deployment[]): void {
  svc.renderConfigs(nodePaths(p, NODES[1]), deployments[1]!);
  for (const dep of deployments) appendFileSync(dep.DISPATCHER_LIST, trustedPeersList());
}

export function balancerHaproxyCfg(p: svc.Paths): string {
  return join(p.conf, 'haproxy-balancer.cfg');
}

/** HAProxy for TCP/WSS on PUBLIC_IP, in the balancer (router) namespace. */
export function startBalancerHaproxy(p: svc.Paths): ProcessRecord {
  const cfg = balancerHaproxyCfg(p);
  writeFileSync(cfg, renderBalancerHaproxyCfg([NODES[0].address, NODES[1].address]));
  return startProcess({
    name: 'haproxy-balancer',
    ns: NS.router,
    command: 'haproxy',
    args: ['-W', '-db', '-f', cfg, '-p', join(p.run, 'haproxy-balancer.pid')],
    log: join(p.logs, 'haproxy-balancer.log'),
  });
}

/** How often the UDP balancer probes each node, and after how many misses/answers it changes its mind. */
export const NLB_HEALTH = { intervalMs: 500, fall: 2, rise: 2 } as const;

export const nlbHealthLog = (p: svc.Paths): string => join(p.logs, 'nlb-health.log');

/** stack/nlb-health.ts in the balancer namespace: OPTIONS over UDP to each node, nft pick rewritten on changes. */
export function startNlbHealth(p: svc.Paths): ProcessRecord {
  return startProcess({
    name: 'nlb-health',
    ns: NS.router,
    // node itself (not the tsx wrapper, which forks): the recorded PID is the checker's.
    command: process.execPath,
    args: [
      '--import', 'tsx', join(PROJECT_DIR, 'stack', 'nlb-health.ts'),
      '--from', ADDR.routerPrivate, '--uri', `sip:${ADDR.PUBLIC_IP}:${PORT.SIP}`,
      '--interval', String(NLB_HEALTH.intervalMs), '--fall', String(NLB_HEALTH.fall), '--rise', String(NLB_HEALTH.rise),
      ...NODES.map((n) => `${n.address}:${PORT.SIP}`),
    ],
    log: nlbHealthLog(p),
  });
}

export function startNodeRtpengine(p: svc.Paths, node: ScaleNode): ProcessRecord {
  return svc.startRtpengine(nodePaths(p, node), node.ns, node.name === 'A' ? 'rtpengine' : 'rtpengine-b');
}

export function startNodeKamailio(p: svc.Paths, node: ScaleNode, dep: Deployment): ProcessRecord {
  return svc.startKamailio(nodePaths(p, node), dep, node.ns, node.name === 'A' ? 'kamailio' : 'kamailio-b');
}

export function nodeHandle(p: svc.Paths, node: ScaleNode, deployment: Deployment, kamailio: ProcessRecord, rtpengine: ProcessRecord): StackNode {
  const ctl = `unix:${join(nodePaths(p, node).run, 'kamailio_ctl')}`;
  return {
    ...node,
    paths: nodePaths(p, node),
    deployment,
    ctl,
    kamailio,
    rtpengine,
    rpc: async (...args) => (await execFileAsync('kamcmd', ['-s', ctl, ...args], { timeout: 5000 })).stdout,
    ng: async (command) => {
      const { stdout } = await execFileAsync('ip', ['netns', 'exec', node.ns, TSX, join(PROJECT_DIR, 'stack', 'ng.ts'), JSON.stringify(command), `127.0.0.1:${PORT.NG}`], {
        cwd: PROJECT_DIR,
        timeout: 15_000,
      });
      return JSON.parse(stdout) as Record<string, Bencoded>;
    },
  };
}

/** Adds processes to the stack's state file, so `down` stops them too. */
export function recordProcesses(dir: string, ...procs: ProcessRecord[]): void {
  const state = readState(dir);
  if (!state) throw new Error(`no stack state in ${dir}`);
  state.processes.push(...procs);
  writeState(state);
}

/**
 * A node dies: SIGKILL to its Kamailio's and its rtpengine's process groups
 * (Kamailio's workers with it), by the PIDs the stack recorded. Returns when
 * both are gone.
 */
export async function killNode(node: StackNode): Promise<void> {
  for (const p of [node.kamailio, node.rtpengine].filter(isAlive)) {
    signal(-p.pid, 'SIGKILL');
    signal(p.pid, 'SIGKILL');
  }
  const deadline = Date.now() + 5000;
  while ([node.kamailio, node.rtpengine].some(isAlive)) {
    if (Date.now() > deadline) throw new Error(`node ${node.name}: still alive 5 s after SIGKILL`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
