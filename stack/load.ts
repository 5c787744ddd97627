/**
 * Bounded call load on the stack, for the fault and soak tests: SIPp UACs on
 * the public client c1 calling the media servers (uac-call-bye.xml, through
 * rtpengine), and each call's outcome read back from their message traces.
 *
 * Why several source addresses: the routing's pike check bans a public
 * source sending more than 16 requests in 2 s (kamailio.cfg), and a call
 * from a client costs 5 requests (INVITE, ACK of the 407, INVITE with
 * credentials, ACK, BYE). So each source calls at most 1 call/s (10 requests
 * per 2-s unit), and a load of N calls/s comes from N addresses added to c1's
 * interface (198.51.100.111 and up; they go with the namespace at `down`).
 */
import { join } from 'node:path';
import { nsRun } from './net.ts';
import { startSipp, type RunningSipp, type SippResult, type TracedMessage } from './sipp.ts';
import { ADDR, NS, PORT, SIP_DOMAIN, SUBSCRIBERS } from './topology.ts';

/** Requests per call from the client (see above) and pike's bound, for the per-source rate. */
export const MAX_CALLS_PER_SOURCE_PER_S = 1;
const FIRST_LOAD_HOST = 111;

/** `count` public addresses for load sources on c1 (added once; idempotent). */
export function loadSources(count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 40) throw new Error(`load sources: ${count} is not between 1 and 40`);
  const have = nsRun(NS.c1, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  const addresses = Array.from({ length: count }, (_, i) => `198.51.100.${FIRST_LOAD_HOST + i}`);
  for (const a of addresses) {
    if (!have.includes(` ${a}/`)) nsRun(NS.c1, 'ip', ['addr', 'add', `${a}/24`, 'dev', 'eth0']);
  }
  return addresses;
}

export interface CallLoadSpec {
  /** Calls per second in all (one source address per call/s). */
  rate: number;
  /** Calls in all (spread evenly over the sources). */
  calls: number;
  /** How long each call holds before the client hangs up. */
  holdMs: number;
  /** Entry point the clients send to (UDP through the 1:1 NAT by default). */
  transport?: 'udp' | 'tcp';
  remote?: string;
  /** Subscriber the clients authenticate as. */
  user?: string;
  /** Where the SIPp traces go. */
  dir: string;
  /** A fresh local port per SIPp (its media and control ports are +1000/+2000). */
  nextPort: () => number;
  /** Tag in the run names. */
  name: string;
}

export interface CallLoad {
  sources: string[];
  runs: RunningSipp[];
  /** Every run's message trace so far, parsed. */
  messages(): TracedMessage[];
  stop(): void;
  done: Promise<SippResult[]>;
}

/** Starts the load: `rate` SIPp UACs, one per source address, each at 1 call/s. */
export function startCallLoad(spec: CallLoadSpec): CallLoad {
  if (!Number.isInteger(spec.rate) || spec.rate < 1) throw new Error(`call load: rate ${spec.rate} must be a whole number of calls/s`);
  if (!Number.isInteger(spec.calls) || spec.calls < spec.rate) throw new Error(`call load: ${spec.calls} calls for ${spec.rate} sources`);
  const user = spec.user ?? 'alice';
  const password = SUBSCRIBERS.find((s) => s.user === user)?.password;
  if (password === undefined) throw new Error(`call load: ${user} is no subscriber of the stack`);
  const sources = loadSources(spec.rate);
  const callsOf = (i: number): number => Math.floor(spec.calls / spec.rate) + (i < spec.calls % spec.rate ? 1 : 0);
  const perSource = callsOf(0);
  // Every call placed, plus its hold, plus a failover (fr_timer 5 s) and a
  // BYE that times out (another 5 s), plus slack for a loaded machine.
  const timeoutS = Math.ceil(perSource / MAX_CALLS_PER_SOURCE_PER_S + spec.holdMs / 1000 + 30);
  const runs = sources.map((ip, i) =>
    startSipp({
      name: `${spec.name}-${i + 1}`,
      ns: NS.c1,
      scenario: 'uac-call-bye',
      remote: spec.remote ?? `${ADDR.PUBLIC_IP}:${PORT.SIP}`,
      localIp: ip,
      localPort: spec.nextPort(),
      transport: spec.transport ?? 'udp',
      // Later -m/-timeout override startSipp's one-call defaults.
      args: ['-key', 'domain', SIP_DOMAIN, '-s', '9196', '-key', 'user', user, '-au', user, '-ap', password, '-m', String(callsOf(i)), '-r', String(MAX_CALLS_PER_SOURCE_PER_S), '-d', String(spec.holdMs), '-timeout', `${timeoutS}s`],
      dir: spec.dir,
      timeoutS,
    }),
  );
  return {
    sources,
    runs,
    messages: () => runs.flatMap((r) => r.messages()),
    stop: () => runs.forEach((r) => r.stop()),
    done: Promise.all(runs.map((r) => r.done)),
  };
}

export interface CallOutcome {
  callId: string;
  /** When the client sent its first INVITE (epoch ms). */
  startedAt: number;
  /** The BYE got its 200: the whole call worked. */
  ok: boolean;
  /** What went wrong, for a failed call: the first error response it got (else the last message it saw). */
  last: string;
}

/** SIPp's trace time (local time, `YYYY-MM-DD HH:MM:SS.micro`) as epoch ms. */
export function traceTime(time: string): number {
  const ms = new Date(time.replace(' ', 'T').replace(/(\.\d{3})\d*$/, '$1')).getTime();
  if (Number.isNaN(ms)) throw new Error(`not a SIPp trace time: ${time}`);
  return ms;
}

/** Each call of a client trace, by Call-ID: when it started and whether it ended with 200 to the BYE. */
export function callOutcomes(messages: readonly TracedMessage[]): CallOutcome[] {
  const calls = new Map<string, CallOutcome>();
  for (const t of messages) {
    const callId = t.message.header('call-id');
    if (callId === undefined) continue;
    let call = calls.get(callId);
    if (call === undefined) {
      call = { callId, startedAt: traceTime(t.time), ok: false, last: '' };
      calls.set(callId, call);
    }
    const status = t.message.status;
    const isError = t.direction === 'received' && status !== undefined && status >= 300 && status !== 401 && status !== 407;
    // SIPp ends a failed call with a BYE of its own (no route set, 404): the first error says what happened.
    if (!call.last.startsWith('error')) {
      call.last = `${isError ? 'error ' : ''}${t.direction === 'sent' ? '>' : '<'} ${t.message.method ?? `${status} (${t.message.header('cseq')})`}`;
    }
    if (t.direction === 'received' && t.message.status === 200 && /\bBYE$/.test(t.message.header('cseq') ?? '')) call.ok = true;
  }
  return [...calls.values()].sort((a, b) => a.startedAt - b.startedAt);
}

export interface LoadSummary {
  placed: number;
  failed: number;
  failures: CallOutcome[];
}

export function summarize(outcomes: readonly CallOutcome[]): LoadSummary {
  const failures = outcomes.filter((c) => !c.ok);
  return { placed: outcomes.length, failed: failures.length, failures };
}

/** Where a load run's traces go, below a stack's directory. */
export const loadDir = (stackDir: string, label: string): string => join(stackDir, 'sipp', label);
