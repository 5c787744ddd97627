/**
 * Kamailio's life on a running stack, for the fault and soak tests: stop it
 * (SIGTERM as an operator's service manager would, or SIGKILL as a crash),
 * start it again exactly as the stack does (services.ts startKamailio, the
 * CONTRACT command line), and read what it holds: memory (kamcmd over the
 * ctl socket) and the location table it wrote to the database.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sqlitePath } from '../scripts/lib/db.ts';
import { namespacePids } from './net.ts';
import { startKamailio } from './services.ts';
import type { Stack } from './stack.ts';
import { isAlive, readState, writeState, type ProcessRecord } from './state.ts';
import { NS } from './topology.ts';

function kamailioRecord(stack: Stack): ProcessRecord {
  const record = readState(stack.dir)?.processes.find((p) => p.name === 'kamailio');
  if (record === undefined) throw new Error(`no Kamailio recorded in ${stack.dir}/state.json`);
  return record;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kamailio processes still in the vm (the main one's workers outlive it for a moment). */
function kamailioPidsInVm(): number[] {
  return namespacePids(NS.vm).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'kamailio';
    } catch {
      return false;
    }
  });
}

/**
 * Stops the stack's Kamailio and waits until no Kamailio process is left in
 * the vm. SIGTERM: the main process stops its workers and modules clean up
 * (usrloc db_mode 2 writes its cache to the database). SIGKILL: to the whole
 * process group at once, as a crash or an OOM kill would, nothing written.
 */
export async function stopKamailio(stack: Stack, signal: 'SIGTERM' | 'SIGKILL', timeoutMs = 15_000): Promise<number> {
  const record = kamailioRecord(stack);
  if (!isAlive(record)) throw new Error(`Kamailio (pid ${record.pid}) is not running`);
  const t0 = Date.now();
  // The stack starts it detached: its PID is its process group.
  process.kill(signal === 'SIGKILL' ? -record.pid : record.pid, signal);
  while (isAlive(record) || kamailioPidsInVm().length > 0) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`Kamailio still running ${timeoutMs} ms after ${signal}: pids ${kamailioPidsInVm().join(' ')}`);
    await sleep(20);
  }
  return Date.now() - t0;
}

/** Starts Kamailio as the stack does, records it in the state file (so `down` stops it), and waits for its RPC. */
export async function startKamailioAgain(stack: Stack, timeoutMs = 15_000): Promise<number> {
  const t0 = Date.now();
  const record = startKamailio(stack.paths, stack.deployment);
  const state = readState(stack.dir);
  if (state === undefined) throw new Error(`no state file in ${stack.dir}`);
  state.processes = [...state.processes.filter((p) => p.name !== 'kamailio'), record];
  writeState(state);
  for (;;) {
    if (!isAlive(record)) throw new Error(`Kamailio exited at start:\n${readFileSync(record.log, 'utf8').split('\n').slice(-20).join('\n')}`);
    try {
      await stack.rpc('core.version');
      return Date.now() - t0;
    } catch {
      if (Date.now() - t0 > timeoutMs) throw new Error(`Kamailio's RPC did not answer within ${timeoutMs} ms of its start`);
      await sleep(20);
    }
  }
}

export interface LocationRow {
  username: string;
  contact: string;
  received: string;
  expires: string;
  socket: string;
}

/** The location table as Kamailio last wrote it (usrloc db_mode 2: every timer_interval and at shutdown). */
export function locationRows(stack: Stack): LocationRow[] {
  const out = execFileSync('sqlite3', ['-separator', '\t', sqlitePath(stack.deployment.DB_URL), 'SELECT username, contact, received, expires, socket FROM location ORDER BY username, contact'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [username = '', contact = '', received = '', expires = '', socket = ''] = line.split('\t');
      return { username, contact, received, expires, socket };
    });
}

export interface Memory {
  /** Shared memory in use (core.shmmem real_used: allocations plus the allocator's overhead). */
  shmUsed: number;
  shmFree: number;
  /** Private memory in use, summed over every process (pkg.stats real_used). */
  pkgUsed: number;
  processes: number;
}

/** `{ key: value }` blocks of kamcmd output as objects. */
export function parseRpcBlocks(out: string): Array<Record<string, string>> {
  return [...out.matchAll(/\{([^{}]*)\}/g)].map((m) =>
    Object.fromEntries(
      m[1]!
        .split('\n')
        .map((l) => /^\s*([\w.-]+):\s*(.*?)\s*$/.exec(l))
        .filter((x): x is RegExpExecArray => x !== null)
        .map((x) => [x[1]!, x[2]!]),
    ),
  );
}

export async function memory(stack: Stack): Promise<Memory> {
  const [shm] = parseRpcBlocks(await stack.rpc('core.shmmem'));
  const pkg = parseRpcBlocks(await stack.rpc('pkg.stats'));
  if (shm === undefined || pkg.length === 0) throw new Error('kamcmd core.shmmem / pkg.stats answered nothing usable');
  return {
    shmUsed: Number(shm['real_used']),
    shmFree: Number(shm['free']),
    pkgUsed: pkg.reduce((sum, p) => sum + Number(p['real_used']), 0),
    processes: pkg.length,
  };
}

/** Contacts Kamailio holds in memory now (usrloc's location_contacts statistic). */
export async function registeredContacts(stack: Stack): Promise<number> {
  const out = await stack.rpc('stats.get_statistics', 'all');
  const m = /location_contacts\s*=\s*(\d+)/.exec(out);
  if (!m) throw new Error(`usrloc:location_contacts not in: ${out}`);
  return Number(m[1]);
}
