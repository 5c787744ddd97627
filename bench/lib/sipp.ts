/**
 * SIPp for the benchmark: the scenarios of bench/sipp/, started pinned to the
 * load generator's core, always bounded (-m calls, -timeout, a wall-clock
 * kill), stopped by PID, and read back from their final statistics screen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { processCpu } from './proc.ts';

export const SCENARIO_DIR = join(PROJECT_DIR, 'bench', 'sipp');

export interface SippOptions {
  name: string;
  scenario: string;
  /** host:port of the proxy (UAC) or null for a UAS. */
  remote: string | null;
  localIp: string;
  localPort: number;
  controlPort: number;
  mediaPort: number;
  cpu: number;
  dir: string;
  /** -t: u1 (one socket) or ui (one socket per IP of the injection file). */
  transport: 'u1' | 'ui';
  injectionFile?: string;
  keys?: Record<string, string>;
  /** UAC: calls (-m) at `rate` calls/s; UAS: undefined (runs until stopped). */
  calls?: number;
  rate?: number;
  /** Global time limit in seconds (-timeout); the process is killed 5 s later. */
  timeoutS: number;
  /** A call waiting longer than this for a message fails (-recv_timeout). */
  recvTimeoutMs?: number;
  /** <pause/> length (-d) in ms. */
  pauseMs?: number;
  /** -aa: answer OPTIONS/INFO/NOTIFY/UPDATE with 200 (the media server's dispatcher probes). */
  autoAnswer?: boolean;
}

export interface SippResult {
  name: string;
  pid: number;
  rc: number | null;
  successful: number;
  failed: number;
  created: number;
  /** Retransmissions of all messages (sent by SIPp). */
  retransmissions: number;
  timeouts: number;
  unexpected: number;
  /** Calls/s SIPp achieved (cumulative Call Rate). */
  achievedRate: number;
  elapsedS: number;
  /** CPU seconds SIPp used. */
  cpuS: number;
  screen: string;
}

export interface SippProcess {
  readonly name: string;
  readonly pid: number;
  readonly done: Promise<SippResult>;
  /** CPU seconds so far. */
  cpu(): number;
  /** Smooth stop (SIGUSR1), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<SippResult>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export function startSipp(o: SippOptions): SippProcess {
  const screenFile = join(o.dir, `${o.name}.screen.log`);
  const errorFile = join(o.dir, `${o.name}.errors.log`);
  const args = [
    '-c', String(o.cpu), 'sipp',
    ...(o.remote === null ? [] : [o.remote]),
    '-sf', join(SCENARIO_DIR, o.scenario),
    '-t', o.transport,
    '-i', o.localIp,
    '-p', String(o.localPort),
    '-cp', String(o.controlPort),
    '-mp', String(o.mediaPort),
    '-mi', o.localIp,
    '-bind_local',
    // ui opens one socket per injected address; keep under the fd limit.
    '-max_socket', '8000',
    '-timeout', `${o.timeoutS}s`,
    '-recv_timeout', String(o.recvTimeoutMs ?? 4000),
    '-d', String(o.pauseMs ?? 0),
    '-nostdin',
    '-trace_screen', '-screen_file', screenFile,
    '-trace_err', '-error_file', errorFile,
    ...(o.injectionFile === undefined ? [] : ['-inf', o.injectionFile]),
    ...(o.autoAnswer === true ? ['-aa'] : []),
    ...(o.calls === undefined ? [] : ['-m', String(o.calls)]),
    ...(o.rate === undefined ? [] : ['-r', String(o.rate), '-l', String(Math.max(100, Math.ceil(o.rate * 10)))]),
    ...Object.entries(o.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
  ];
  // taskset execs sipp: the PID is SIPp's own.
  const child = spawn('taskset', args, { cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const pid = child.pid!;
  let lastCpu = 0;
  const cpu = (): number => {
    const now = processCpu(pid);
    if (now > 0) lastCpu = now;
    return lastCpu;
  };
  const killer = setTimeout(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, (o.timeoutS + 5) * 1000);
  const done = new Promise<SippResult>((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      running.delete(child);
      const screen = existsSync(screenFile) ? readFileSync(screenFile, 'latin1') : '';
      resolve({ ...parseScreen(screen), name: o.name, pid, rc: code, cpuS: lastCpu, screen: screen === '' ? stderr : screen });
    });
  });
  // Sample CPU while it runs: /proc/<pid> is gone once it exited.
  const sampler = setInterval(cpu, 200);
  void done.then(() => clearInterval(sampler));
  return {
    name: o.name,
    pid,
    done,
    cpu,
    async stop(graceMs = 3000) {
      cpu();
      try {
        process.kill(pid, 'SIGUSR1');
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, graceMs);
      const result = await done;
      clearTimeout(t);
      return result;
    },
  };
}

/** The numbers of SIPp's final screen (-trace_screen). */
export function parseScreen(screen: string): Omit<SippResult, 'name' | 'pid' | 'rc' | 'cpuS' | 'screen'> {
  const cumulative = (label: string): number => {
    const m = new RegExp(`^\\s*${label}\\s*\\|[^|]*\\|\\s*([\\d.]+)`, 'm').exec(screen);
    return m ? Number(m[1]) : 0;
  };
  let retransmissions = 0;
  let timeouts = 0;
  let unexpected = 0;
  // Message table lines: "  INVITE ---------->  B-RTD1  3000  0  0" / "  200 <---------- E-RTD1 3000 0 0 0"
  for (const line of screen.split('\n')) {
    const m = /^\s*\S+\s+(?:---------->|<----------)\s+(?:[BE]-RTD\d\s+)?(\d+)\s+(\d+)\s+(\d+)(?:\s+(\d+))?/.exec(line);
    if (!m) continue;
    retransmissions += Number(m[2]);
    timeouts += Number(m[3]);
    unexpected += Number(m[4] ?? 0);
  }
  const elapsed = /^\s*Elapsed Time\s*\|[^|]*\|\s*(\d+):(\d+):(\d+):(\d+)/m.exec(screen);
  return {
    successful: cumulative('Successful call'),
    failed: cumulative('Failed call'),
    created: cumulative('Total Calls created'),
    retransmissions,
    timeouts,
    unexpected,
    achievedRate: cumulative('Call Rate'),
    elapsedS: elapsed ? Number(elapsed[1]) * 3600 + Number(elapsed[2]) * 60 + Number(elapsed[3]) + Number(elapsed[4]) / 1e6 : 0,
  };
}
