/**
 * Daemons started by tests: spawned with their output in a log file, stopped
 * by PID only (never by name), and never left behind, even when a test file
 * dies half-way (an exit hook kills whatever is still registered).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';

export const ARTIFACTS_DIR = resolve(PROJECT_DIR, '.test-artifacts');

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited (code, or the signal that ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  log(): string;
}

const running = new Map<number, ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [pid] of running) {
      try {
        // Own process group (spawned detached): takes Kamailio's children too.
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
}

export function spawnDaemon(opts: SpawnOptions): Daemon {
  installExitHook();
  const fd = openSync(opts.logFile, 'a');
  // detached: a process group of its own, so a last-resort SIGKILL can reach
  // the workers a daemon forked; the normal stop is SIGTERM to the PID.
  const child = spawn(opts.command, [...opts.args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${opts.command}`);
  const pid = child.pid;
  running.set(pid, child);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      done = true;
      running.delete(pid);
      resolveExit({ code, signal });
    });
    child.once('error', () => {
      done = true;
      running.delete(pid);
      resolveExit({ code: null, signal: null });
    });
  });
  return {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    exited,
    isRunning: () => !done,
    log: () => (existsSync(opts.logFile) ? readFileSync(opts.logFile, 'utf8') : ''),
  };
}

/** SIGTERM to the PID, wait up to `timeoutMs`, then SIGKILL to its process group. */
export async function stopDaemon(daemon: Daemon, timeoutMs = 10_000): Promise<void> {
  if (!daemon.isRunning()) return;
  try {
    process.kill(daemon.pid, 'SIGTERM');
  } catch {
    /* exited meanwhile */
  }
  const timedOut = await Promise.race([
    daemon.exited.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs).unref()),
  ]);
  if (timedOut) {
    try {
      process.kill(-daemon.pid, 'SIGKILL');
    } catch {
      /* exited meanwhile */
    }
    await daemon.exited;
  }
}

/** Polls `check` every `intervalMs` until it returns true; false after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Copies files into .test-artifacts/<label>/ (kept for a failed test); returns the directory. */
export function keepArtifacts(label: string, files: readonly string[]): string {
  const dir = join(ARTIFACTS_DIR, label.replace(/[^A-Za-z0-9._-]+/g, '_'));
  mkdirSync(dir, { recursive: true });
  for (const file of files) if (existsSync(file)) copyFileSync(file, join(dir, basename(file)));
  return dir;
}

/** The last `lines` lines of a log, for error messages. */
export function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
