/**
 * Shared by the end-to-end tests: the stack up for the whole file (beforeAll)
 * and down after it (afterAll, and at process exit if the file dies), the
 * clients and entry points of the topology, SIPp runs with their traces, and
 * the artifacts kept in .test-artifacts/e2e-<file>/ when a test failed: the
 * SIPp traces and commands, the captures (open them in sngrep or Wireshark),
 * the Kamailio/rtpengine/HAProxy/UAS logs and the rendered configs.
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type SipMessage } from '../support/sip-client.ts';
import { ARTIFACTS_DIR } from '../support/process.ts';
import { readSip, type WireMessage } from '../../stack/capture.ts';
import { capturePath } from '../../stack/services.ts';
import { runSipp, startSipp, type RunningSipp, type SippResult } from '../../stack/sipp.ts';
import { down, up, type Stack } from '../../stack/stack.ts';
import { stackDir } from '../../stack/state.ts';
import { ADDR, NS, PORT, SIP_DOMAIN, SUBSCRIBERS, type CapturePort } from '../../stack/topology.ts';

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

const password = (user: string): string => SUBSCRIBERS.find((s) => s.user === user)!.password;

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

export interface StackContext {
  readonly stack: Stack;
  /** A fresh client port for each SIPp run of the file (its media and control ports are +1000/+2000). */
  nextPort(): number;
  sipp(opts: { name: string; client: Client; entry: Entry; scenario: string; args: readonly string[] }): Promise<SippResult>;
  startSipp(opts: { name: string; client: Client; entry: Entry; scenario: string; args: readonly string[] }): RunningSipp;
  /** SIP messages on a captured wire, in order. */
  wire(port: CapturePort): WireMessage[];
}

/** Brings the stack up for this test file and down after it; keeps artifacts of a failure. */
export function useStack(label: string): StackContext {
  let stack: Stack | undefined;
  let failed = false;
  let port = 5100;
  const sippDir = (): string => join(stack!.dir, 'sipp', label);

  beforeAll(async () => {
    // up() says why when this machine cannot run it (root, netns): the
    // end-to-end tests fail then, they are never skipped.
    stack = await up({ teardownOnExit: true });
  }, 60_000);
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(() => {
    // Down first (the daemons' logs are complete then; down keeps them).
    const report = down({ keepLogs: true });
    if (failed || stack === undefined) keep(label, stackDir());
    if (report.killed.length > 0) process.stderr.write(`e2e: had to SIGKILL ${report.killed.join(', ')}\n`);
  }, 30_000);

  const spec = (opts: { name: string; client: Client; entry: Entry; scenario: string; args: readonly string[] }) => ({
    name: opts.name,
    ns: opts.client.ns,
    scenario: opts.scenario,
    remote: `${opts.entry.address}:${opts.entry.port}`,
    localIp: opts.client.ip,
    localPort: port++,
    transport: opts.entry.transport,
    args: ['-key', 'domain', SIP_DOMAIN, ...opts.args],
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
    wire: (p) => readSip(capturePath(stack!.paths, p)),
  };
}

function keep(label: string, dir: string): void {
  if (!existsSync(dir)) return;
  const target = join(ARTIFACTS_DIR, `e2e-${label}`);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const sub of ['logs', 'capture', 'sipp', 'conf']) {
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
