/**
 * Load steps against one running Kamailio: REGISTER with digest, and calls in
 * both directions through rtpengine, each step bounded (SIPp -m calls at -r
 * rate, -timeout, a kill after it) and measured: SIPp's counters, the CPU of
 * Kamailio (all its processes), SIPp and rtpengine, and how busy each core was.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateMediaRange, allocatePorts, releasePorts } from '../../test/support/ports.ts';
import { coreBusy, coreTimes, cpuDelta, processCpu, treeCpu } from './proc.ts';
import { startSipp, type SippProcess, type SippResult } from './sipp.ts';
import { CALLEE_IP, LOCAL_IP, MEDIA_SERVER_IP, PUBLIC_IP, registerContacts, type Kamailio, type Rtpengine, type User } from './stack.ts';

export interface Cpus {
  kamailio: number;
  generator: number;
}

/**
 * What stopped a load step: Kamailio's processes using their whole core, the
 * load generator (SIPp + rtpengine) using its whole core or lagging behind the
 * asked rate, another process on the machine taking a core, or none of these
 * (workers waiting on rtpengine or the database).
 */
export type Limit = 'kamailio' | 'generator' | 'contention' | 'neither';

export interface StepResult {
  scenario: 'register' | 'calls';
  /** Asked rate: REGISTER transactions/s, or calls/s over both directions. */
  rate: number;
  calls: number;
  pass: boolean;
  successful: number;
  failed: number;
  retransmissions: number;
  timeouts: number;
  /** Calls/s SIPp achieved (sum over its UACs). */
  achievedRate: number;
  wallS: number;
  cpu: { kamailio: number; sipp: number; rtpengine: number };
  /** Busy fraction of Kamailio's core and of the load generator's core (whole step). */
  busy: { kamailio: number; generator: number };
  /**
   * Peaks over 250 ms samples: the share of a core Kamailio's processes used,
   * the share SIPp + rtpengine used, and how busy each core was (anything).
   */
  peak: { kamailioOwn: number; generatorOwn: number; kamailioCore: number; generatorCore: number };
  /** What saturated when the step failed (see limitOf). */
  limit: Limit;
  /** Call-IDs' SIPp PIDs, to attribute route times. */
  sippPids: Record<string, number>;
  /** Kamailio ERROR/CRITICAL lines logged during the step, and the most frequent one (what failed). */
  kamailioErrors: { count: number; top: string };
}

/** A step passes with every call completed and none failed, at the asked rate. */
// SIPp's cumulative call rate counts the tail of the last calls too (a 3 s
// step at 200 calls/s reports about 192), so 0.9 of the asked rate means the
// generator kept up.
export const ACHIEVED_MIN = 0.9;

/** Which side was the limit of a step (see Limit). */
export function limitOf(s: Pick<StepResult, 'rate' | 'achievedRate' | 'peak' | 'failed'>): Limit {
  if (s.peak.kamailioOwn >= 0.85) return 'kamailio';
  if (s.peak.generatorOwn >= 0.85) return 'generator';
  // Failed calls wait for their timeout, which lowers SIPp's cumulative rate:
  // only a step without failures says SIPp could not keep up.
  if (s.failed === 0 && s.achievedRate < ACHIEVED_MIN * s.rate) return 'generator';
  if (s.peak.kamailioCore >= 0.9 || s.peak.generatorCore >= 0.9) return 'contention';
  return 'neither';
}

export interface LoadTarget {
  kam: Kamailio;
  rtp: Rtpengine;
  cpus: Cpus;
  registerUsers: readonly User[];
  callers: readonly User[];
  callees: readonly User[];
}

/** The answering SIPps (media server, registered callee) and the files every step uses. */
export class LoadSession {
  private readonly dir: string;
  private answerers: SippProcess[] = [];
  private ports: number[] = [];
  private mediaBlock: { min: number; max: number } | null = null;
  private stepNo = 0;

  private constructor(private readonly t: LoadTarget) {
    this.dir = mkdtempSync(join(tmpdir(), `ksr-bench-sipp-${t.kam.engine}-`));
  }

  static async open(t: LoadTarget): Promise<LoadSession> {
    const s = new LoadSession(t);
    await s.init();
    return s;
  }

  private async init(): Promise<void> {
    const { kam } = this.t;
    // Two control ports per step's UACs are taken per step; the answerers keep theirs.
    this.ports = await allocatePorts(2);
    this.mediaBlock = await allocateMediaRange(20);
    const [cpMs, cpCallee] = this.ports as [number, number];
    await registerContacts(kam, this.t.callees, `${CALLEE_IP}:${kam.ports.callee}`);
    const common = { cpu: this.t.cpus.generator, dir: this.dir, timeoutS: 3600, transport: 'u1' as const, autoAnswer: true, remote: null };
    this.answerers = [
      startSipp({ ...common, name: 'media-server', scenario: 'answer.xml', localIp: MEDIA_SERVER_IP, localPort: kam.ports.mediaServer, controlPort: cpMs, mediaPort: this.mediaBlock.min }),
      startSipp({ ...common, name: 'callee', scenario: 'answer.xml', localIp: CALLEE_IP, localPort: kam.ports.callee, controlPort: cpCallee, mediaPort: this.mediaBlock.min + 4 }),
    ];
    // The dispatcher probes the media server every 10 s; SIPp must be listening before calls.
    await new Promise((r) => setTimeout(r, 300));
  }

  /** Injection file for this step, rotated so consecutive steps start on other source addresses (pike counts per address). */
  private injection(name: string, users: readonly User[], line: (u: User) => string): string {
    const offset = (this.stepNo * 997) % users.length;
    const rotated = [...users.slice(offset), ...users.slice(0, offset)];
    const file = join(this.dir, `${name}.csv`);
    writeFileSync(file, 'SEQUENTIAL\n' + rotated.map(line).join('\n') + '\n');
    return file;
  }

  async register(rate: number, durationS: number): Promise<StepResult> {
    const calls = Math.max(1, Math.round(rate * durationS));
    return this.step('register', rate, calls, durationS, async (ports, media) => {
      const file = this.injection('register', this.t.registerUsers, (u) => `${u.ip};${u.user};${u.password}`);
      return [
        startSipp({
          name: `register-${this.stepNo}`, scenario: 'register.xml', remote: `${LOCAL_IP}:${this.t.kam.ports.sip}`,
          localIp: LOCAL_IP, localPort: ports[0]!, controlPort: ports[1]!, mediaPort: media, cpu: this.t.cpus.generator,
          dir: this.dir, transport: 'ui', injectionFile: file, keys: { domain: `${PUBLIC_IP}:${this.t.kam.ports.sip}` },
          calls, rate, timeoutS: Math.ceil(durationS) + 8, recvTimeoutMs: 2000,
        }),
      ];
    });
  }

  /** `rate` calls/s in total: half from clients to the media server, half from the media server to a registered client. */
  async calls(rate: number, durationS: number, pauseMs = 100): Promise<StepResult> {
    const half = rate / 2;
    const perSide = Math.max(1, Math.round(half * durationS));
    return this.step('calls', rate, perSide * 2, durationS, async (ports, media) => {
      const callers = this.injection('callers', this.t.callers, (u) => `${u.ip};${u.user};${u.password}`);
      const callees = this.injection('callees', this.t.callees, (u) => u.user);
      const common = {
        cpu: this.t.cpus.generator, dir: this.dir, calls: perSide, rate: half, pauseMs,
        keys: { domain: `${PUBLIC_IP}:${this.t.kam.ports.sip}` }, timeoutS: Math.ceil(durationS) + 10, recvTimeoutMs: 2000,
      };
      return [
        startSipp({
          ...common, name: `client-${this.stepNo}`, scenario: 'call-client.xml', remote: `${LOCAL_IP}:${this.t.kam.ports.sip}`,
          localIp: LOCAL_IP, localPort: ports[0]!, controlPort: ports[1]!, mediaPort: media, transport: 'ui', injectionFile: callers,
        }),
        startSipp({
          ...common, name: `media-server-${this.stepNo}`, scenario: 'call-media-server.xml', remote: `${LOCAL_IP}:${this.t.kam.ports.private}`,
          localIp: MEDIA_SERVER_IP, localPort: ports[2]!, controlPort: ports[3]!, mediaPort: media + 4, transport: 'u1', injectionFile: callees,
        }),
      ];
    });
  }

  private async step(
    scenario: 'register' | 'calls',
    rate: number,
    calls: number,
    durationS: number,
    start: (ports: number[], mediaPort: number) => Promise<SippProcess[]>,
  ): Promise<StepResult> {
    this.stepNo++;
    const { kam, rtp } = this.t;
    const ports = await allocatePorts(4);
    const logStart = statSync(kam.logFile).size;
    const k0 = treeCpu(kam.daemon.pid);
    const r0 = processCpu(rtp.daemon.pid);
    const a0 = this.answerers.map((a) => a.cpu());
    const c0 = coreTimes();
    const t0 = performance.now();
    let results: SippResult[];
    const peak = { kamailioOwn: 0, generatorOwn: 0, kamailioCore: 0, generatorCore: 0 };
    let sampler: NodeJS.Timeout | undefined;
    try {
      const uacs = await start(ports, this.mediaBlock!.min + 8);
      // Every 250 ms: who used how much of each core.
      let last = { t: performance.now(), kam: k0, gen: r0 + a0.reduce((x, y) => x + y, 0) + uacs.reduce((x, u) => x + u.cpu(), 0), cores: c0 };
      sampler = setInterval(() => {
        const now = { t: performance.now(), kam: treeCpu(kam.daemon.pid), gen: processCpu(rtp.daemon.pid) + this.answerers.reduce((x, a) => x + a.cpu(), 0) + uacs.reduce((x, u) => x + u.cpu(), 0), cores: coreTimes() };
        const dt = (now.t - last.t) / 1000;
        const busy = coreBusy(last.cores, now.cores);
        peak.kamailioOwn = Math.max(peak.kamailioOwn, cpuDelta(last.kam, now.kam) / dt);
        peak.generatorOwn = Math.max(peak.generatorOwn, (now.gen - last.gen) / dt);
        peak.kamailioCore = Math.max(peak.kamailioCore, busy[this.t.cpus.kamailio] ?? 0);
        peak.generatorCore = Math.max(peak.generatorCore, busy[this.t.cpus.generator] ?? 0);
        last = now;
      }, 250);
      results = await Promise.all(uacs.map((u) => u.done));
    } finally {
      if (sampler) clearInterval(sampler);
      releasePorts(ports);
    }
    const wallS = (performance.now() - t0) / 1000;
    const busyAll = coreBusy(c0, coreTimes());
    const kamCpu = cpuDelta(k0, treeCpu(kam.daemon.pid));
    const rtpCpu = processCpu(rtp.daemon.pid) - r0;
    const answerCpu = this.answerers.reduce((sum, a, i) => sum + (a.cpu() - a0[i]!), 0);
    const sippCpu = results.reduce((sum, r) => sum + r.cpuS, 0) + answerCpu;
    const sum = (f: (r: SippResult) => number): number => results.reduce((s, r) => s + f(r), 0);
    const successful = sum((r) => r.successful);
    const failed = sum((r) => r.failed);
    const achievedRate = sum((r) => r.achievedRate);
    const busy = { kamailio: busyAll[this.t.cpus.kamailio] ?? 0, generator: busyAll[this.t.cpus.generator] ?? 0 };
    const base = {
      scenario, rate, calls, successful, failed,
      retransmissions: sum((r) => r.retransmissions),
      timeouts: sum((r) => r.timeouts),
      achievedRate,
      wallS,
      cpu: { kamailio: kamCpu, sipp: sippCpu, rtpengine: rtpCpu },
      busy,
      peak,
      sippPids: Object.fromEntries(results.map((r) => [r.name.replace(/-\d+$/, ''), r.pid])),
    };
    const kamailioErrors = errorsSince(kam.logFile, logStart);
    const pass = failed === 0 && successful === calls && results.every((r) => r.rc === 0) && achievedRate >= ACHIEVED_MIN * rate;
    // Let the transactions of this step end (tm wait timer 5 s is memory only; retransmissions stop within ~1 s).
    await new Promise((r) => setTimeout(r, pass ? 300 : 1500));
    return { ...base, kamailioErrors, pass, limit: pass ? 'neither' : limitOf(base) };
  }

  async close(): Promise<void> {
    await Promise.all(this.answerers.map((a) => a.stop()));
    releasePorts(this.ports);
    if (this.mediaBlock) releasePorts([this.mediaBlock.min]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** ERROR/CRITICAL lines Kamailio logged after `offset`, and the most frequent (without prefix and ids). */
function errorsSince(file: string, offset: number): { count: number; top: string } {
  const size = statSync(file).size;
  if (size <= offset) return { count: 0, top: '' };
  const buf = Buffer.alloc(Math.min(size - offset, 8 << 20));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  const counts = new Map<string, number>();
  let count = 0;
  for (const line of buf.toString('latin1').split('\n')) {
    const m = /(ERROR|CRITICAL): (?:\{[^}]*\} )?(.*)$/.exec(line);
    if (!m) continue;
    count++;
    const key = m[2]!.replace(/\d+/g, 'N').slice(0, 120);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  return { count, top };
}
