/**
 * Bring-up, teardown and status of the whole topology. Used by the CLI
 * (`npm run stack`) and in-process by the end-to-end tests.
 *
 * up():   removes leftovers of an earlier run, creates the namespaces and
 *         wires them, renders the configs, starts every daemon (recording each
 *         PID as it goes), and returns only when each one answers: rtpengine
 *         (ng ping), the media servers (SIP OPTIONS from the vm), Kamailio (RPC
 *         core.version), and the public entry points from a client (OPTIONS over
 *         UDP and TCP through the 1:1 NAT, and over TCP through HAProxy).
 * down(): stops the recorded processes by PID, then whatever still runs in a
 *         namespace of the prefix (only the stack starts anything there),
 *         deletes the namespaces (their links, bridges and nftables rules go
 *         with them). Works from the state file, from the namespace prefix when
 *         the state file is gone, and synchronously (exit handlers).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_DIR, type Deployment } from '../scripts/lib/env.ts';
import { projectBundle } from '../test/support/bundle.ts';
import { applyRules, checkPrivileges, createNamespace, deleteNamespace, listStackNamespaces, namespacePids, wire } from './net.ts';
import { stopProcesses } from './processes.ts';
import * as svc from './services.ts';
import { isAlive, processStartTime, readState, stackDir, stateFile, writeState, type ProcessRecord, type StackState } from './state.ts';
import { ADDR, CAPTURE_PORTS, MEDIA_SERVERS, NS, PORT } from './topology.ts';
import { NODES, balancerRules, type ScaleNode } from './scale.ts';
import * as scale from './scale-services.ts';

const execFileAsync = promisify(execFile);
const TSX = join(PROJECT_DIR, 'node_modules', '.bin', 'tsx');

export interface Stack {
  dir: string;
  paths: svc.Paths;
  deployment: Deployment;
  buildId: string;
  /** binrpc ctl socket, for kamcmd -s. */
  ctl: string;
  /** Milliseconds per bring-up phase. */
  timings: Record<string, number>;
  /** kamcmd against the stack's Kamailio; returns stdout. */
  rpc(...args: string[]): Promise<string>;
  /** The two-node stack (`nodes: 2`): node A (the vm, whose Kamailio `rpc` talks to) and node B. */
  nodes?: [scale.StackNode, scale.StackNode];
}

export type Say = (line: string) => void;

const tail = (file: string, lines = 25): string =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, detail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs stack/probe.ts inside a namespace; throws with every probe's answer when one failed. */
async function probeIn(ns: string, from: string, probes: readonly string[], timeoutMs = 10_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync('ip', ['netns', 'exec', ns, TSX, join(PROJECT_DIR, 'stack', 'probe.ts'), '--timeout', String(timeoutMs), '--from', from, ...probes], {
      cwd: PROJECT_DIR,
      timeout: timeoutMs + 10_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`readiness probes in ${ns} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

export interface UpOptions {
  dir?: string;
  say?: Say;
  teardownOnExit?: boolean;
  mediaServers?: svc.MediaServerScenario;
  /**
   * 2: the two-node stack (stack/scale.ts): node B beside the vm, the router
   * becomes the balancer owning PUBLIC_IP (HAProxy for TCP, nftables flow hash
   * for UDP). Default 1, the one-node stack.
   */
  nodes?: 1 | 2;
}

export async function up(opts: UpOptions = {}): Promise<Stack> {
  const say: Say = opts.say ?? (() => undefined);
  const twoNodes = opts.nodes === 2;
  const dir = opts.dir ?? stackDir();
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const mark = (phase: string, since: number): number => {
    timings[phase] = Date.now() - since;
    return Date.now();
  };

  checkPrivileges();
  const leftovers = down({ dir, keepLogs: false });
  if (leftovers.namespaces.length > 0) say(`removed leftovers of an earlier run: ${leftovers.namespaces.join(' ')}`);
  rmSync(dir, { recursive: true, force: true });
  const bundle = projectBundle();

  const state: StackState = { dir, startedAt: new Date().toISOString(), namespaces: [], processes: [] };
  writeState(state);
  if (opts.teardownOnExit === true) {
    // A test process that dies before afterAll still leaves nothing behind;
    // only this bring-up's stack, never one a later test file started meanwhile.
    process.once('exit', () => {
      if (readState(dir)?.startedAt === state.startedAt) down({ dir, keepLogs: true });
    });
  }
  const record = (...procs: ProcessRecord[]): void => {
    state.processes.push(...procs);
    writeState(state);
  };

  let t = Date.now();
  for (const ns of Object.values(NS)) {
    createNamespace(ns, (created) => {
      state.namespaces.push(created);
      writeState(state);
    });
  }
  const onCreated = (created: string): void => {
    state.namespaces.push(created);
    writeState(state);
  };
  wire();
  if (twoNodes) scale.wireNodeB(onCreated);
  const paths = svc.paths(dir);
  const vm = svc.vmDeployment(paths, bundle.path);
  const nodeDeployments = twoNodes ? NODES.map((n) => scale.nodeDeployment(paths, n, vm)) : [];
  const deployment = nodeDeployments[0] ?? vm;
  svc.renderConfigs(paths, deployment);
  if (twoNodes) scale.renderNodeConfigs(paths, nodeDeployments);
  applyRules(paths.conf, twoNodes ? balancerRules() : undefined);
  t = mark('network', t);
  say(
    twoNodes
      ? `network: ${Object.values(NS).length + 1} namespaces wired, balancer ${ADDR.PUBLIC_IP} -> nodes ${NODES.map((n) => n.address).join(', ')} (${timings['network']} ms)`
      : `network: ${Object.values(NS).length} namespaces wired, 1:1 NAT ${ADDR.PUBLIC_IP} <-> ${ADDR.LOCAL_IP} (${timings['network']} ms)`,
  );

  const captures = svc.startCaptures(paths, [...CAPTURE_PORTS, ...(twoNodes ? (['vm2'] as const) : [])]);
  record(...captures);
  const rtpengine = svc.startRtpengine(paths);
  const rtpengineB = twoNodes ? scale.startNodeRtpengine(paths, NODES[1]) : undefined;
  record(rtpengine, ...(rtpengineB ? [rtpengineB] : []), ...svc.startMediaServers(paths, opts.mediaServers));
  await waitFor('tcpdump', () => captures.every((c) => /listening on/.test(existsSync(c.log) ? readFileSync(c.log, 'utf8') : '')), 5000, () =>
    captures.map((c) => tail(c.log, 5)).join('\n'),
  );
  // rtpengine must answer before Kamailio starts: a failed first ping
  // disables it in Kamailio for rtpengine_disable_tout seconds.
  for (const node of twoNodes ? NODES : [NODES[0]]) {
    say(
      (
        await probeIn(node.ns, node.address, [`ng=127.0.0.1:${PORT.NG}`, ...MEDIA_SERVERS.map((ms) => `options=udp:${ms.address}:${PORT.UAS}`)])
      ).trimEnd(),
    );
  }
  t = mark('rtpengine+media servers', t);

  const kamailio = svc.startKamailio(paths, deployment);
  const kamailioB = twoNodes ? scale.startNodeKamailio(paths, NODES[1], nodeDeployments[1]!) : undefined;
  record(kamailio, ...(kamailioB ? [kamailioB] : []));
  const ctl = `unix:${join(paths.run, 'kamailio_ctl')}`;
  const rpc = async (...args: string[]): Promise<string> => (await execFileAsync('kamcmd', ['-s', ctl, ...args], { timeout: 5000 })).stdout;
  const nodes = twoNodes
    ? ([scale.nodeHandle(paths, NODES[0], deployment, kamailio, rtpengine), scale.nodeHandle(paths, NODES[1], nodeDeployments[1]!, kamailioB!, rtpengineB!)] as [scale.StackNode, scale.StackNode])
    : undefined;
  await waitForKamailio(kamailio, rpc);
  if (nodes) {
    await waitForKamailio(nodes[1].kamailio, nodes[1].rpc);
    await waitForDmqPeers(nodes);
  }
  t = mark('kamailio', t);
  say(`kamailio: RPC answers on ${ctl} (${timings['kamailio']} ms)`);
  // HAProxy only now: a health check that fails at its start marks the
  // server DOWN until `rise` checks (inter 5 s each) succeed.
  record(svc.startHaproxy(paths));
  if (twoNodes) record(scale.startBalancerHaproxy(paths), scale.startNlbHealth(paths));

  // The public entry points, from a public client: through the 1:1 NAT (UDP,
  // TCP) and through HAProxy (TCP + PROXY v1), each answered by the routing.
  const publicUri = `sip:${ADDR.PUBLIC_IP}:${PORT.SIP}`;
  const entry = await probeIn(NS.c1, ADDR.c1, [
    `options=udp:${ADDR.PUBLIC_IP}:${PORT.SIP}`,
    `options=tcp:${ADDR.PUBLIC_IP}:${PORT.SIP}`,
    `options=tcp:${ADDR.lbPublic}:${PORT.SIP}/${publicUri}`,
  ]);
  say(entry.trimEnd());
  if (!entry.split('\n').filter(Boolean).every((line) => line.includes(bundle.buildId))) {
    throw new Error(`the entry points answer, but not with this build (${bundle.buildId}):\n${entry}`);
  }
  mark('public entry points', t);
  timings['total'] = Date.now() - t0;
  state.readyAt = new Date().toISOString();
  writeState(state);
  say(`ready in ${timings['total']} ms (${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  return { dir, paths, deployment, buildId: bundle.buildId, ctl, timings, rpc, ...(nodes ? { nodes } : {}) };
}

async function waitForKamailio(kamailio: ProcessRecord, rpc: (...args: string[]) => Promise<string>): Promise<void> {
  await waitFor(
    `Kamailio (${kamailio.name})`,
    async () => {
      if (!isAlive(kamailio)) throw new Error(`Kamailio (${kamailio.name}) exited at start:\n${tail(kamailio.log)}`);
      try {
        await rpc('core.version');
        return true;
      } catch {
        return false;
      }
    },
    15_000,
    () => tail(kamailio.log),
  );
}

/** Each node lists the other as an active DMQ peer: replication works from now on. */
async function waitForDmqPeers(nodes: readonly scale.StackNode[]): Promise<void> {
  for (const node of nodes) {
    const peer = NODES.find((n) => n.address !== node.address)!;
    await waitFor(
      `DMQ on node ${node.name}`,
      async () => {
        const list = await node.rpc('dmq.list_nodes').catch(() => '');
        return list.includes(`host: ${peer.address}`);
      },
      20_000,
      () => tail(node.kamailio.log),
    );
  }
}

/**
 * Starts a killed node again (scale.killNode), as an operator would: its
 * rtpengine first, then its Kamailio with the same environment; returns once
 * Kamailio answers RPC and both daemons are in the state file.
 */
export async function restartNode(stack: Stack, name: ScaleNode['name']): Promise<scale.StackNode> {
  const node = stack.nodes?.find((n) => n.name === name);
  if (!node) throw new Error(`restartNode: no node ${name} (is this the two-node stack?)`);
  node.rtpengine = scale.startNodeRtpengine(stack.paths, node);
  scale.recordProcesses(stack.dir, node.rtpengine);
  await probeIn(node.ns, node.address, [`ng=127.0.0.1:${PORT.NG}`]);
  node.kamailio = scale.startNodeKamailio(stack.paths, node, node.deployment);
  scale.recordProcesses(stack.dir, node.kamailio);
  await waitForKamailio(node.kamailio, node.rpc);
  return node;
}

export interface DownReport {
  stopped: string[];
  killed: string[];
  leftovers: string[];
  namespaces: string[];
}

export function down(opts: { dir?: string; keepLogs?: boolean } = {}): DownReport {
  const dir = opts.dir ?? stackDir();
  const state = readState(dir);
  const report: DownReport = { stopped: [], killed: [], leftovers: [], namespaces: [] };
  if (state) {
    const alive = state.processes.filter(isAlive);
    report.stopped = alive.map((p) => `${p.name} (pid ${p.pid})`);
    report.killed.push(...stopProcesses(alive));
  }
  const namespaces = [...new Set([...(state?.namespaces ?? []), ...listStackNamespaces()])];
  for (const ns of namespaces) {
    // Anything still inside was started by the stack (nothing else knows
    // these namespaces): a daemon's stray child, or a run whose state is lost.
    const strays = namespacePids(ns)
      .map((pid) => ({ pid, startTime: processStartTime(pid) ?? '', name: `${ns}:${commandOf(pid)}` }))
      .filter((p) => p.startTime !== '');
    report.leftovers.push(...strays.map((p) => `${p.name} (pid ${p.pid})`));
    report.killed.push(...stopProcesses(strays));
  }
  for (const ns of namespaces) {
    try {
      deleteNamespace(ns);
      report.namespaces.push(ns);
    } catch {
      /* already gone */
    }
  }
  if (existsSync(stateFile(dir))) rmSync(stateFile(dir));
  if (opts.keepLogs === false) rmSync(dir, { recursive: true, force: true });
  return report;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

export interface StatusReport {
  state: StackState | undefined;
  namespaces: string[];
  processes: Array<ProcessRecord & { alive: boolean }>;
}

export function status(dir: string = stackDir()): StatusReport {
  const state = readState(dir);
  return {
    state,
    namespaces: listStackNamespaces(),
    processes: (state?.processes ?? []).map((p) => ({ ...p, alive: isAlive(p) })),
  };
}
