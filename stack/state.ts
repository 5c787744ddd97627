/**
 * What a bring-up created, written down as it goes (atomically, after every
 * step), so `down` removes exactly that, even after a crash half-way.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_DIR } from '../scripts/lib/env.ts';

/** Rendered configs, logs, captures, Kamailio's RUN_DIR, the database: `$STACK_DIR`, default `.stack/`. */
export function stackDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['STACK_DIR'];
  return dir === undefined || dir === '' ? join(PROJECT_DIR, '.stack') : resolve(PROJECT_DIR, dir);
}

export interface ProcessRecord {
  /** e.g. `kamailio`, `uas-ms1`, `capture-vm`. */
  name: string;
  ns: string;
  pid: number;
  /** /proc/<pid>/stat field 22: tells our process from a later one that got the same PID. */
  startTime: string;
  command: string;
  log: string;
}

export interface StackState {
  dir: string;
  startedAt: string;
  namespaces: string[];
  processes: ProcessRecord[];
  /** Set once every daemon answered. */
  readyAt?: string;
}

export const stateFile = (dir: string): string => join(dir, 'state.json');

export function readState(dir: string): StackState | undefined {
  const file = stateFile(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

export function writeState(state: StackState): void {
  mkdirSync(state.dir, { recursive: true });
  const file = stateFile(state.dir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** /proc/<pid>/stat start time, or undefined when the PID is gone (or a zombie). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True while the recorded process (same PID and start time) is alive. */
export function isAlive(p: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  return processStartTime(p.pid) === p.startTime;
}
