/**
 * Which build every SIP worker runs: the processes Kamailio lists
 * (core.psx), probed until each UDP and TCP worker has answered with the
 * expected build id, or until the time bound. Other processes (timers, ctl,
 * main) receive no SIP and cannot be probed; app_jsdt makes each of them
 * re-read the bundle before its next routing callback (a tm failure route on
 * timeout, for instance), so they are listed as such.
 */
import { performance } from 'node:perf_hooks';
import { splitHostPort, type KamailioProcess, type KamailioRpc } from './kamailio-rpc.ts';
import { probeTcp, probeUdp, type StrayAnswer, type WorkerAnswer } from './probe.ts';

export interface WorkerState {
  readonly process: KamailioProcess;
  /** The build id it answered with last; undefined when it never answered. */
  readonly buildId: string | undefined;
  /** The reason phrase of that answer. */
  readonly reason: string | undefined;
  /** Milliseconds after the start of the confirmation when it first answered with the expected id. */
  readonly confirmedAfterMs: number | undefined;
}

export interface Confirmation {
  /** Undefined for a status query (no build expected). */
  readonly expected: string | undefined;
  readonly workers: readonly WorkerState[];
  /** Processes that route only timer events (not probeable). */
  readonly others: readonly KamailioProcess[];
  /** Replies that named no worker or were not 200 (an older bundle, a refused probe). */
  readonly strays: readonly StrayAnswer[];
  readonly elapsedMs: number;
  /** Every worker answered (with the expected id, when one is expected). */
  readonly ok: boolean;
}

export interface ConfirmOptions {
  /** The build every worker must report; undefined: just ask each once. */
  readonly expected?: string;
  readonly timeoutMs: number;
  /** R-URI user of the probes (tests ask the routing other questions); default none: a keepalive. */
  readonly user?: string;
}

const MAX_TCP_CONNECTIONS = 32;

export async function confirmWorkers(rpc: KamailioRpc, options: ConfirmOptions): Promise<Confirmation> {
  const started = performance.now();
  const processes = await rpc.processes();
  const receivers = processes.filter((p) => p.role.kind !== 'other');
  const others = processes.filter((p) => p.role.kind === 'other');
  const udpSockets = new Map<string, number>();
  let tcpWorkers = 0;
  for (const p of receivers) {
    if (p.role.kind === 'udp') udpSockets.set(p.role.socket, (udpSockets.get(p.role.socket) ?? 0) + 1);
    else if (p.role.kind === 'tcp') tcpWorkers++;
  }
  const tcpTarget = tcpWorkers > 0 ? (await rpc.sockets()).find((s) => s.proto === 'tcp') : undefined;

  const last = new Map<number, WorkerAnswer>();
  const confirmedAt = new Map<number, number>();
  /** Rounds in which a worker answered with another build than expected. */
  const wrongRounds = new Map<number, number>();
  const strays: StrayAnswer[] = [];
  const done = (p: KamailioProcess): boolean => {
    const answer = last.get(p.pid);
    return answer !== undefined && (options.expected === undefined || answer.buildId === options.expected);
  };
  // A worker that answers with another build after app_jsdt.reload has already
  // re-read the file and failed to load it (app_jsdt then keeps the old code
  // and does not retry): asking it again changes nothing. Twice is enough.
  const settled = (p: KamailioProcess): boolean => done(p) || (wrongRounds.get(p.pid) ?? 0) >= 2;
  const pendingOn = (kind: 'udp' | 'tcp', socket?: string): KamailioProcess[] =>
    receivers.filter(
      (p) => p.role.kind === kind && (socket === undefined || (p.role.kind === 'udp' && p.role.socket === socket)) && !settled(p),
    );

  const probe = options.user === undefined ? {} : { user: options.user };
  const deadline = started + options.timeoutMs;
  while (receivers.some((p) => !settled(p)) && performance.now() < deadline) {
    const rounds: Promise<{ answers: WorkerAnswer[]; strays: StrayAnswer[] }>[] = [];
    for (const [socket, workers] of udpSockets) {
      if (pendingOn('udp', socket).length === 0) continue;
      const { host, port } = splitHostPort(socket);
      rounds.push(probeUdp(host, port, Math.max(8, workers * 4), probe));
    }
    if (tcpTarget && pendingOn('tcp').length > 0) {
      rounds.push(probeTcp(tcpTarget.address, tcpTarget.port, Math.min(MAX_TCP_CONNECTIONS, tcpWorkers * 2), probe));
    }
    for (const round of await Promise.all(rounds)) {
      const now = performance.now() - started;
      const wrong = new Set<number>();
      for (const answer of round.answers) {
        last.set(answer.pid, answer);
        if (answer.buildId === options.expected && !confirmedAt.has(answer.pid)) confirmedAt.set(answer.pid, now);
        if (options.expected !== undefined && answer.buildId !== options.expected) wrong.add(answer.pid);
      }
      for (const pid of wrong) wrongRounds.set(pid, (wrongRounds.get(pid) ?? 0) + 1);
      strays.push(...round.strays);
    }
    if (rounds.length === 0) break;
  }

  const workers = receivers.map((process) => ({
    process,
    buildId: last.get(process.pid)?.buildId,
    reason: last.get(process.pid)?.reason,
    confirmedAfterMs: confirmedAt.get(process.pid),
  }));
  return {
    expected: options.expected,
    workers,
    others,
    strays: strays.slice(0, 20),
    elapsedMs: performance.now() - started,
    ok: receivers.length > 0 && receivers.every(done),
  };
}

/** The per-worker table and a verdict, as the CLI prints them. */
export function formatConfirmation(confirmation: Confirmation, previous?: string): string[] {
  const role = (p: KamailioProcess): string =>
    p.role.kind === 'udp'
      ? `udp receiver child=${p.role.child} ${p.role.socket}`
      : p.role.kind === 'tcp'
        ? `tcp receiver child=${p.role.child}`
        : p.description;
  const width = Math.max(4, ...confirmation.workers.map((w) => role(w.process).length));
  const lines = [`  ${'pid'.padEnd(8)}${'worker'.padEnd(width + 2)}build`];
  for (const worker of confirmation.workers) {
    const mark =
      worker.buildId === undefined
        ? '✗ no answer'
        : confirmation.expected === undefined
          ? ''
          : worker.buildId === confirmation.expected
            ? `✓ ${Math.round(worker.confirmedAfterMs ?? 0)} ms`
            : worker.buildId === previous
              ? '✗ still the old build'
              : '✗ another build';
    lines.push(`  ${String(worker.process.pid).padEnd(8)}${role(worker.process).padEnd(width + 2)}${(worker.buildId ?? '-').padEnd(14)}${mark}`);
  }
  if (confirmation.others.length > 0) {
    lines.push(
      `  + ${confirmation.others.length} other processes (${summarize(confirmation.others.map((p) => p.description))}): ` +
        'they receive no SIP; app_jsdt makes each re-read the bundle before its next routing callback',
    );
  }
  const unnamed = confirmation.strays.filter((s) => s.status === 200);
  if (unnamed.length > 0) {
    lines.push(`  ! ${unnamed.length} keepalive answer(s) without X-Routing-Worker (build ${unnamed[0]!.buildId ?? 'unknown'}): that bundle cannot be confirmed per worker`);
  }
  const refused = confirmation.strays.filter((s) => s.status !== 200);
  if (refused.length > 0) {
    lines.push(`  ! probes answered ${[...new Set(refused.map((s) => `${s.status} on ${s.transport} ${s.socket}`))].join(', ')}`);
  }
  return lines;
}

function summarize(descriptions: readonly string[]): string {
  const shown = descriptions.slice(0, 4).join(', ');
  return descriptions.length > 4 ? `${shown}, ...` : shown;
}
