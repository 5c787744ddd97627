/**
 * The stack's lifecycle (issue #4): `up` reports ready only with every daemon
 * answering, touches nothing in the root namespace but the namespace names,
 * and `down` removes every namespace and process it made: after a normal run,
 * after the state file is lost, and after the bring-up itself was killed
 * half-way (SIGKILL, so no exit handler ran).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { listStackNamespaces, nsRun, run } from '../../stack/net.ts';
import { down, status, up } from '../../stack/stack.ts';
import { isAlive, processStartTime, readState, stackDir, stateFile, type ProcessRecord } from '../../stack/state.ts';
import { NS } from '../../stack/topology.ts';

const ALL_NAMESPACES = Object.values(NS).sort();
const DAEMONS = ['capture-c1', 'capture-c2', 'capture-home-pub', 'capture-ms1', 'capture-ms2', 'capture-vm', 'haproxy', 'kamailio', 'rtpengine', 'uas-ms1', 'uas-ms2'];

/** What the root namespace has: links, addresses, routes, nftables rules (names of netns aside). */
function rootNamespace(): string {
  return [run('ip', ['-o', 'link', 'show']).replace(/\s+link-netns\s+\S+/g, ''), run('ip', ['-o', 'addr']), run('ip', ['route']), run('nft', ['list', 'ruleset'])]
    .join('\n')
    // Counters and interface statistics change by themselves.
    .replace(/\b(?:packets|bytes) \d+/g, '');
}

function expectNothingLeft(processes: readonly ProcessRecord[]): void {
  expect(listStackNamespaces()).toEqual([]);
  expect(processes.filter(isAlive).map((p) => p.name)).toEqual([]);
}

afterAll(() => {
  down({ keepLogs: true });
});

describe('stack lifecycle', { timeout: 60_000 }, () => {
  it('comes up with every daemon answering, leaves the root namespace alone, and goes down completely', async () => {
    const before = rootNamespace();
    const t0 = Date.now();
    const stack = await up();
    const upMs = Date.now() - t0;
    expect(upMs, 'bring-up takes seconds').toBeLessThan(15_000);

    const s = status();
    expect(s.namespaces.sort()).toEqual(ALL_NAMESPACES);
    expect(s.processes.map((p) => p.name).sort()).toEqual(DAEMONS);
    expect(s.processes.filter((p) => !p.alive).map((p) => p.name)).toEqual([]);
    expect(await stack.rpc('core.version')).toContain('kamailio 5.6');
    const dispatcher = await stack.rpc('dispatcher.list');
    for (const ms of ['10\\.0\\.0\\.21', '10\\.0\\.0\\.22']) expect(dispatcher, 'media server active').toMatch(new RegExp(`URI: sip:${ms}:5090\\s+FLAGS: A`));
    // The 1:1 NAT and the home NAT are rules of their own namespaces only.
    expect(nsRun(NS.router, 'nft', ['list', 'ruleset'])).toMatch(/dnat to 10\.0\.0\.10/);
    expect(nsRun(NS.home, 'nft', ['list', 'ruleset'])).toMatch(/masquerade/);
    expect(rootNamespace()).toBe(before);

    const processes = readState(stack.dir)!.processes;
    const t1 = Date.now();
    const report = down({ keepLogs: true });
    expect(Date.now() - t1, 'teardown takes seconds').toBeLessThan(10_000);
    expect(report.killed, 'every daemon stopped on SIGTERM').toEqual([]);
    expect(report.namespaces.sort()).toEqual(ALL_NAMESPACES);
    expectNothingLeft(processes);
    expect(existsSync(stateFile(stackDir()))).toBe(false);
    expect(existsSync(join(stackDir(), 'logs', 'kamailio.log')), 'logs stay for reading').toBe(true);
    expect(rootNamespace()).toBe(before);
  });

  it('removes everything by the namespace prefix when the state file is lost, strays included', async () => {
    const stack = await up();
    const processes = readState(stack.dir)!.processes;
    // A process the state file does not know, in one of the namespaces.
    const stray = spawn('ip', ['netns', 'exec', NS.c1, 'sleep', '300'], { stdio: 'ignore', detached: true });
    stray.unref();
    await new Promise((r) => setTimeout(r, 100));
    run('rm', [stateFile(stack.dir)]);

    const report = down({ keepLogs: true });
    expect(report.leftovers.join(' ')).toContain('sleep');
    expect(report.namespaces.sort()).toEqual(ALL_NAMESPACES);
    expectNothingLeft(processes);
    expect(processStartTime(stray.pid!), 'the stray is gone').toBeUndefined();
  });

  it('cleans up after a bring-up killed half-way (SIGKILL, no exit handler)', async () => {
    // node --import tsx: one process (the tsx binary would leave its node child running).
    const cli = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_DIR, 'stack', 'cli.ts'), 'up'], {
      cwd: PROJECT_DIR,
      stdio: 'ignore',
    });
    // Kill it once daemons are running but before it is ready.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const state = readState(stackDir());
      if (state && state.processes.some((p) => p.name === 'rtpengine') && state.readyAt === undefined) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    cli.kill('SIGKILL');
    await new Promise((r) => cli.once('exit', r));
    // Long enough for anything it had left in flight to show up.
    await new Promise((r) => setTimeout(r, 300));
    const state = readState(stackDir());
    expect(state?.readyAt, 'killed before it was ready').toBeUndefined();
    expect(state!.processes.filter(isAlive).length, 'daemons survived their parent').toBeGreaterThan(0);

    const report = down({ keepLogs: true });
    expect(report.namespaces.length).toBeGreaterThan(0);
    expectNothingLeft(state!.processes);
  });
});
