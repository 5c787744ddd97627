/**
 * Daemons of the stack: started inside a namespace with `ip netns exec`
 * (which execs the command, so the PID we get is the daemon's own), detached
 * into their own process group so they outlive `npm run stack`, output in a
 * log file. Each one is recorded (PID + start time) before anything waits on
 * it; stopping is by that PID only, after checking it is still the same
 * process.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { PROJECT_DIR } from '../scripts/lib/env.ts';
import { isAlive, processStartTime, type ProcessRecord } from './state.ts';

export interface StartSpec {
  name: string;
  ns: string;
  command: string;
  args: readonly string[];
  log: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const BASE_ENV = { PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

export function startProcess(spec: StartSpec): ProcessRecord {
  const fd = openSync(spec.log, 'a');
  const child = spawn('ip', ['netns', 'exec', spec.ns, spec.command, ...spec.args], {
    cwd: spec.cwd ?? PROJECT_DIR,
    env: { ...BASE_ENV, ...spec.env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${spec.command} in ${spec.ns}`);
  // Reap it if it dies while we are still running, but never wait for it.
  child.on('error', () => undefined);
  child.unref();
  return {
    name: spec.name,
    ns: spec.ns,
    pid: child.pid,
    startTime: processStartTime(child.pid) ?? '?',
    command: [spec.command, ...spec.args].join(' '),
    log: spec.log,
  };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Sends a signal to a PID (negative: its process group); a process already gone is not an error. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * SIGTERM to each still-alive process, wait up to `timeoutMs` for all, then
 * SIGKILL to the process group of those left (Kamailio's and HAProxy's
 * workers). Synchronous, so it also works from an exit handler.
 */
export function stopProcesses(records: readonly Pick<ProcessRecord, 'pid' | 'startTime' | 'name'>[], timeoutMs = 5000): string[] {
  const alive = records.filter(isAlive);
  for (const p of alive) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive.some(isAlive) && Date.now() < deadline) sleepSync(20);
  const killed: string[] = [];
  for (const p of alive.filter(isAlive)) {
    killed.push(`${p.name} (pid ${p.pid})`);
    signal(-p.pid, 'SIGKILL');
    signal(p.pid, 'SIGKILL');
  }
  return killed;
}
