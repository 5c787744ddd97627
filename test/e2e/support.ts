/**
 * Shared by the end-to-end tests: the stack up for the whole file (beforeAll)
 * and down after it (afterAll, and at process exit if the file dies), the
 * clients and entry points of the topology, SIPp runs with their traces, and
 * the artifacts kept in .test-artifacts/e2e-<file>/ when a test failed: the
 * SIPp traces and commands, the captures (open them in sngrep or Wireshark),
 * the Kamailio/rtpengine/HAProxy/UAS logs and the rendered configs.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type SipMessage } from '../support/sip-client.ts';
import { ARTIFACTS_DIR } from '../support/process.ts';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { readPackets, readSip, type Packet, type WireMessage } from '../../stack/capture.ts';
import { nsRun } from '../../stack/net.ts';
import type { Bencoded } from '../../stack/ng.ts';
import { capturePath, uasMessageLog } from '../../stack/services.ts';
import { readMessageLog, runSipp, startSipp, type RunningSipp, type SippResult, type TracedMessage } from '../../stack/sipp.ts';
import { down, up, type Stack } from '../../stack/stack.ts';
import { stackDir } from '../../stack/state.ts';
import { ADDR, MEDIA_SERVERS, NS, PORT, SIP_DOMAIN, SUBSCRIBERS, type CapturePort } from '../../stack/topology.ts';

export interface Client {
  name: 'c1' | 'c2';
  label: string;
  ns: string;
  /** The address the client has (Via, Contact, SDP). */
  ip: string;
  /** The address the rest of the world sees it from: its own, or its home NAT's. */
  seenAs: string;
  /** Its wire in the captures. */
  capture: CapturePort;
  user: string;
  password: string;
}

/** A subscriber's password (stack/topology.ts SUBSCRIBERS). */
export const password = (user: string): string => SUBSCRIBERS.find((s) => s.user === user)!.password;

export const CLIENTS: Record<'c1' | 'c2', Client> = {
  c1: { name: 'c1', label: 'a client with its own public address (c1)', ns: NS.c1, ip: ADDR.c1, seenAs: ADDR.c1, capture: 'c1', user: 'alice', password: password('alice') },
  c2: { name: 'c2', label: 'a client behind a home NAT (c2)', ns: NS.c2, ip: ADDR.c2, seenAs: ADDR.homePublic, capture: 'c2', user: 'bob', password: password('bob') },
};

export interface Entry {
  name: string;
  transport: 'udp' | 'tcp';
  /** Where the client sends. */
  address: string;
  port: number;
  /** Through HAProxy (PROXY v1 header in front of the TCP stream). */
  balancer: boolean;
}

export const ENTRIES = {
  udpNat: { name: 'UDP through the 1:1 NAT', transport: 'udp', address: ADDR.PUBLIC_IP, port: PORT.SIP, balancer: false },
  tcpNat: { name: 'TCP directly (1:1 NAT)', transport: 'tcp', address: ADDR.PUBLIC_IP, port: PORT.SIP, balancer: false },
  tcpLb: { name: 'TCP through HAProxy', transport: 'tcp', address: ADDR.lbPublic, port: PORT.SIP, balancer: true },
} as const satisfies Record<string, Entry>;

export interface SippOptions {
  name: string;
  client: Client;
  entry: Entry;
  scenario: string;
  args: readonly string[];
}

/** SIPp on any host of the stack (a media server calling, the balancer's private side...). */
export interface SippFromOptions {
  name: string;
  ns: string;
  ip: string;
  /** host:port it sends to. */
  remote: string;
  transport: 'udp' | 'tcp';
  scenario: string;
  args: readonly string[];
}

export interface StackContext {
  readonly stack: Stack;
  /** A fresh client port for each SIPp run of the file (its media and control ports are +1000/+2000). */
  nextPort(): number;
  sipp(opts: SippOptions): Promise<SippResult>;
  startSipp(opts: SippOptions): RunningSipp;
  startSippFrom(opts: SippFromOptions): RunningSipp;
  /** SIP messages on a captured wire, in order. */
  wire(port: CapturePort): WireMessage[];
  /** Packets on a captured wire matching a tshark display filter. */
  packets(port: CapturePort, filter?: string): Packet[];
  /** One ng command to the stack's rtpengine (from inside the vm, where its socket is). */
  ng(command: Record<string, Bencoded>): Promise<Record<string, Bencoded>>;
}

/** Brings the stack up for this test file and down after it (`nodes: 2`: the two-node stack); keeps artifacts of a failure. */
export function useStack(label: string, opts: { nodes?: 1 | 2 } = {}): StackContext {
  let stack: Stack | undefined;
  let failed = false;
  let port = 5100;
  let ngClient: NgClient | undefined;
  const sippDir = (): string => join(stack!.dir, 'sipp', label);

  beforeAll(async () => {
    // up() says why when this machine cannot run it (root, netns): the
    // end-to-end tests fail then, they are never skipped.
    stack = await up({ teardownOnExit: true, ...(opts.nodes !== undefined ? { nodes: opts.nodes } : {}) });
  }, 60_000);
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(() => {
    ngClient?.close();
    ngClient = undefined;
    // Down first (the daemons' logs are complete then; down keeps them).
    const report = down({ keepLogs: true });
    if (failed || stack === undefined) keep(label, stackDir());
    if (report.killed.length > 0) process.stderr.write(`e2e: had to SIGKILL ${report.killed.join(', ')}\n`);
  }, 30_000);

  const spec = (opts: SippOptions) => ({
    name: opts.name,
    ns: opts.client.ns,
    scenario: opts.scenario,
    remote: `${opts.entry.address}:${opts.entry.port}`,
    localIp: opts.client.ip,
    localPort: port++,
    transport: opts.entry.transport,
    args: withDomain(opts.args),
    dir: sippDir(),
  });

  return {
    get stack() {
      if (!stack) throw new Error('the stack is not up (see beforeAll)');
      return stack;
    },
    nextPort: () => port++,
    sipp: (opts) => runSipp(spec(opts)),
    startSipp: (opts) => startSipp(spec(opts)),
    startSippFrom: (opts) =>
      startSipp({
        name: opts.name,
        ns: opts.ns,
        scenario: opts.scenario,
        remote: opts.remote,
        localIp: opts.ip,
        localPort: port++,
        transport: opts.transport,
        args: withDomain(opts.args),
        dir: sippDir(),
      }),
    wire: (p) => readSip(capturePath(stack!.paths, p)),
    packets: (p, filter) => readPackets(capturePath(stack!.paths, p), filter),
    ng: (command) => {
      ngClient ??= startNgClient();
      return ngClient.ask(command);
    },
  };
}

interface NgClient {
  ask(command: Record<string, Bencoded>): Promise<Record<string, Bencoded>>;
  close(): void;
}

/**
 * stack/ng.ts --serve inside the vm (rtpengine's ng socket is on the vm's
 * loopback), started once per file: questions go one at a time, one JSON
 * line each way, so a test reads rtpengine's state in milliseconds.
 */
function startNgClient(): NgClient {
  const child = spawn('ip', ['netns', 'exec', NS.vm, process.execPath, '--import', 'tsx', join(PROJECT_DIR, 'stack', 'ng.ts'), '--serve', `127.0.0.1:${PORT.NG}`], {
    cwd: PROJECT_DIR,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line));
  let queue: Promise<unknown> = Promise.resolve();
  return {
    ask(command) {
      const answer = queue.then(
        () =>
          new Promise<Record<string, Bencoded>>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`rtpengine ng helper: no answer to ${JSON.stringify(command)} in 10 s`)), 10_000);
            waiting.push((line) => {
              clearTimeout(timer);
              const parsed = JSON.parse(line) as Record<string, Bencoded>;
              if (typeof parsed['error'] === 'string') reject(new Error(parsed['error']));
              else resolve(parsed);
            });
            child.stdin.write(`${JSON.stringify(command)}\n`);
          }),
      );
      queue = answer.catch(() => undefined);
      return answer;
    },
    close() {
      child.stdin.end();
      child.kill('SIGTERM');
    },
  };
}

/** `-key domain SIP_DOMAIN` unless the run names a domain of its own (SIPp keeps the first -key of a name). */
function withDomain(args: readonly string[]): string[] {
  const named = args.some((a, i) => a === '-key' && args[i + 1] === 'domain');
  return named ? [...args] : ['-key', 'domain', SIP_DOMAIN, ...args];
}

function keep(label: string, dir: string): void {
  if (!existsSync(dir)) return;
  const target = join(ARTIFACTS_DIR, `e2e-${label}`);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  // node-b/: node B's logs and configs in the two-node stack.
  for (const sub of ['logs', 'capture', 'sipp', 'conf', 'node-b/logs', 'node-b/conf']) {
    if (existsSync(join(dir, sub))) cpSync(join(dir, sub), join(target, sub), { recursive: true });
  }
  process.stderr.write(`e2e: kept the traces, captures and logs in ${target}\n`);
}

/** The message SIPp sent or received at position `index` among those matching. */
export function traced(result: SippResult, direction: 'sent' | 'received', match: (m: SipMessage) => boolean): SipMessage[] {
  return result.messages.filter((t) => t.direction === direction && match(t.message)).map((t) => t.message);
}

/** `host:port` of a SIP URI (`<sip:user@host:port;params>`), port defaulting to 5060. */
export function hostPort(uri: string): string {
  const m = /sips?:(?:[^@>;]+@)?([^:;>]+)(?::(\d+))?/.exec(uri);
  if (!m) throw new Error(`not a SIP URI: ${uri}`);
  return `${m[1]}:${m[2] ?? '5060'}`;
}

/** The top Via's sent-by as `PROTO host:port`. */
export function topVia(m: SipMessage): string {
  const via = (m.header('via') ?? '').split(',')[0]!.trim();
  const v = /^SIP\/2\.0\/(\w+)\s+([^;:\s]+)(?::(\d+))?/.exec(via);
  if (!v) throw new Error(`no Via in ${m.startLine}`);
  return `${v[1]} ${v[2]}:${v[3] ?? '5060'}`;
}

/** Every Record-Route (or Route) entry, in order, header values split at commas. */
export function routeSet(m: SipMessage, header: 'record-route' | 'route' = 'record-route'): string[] {
  return m.headerValues(header).flatMap((v) => v.split(/,(?=\s*<)/).map((e) => e.trim()));
}

export interface Sdp {
  origin: string;
  connection: string;
  audioPort: number;
  iceLines: string[];
}

export function sdp(m: SipMessage): Sdp {
  const lines = m.body.split(/\r?\n/);
  const field = (prefix: string): string => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length).trim() ?? '';
  return {
    origin: field('o=').split(' ').slice(-1)[0] ?? '',
    connection: field('c=IN IP4 '),
    audioPort: Number(/^(\d+)/.exec(field('m=audio '))?.[1] ?? NaN),
    iceLines: lines.filter((l) => /^a=(ice-|candidate|end-of-candidates|remote-candidates)/.test(l)),
  };
}

/** What each media server's SIPp (the stack's UAS) sent and received for one call; only those that saw it. */
export function mediaServerTraces(stack: Stack, callId: string): Array<{ host: 'ms1' | 'ms2'; address: string; messages: TracedMessage[] }> {
  return MEDIA_SERVERS.map((ms) => ({
    host: ms.host,
    address: ms.address,
    messages: readMessageLog(uasMessageLog(stack.paths, ms.host)).filter((t) => t.message.header('call-id') === callId),
  })).filter((ms) => ms.messages.length > 0);
}

/**
 * Makes a media server stop answering anything on its SIP port (an nftables
 * drop in its own namespace, as if FreeSWITCH hung): Kamailio's INVITEs and
 * OPTIONS probes to it go unanswered. Returns what undoes it.
 */
export function silenceMediaServer(host: 'ms1' | 'ms2'): () => void {
  const table = 'stack_test_silence';
  nsRun(NS[host], 'nft', ['-f', '-'], `table ip ${table} {\n  chain input {\n    type filter hook input priority filter; policy accept;\n    udp dport ${PORT.UAS} drop\n  }\n}\n`);
  return () => void nsRun(NS[host], 'nft', ['delete', 'table', 'ip', table]);
}

/** Polls until `get` returns a value (not undefined), or fails saying what it waited for. */
export async function waitFor<T>(what: string, get: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every Via entry of a message, header values split at commas. */
export function viaSet(m: SipMessage): string[] {
  return m.headerValues('via').flatMap((v) => v.split(/,(?=\s*SIP\/)/).map((e) => e.trim()));
}

/** `kamcmd dispatcher.list` as destination URI -> flags (`AP` active, `IP` inactive and probed...). */
export async function dispatcherFlags(stack: Stack): Promise<Record<string, string>> {
  const out = await stack.rpc('dispatcher.list');
  const flags: Record<string, string> = {};
  for (const m of out.matchAll(/URI: (\S+)\s+FLAGS: (\S+)/g)) flags[m[1]!] = m[2]!;
  return flags;
}
