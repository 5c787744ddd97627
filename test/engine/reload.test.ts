/**
 * Hot reload of the routing in a real Kamailio 5.6.3 (kamailio.cfg, 4 UDP
 * workers on each of the 2 UDP sockets, 4 TCP workers), through the reload
 * tool (build/reload) and its CLI. The bundles are built from the fixture
 * entries under test/fixtures/reload by the real build pipeline.
 *
 * Every UDP and TCP worker is asked directly: the fixtures answer every
 * request with their build id and the worker's PID (as the project's routing
 * answers keepalives), and the tool's own probe reaches each worker.
 * The media server is 127.0.0.4, so probes from 127.0.0.1 (LOCAL_IP) take
 * the routing's "proxy's own keepalive" path, as they would in production.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBuild } from '../../build/bundle/pipeline.ts';
import { DEFAULT_API_LIST } from '../../build/kemi/api-list.ts';
import { confirmWorkers, formatConfirmation, type Confirmation } from '../../build/reload/confirm.ts';
import { slotsFor, readBuildInfo } from '../../build/reload/install.ts';
import { KamailioRpc } from '../../build/reload/kamailio-rpc.ts';
import { reloadRouting, rollbackRouting, type ReloadContext, type ReloadReport } from '../../build/reload/reload.ts';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { waitUntil } from '../support/process.ts';

const execFileAsync = promisify(execFile);
const FIXTURES = join(PROJECT_DIR, 'test/fixtures/reload');
const fixture = (name: string): string => join(FIXTURES, name, 'main.ts');
/** Fixtures are not part of tsconfig.json's project: no type check, as in the build tests. */
const source = (entry: string) => ({ entry, tsconfig: join(PROJECT_DIR, 'tsconfig.json'), typeCheck: false });

describe('hot reload in a real Kamailio', () => {
  let kam: KamailioInstance;
  let bundlePath: string;
  let context: ReloadContext;
  let v1: string;
  let v2: string;
  const progress: string[] = [];
  let failed = false;

  /** Each UDP and TCP worker's answer to a request for sip:<user>@... (or a keepalive). */
  const askEveryWorker = async (user?: string): Promise<Confirmation> => {
    const asked = await confirmWorkers(context.rpc, { timeoutMs: 5000, ...(user === undefined ? {} : { user }) });
    expect(asked.workers.filter((w) => w.buildId === undefined).map((w) => w.process.description)).toEqual([]);
    return asked;
  };
  const marks = (): number => (kam.daemon.log().match(/marking for reload js script file/g) ?? []).length;

  beforeAll(async () => {
    const dist = join(mkdtempSync(join(tmpdir(), 'ksr-reload-test-')), 'dist');
    const first = await runBuild({
      projectRoot: PROJECT_DIR,
      entry: fixture('v1'),
      outDir: dist,
      tsconfig: join(PROJECT_DIR, 'tsconfig.json'),
      cfgPath: join(PROJECT_DIR, 'kamailio.cfg'),
      apiListPath: DEFAULT_API_LIST,
      typeCheck: false,
      duktape: true,
    });
    expect(first.problems.map((p) => p.message)).toEqual([]);
    v1 = first.info!.buildId;
    bundlePath = first.bundlePath;
    kam = await startKamailio({ name: 'reload-kamailio', bundle: bundlePath, dispatcherList: '1 sip:127.0.0.4:5090 0 0\n' });
    context = {
      projectRoot: PROJECT_DIR,
      bundlePath,
      rpc: KamailioRpc.forRunDir(kam.runDir),
      cfgPath: join(PROJECT_DIR, 'kamailio.cfg'),
      confirmTimeoutMs: 10_000,
      log: (line) => progress.push(line),
    };
  });
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') {
      failed = true;
      console.log(progress.join('\n'));
    }
    progress.length = 0;
  });
  afterAll(async () => {
    await kam?.stop({ failed });
  });

  it('starts with v1 in every worker: 8 UDP workers on 2 sockets, 4 TCP workers', async () => {
    const asked = await askEveryWorker();
    expect(asked.workers.filter((w) => w.process.role.kind === 'udp')).toHaveLength(8);
    expect(asked.workers.filter((w) => w.process.role.kind === 'tcp')).toHaveLength(4);
    expect(new Set(asked.workers.map((w) => `${w.buildId} ${w.reason}`))).toEqual(new Set([`${v1} v1`]));
  });

  it('reloads v2 and confirms it in every UDP and TCP worker, which then answer as v2', async () => {
    const report = await reloadRouting(context, source(fixture('v2')));
    expect(report.problems).toEqual([]);
    expect(report.outcome).toBe('reloaded');
    v2 = report.to!.buildId;
    expect(v2).not.toBe(v1);
    expect(report.from?.buildId).toBe(v1);
    // The tool's own confirmation: every worker, each with the new id.
    const confirmation = report.confirmation!;
    expect(confirmation.workers).toHaveLength(12);
    expect(confirmation.workers.every((w) => w.buildId === v2 && w.confirmedAfterMs !== undefined)).toBe(true);
    // Asked again independently: new behaviour everywhere.
    const asked = await askEveryWorker();
    expect(new Set(asked.workers.map((w) => `${w.buildId} ${w.reason}`))).toEqual(new Set([`${v2} v2`]));
    // Installed atomically where Kamailio reads, v1 kept for rollback.
    expect(readBuildInfo(slotsFor(bundlePath).current)?.buildId).toBe(v2);
    expect(readBuildInfo(slotsFor(bundlePath).previous)?.buildId).toBe(v1);
    console.log(`reload v1 -> v2: ${formatTimings(report)}\n${formatConfirmation(confirmation, v1).join('\n')}`);
  });

  it('leaves no worker with the callback v2 removed as a global function', async () => {
    const gone = await askEveryWorker('global-ksr_only_in_v1');
    expect(new Set(gone.workers.map((w) => w.reason))).toEqual(new Set(['typeof undefined']));
    const kept = await askEveryWorker('global-ksr_request_route');
    expect(new Set(kept.workers.map((w) => w.reason))).toEqual(new Set(['typeof function']));
  });

  describe('refuses a bad bundle before Kamailio sees it; Kamailio keeps serving v2', () => {
    let oversizedEntry: string;

    beforeAll(() => {
      // Over 128 KiB only once built: the filler is written into a copy of the fixture.
      const dir = join(mkdtempSync(join(tmpdir(), 'ksr-reload-oversized-')), 'oversized');
      cpSync(join(FIXTURES, 'oversized'), dir, { recursive: true });
      const line = `  ${JSON.stringify('x'.repeat(1000))} +\n`;
      writeFileSync(join(dir, 'filler.ts'), `export const FILLER =\n${line.repeat(140)}  '';\n`);
      oversizedEntry = join(dir, 'main.ts');
    });

    const cases: Array<[string, () => string, RegExp]> = [
      ['a syntax error', () => fixture('syntax-error'), /test\/fixtures\/reload\/syntax-error\/main\.ts:7:\d+: Expected ";" but found "\)"/],
      [
        'a throw at load time',
        () => fixture('throws-at-load'),
        /throws while loading .*JSON.* \(test\/fixtures\/reload\/throws-at-load\/main\.ts:\d+\)/,
      ],
      ['a bundle over 128 KiB', () => oversizedEntry, /kamailio\.js is \d+ bytes \(1[3-9]\d\.\d KiB\), over the 131072-byte \(128 KiB\) limit.*filler\.ts/],
      [
        'a KSR function the running Kamailio lacks',
        () => fixture('unknown-ksr'),
        /KSR\.acc\.acc_log_request is not in the KEMI API list app_jsdt\.api_list-of-the-running-kamailio \(module "acc" is not loaded\) at kamailio\.js:\d+:\d+ \(test\/fixtures\/reload\/unknown-ksr\/main\.ts:9\)/,
      ],
    ];

    it.each(cases)('%s', async (_what, entry, why) => {
      const installed = readFileSync(bundlePath);
      const kept = readFileSync(slotsFor(bundlePath).previous.bundle);
      const reloadsBefore = marks();
      const report = await reloadRouting(context, source(entry()));
      expect(report.outcome).toBe('refused');
      expect(report.problems.join('\n')).toMatch(why);
      // Nothing written, no RPC: Kamailio never saw it.
      expect(readFileSync(bundlePath).equals(installed)).toBe(true);
      expect(readFileSync(slotsFor(bundlePath).previous.bundle).equals(kept)).toBe(true);
      expect(marks()).toBe(reloadsBefore);
      const asked = await askEveryWorker();
      expect(new Set(asked.workers.map((w) => `${w.buildId} ${w.reason}`))).toEqual(new Set([`${v2} v2`]));
    });
  });

  it('reports the workers that keep an old build when a file reached Kamailio without the tool', async () => {
    const good = readFileSync(bundlePath, 'utf8');
    // What a plain copy + app_jsdt.reload can do: every worker fails to load it and keeps v2.
    writeFileSync(bundlePath, `${good}\nfunction (\n`);
    await kam.rpc('app_jsdt.reload');
    const confirmation = await confirmWorkers(context.rpc, { expected: 'not-this-one', timeoutMs: 5000 });
    expect(confirmation.ok).toBe(false);
    expect(new Set(confirmation.workers.map((w) => w.buildId))).toEqual(new Set([v2]));
    expect(formatConfirmation(confirmation, v2).filter((l) => l.includes('✗ still the old build'))).toHaveLength(12);
    expect(kam.daemon.log()).toMatch(/jsdt_kemi_load_script\(\): failed running: SyntaxError/);
    // The tool puts things right: it checks the new bundle even over a running file that does not load.
    writeFileSync(bundlePath, good);
    const report = await reloadRouting(context, source(fixture('v2')));
    expect(report.outcome).toBe('reloaded');
  });

  it('rolls back to v1 in every worker; v1\'s callback is back; a second rollback returns to v2', async () => {
    const back = await rollbackRouting(context);
    expect(back.problems).toEqual([]);
    expect(back.outcome).toBe('reloaded');
    expect(back.to?.buildId).toBe(v1);
    expect(back.confirmation!.workers.every((w) => w.buildId === v1)).toBe(true);
    expect(new Set((await askEveryWorker()).workers.map((w) => `${w.buildId} ${w.reason}`))).toEqual(new Set([`${v1} v1`]));
    expect(new Set((await askEveryWorker('global-ksr_only_in_v1')).workers.map((w) => w.reason))).toEqual(new Set(['typeof function']));
    expect(readBuildInfo(slotsFor(bundlePath).previous)?.buildId).toBe(v2);

    const again = await rollbackRouting(context);
    expect(again.outcome).toBe('reloaded');
    expect(again.confirmation!.workers.every((w) => w.buildId === v2)).toBe(true);
    console.log(`rollback v2 -> v1: ${formatTimings(back)}; rollback v1 -> v2: ${formatTimings(again)}`);
  });

  describe('the CLI (npm run reload / rollback / reload:status)', () => {
    const cli = async (...args: string[]): Promise<{ code: number; out: string }> => {
      const env = { ...process.env, RUN_DIR: kam.runDir, KEMI_BUNDLE: bundlePath };
      try {
        const { stdout, stderr } = await execFileAsync('npx', ['tsx', 'build/reload/cli.ts', ...args], { cwd: PROJECT_DIR, env, timeout: 60_000 });
        return { code: 0, out: stdout + stderr };
      } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
      }
    };

    it('reloads, printing each step and the worker table, exit 0', async () => {
      const { code, out } = await cli('reload', '--entry', 'test/fixtures/reload/v1/main.ts', '--no-typecheck');
      expect(out).toMatch(/^reload: building test\/fixtures\/reload\/v1\/main\.ts against the running Kamailio's KEMI API \(\d+ functions\)$/m);
      expect(out).toMatch(/^reload: app_jsdt\.reload: version \d+ -> \d+/m);
      for (const worker of ['udp receiver child=3 127.0.0.1:', 'tcp receiver child=3']) {
        expect(out).toMatch(new RegExp(`^  \\d+ +${worker}.*${v1}  ✓ \\d+ ms$`, 'm'));
      }
      expect(out).toMatch(new RegExp(`^reload: ✓ all 12 SIP workers run ${v1} `, 'm'));
      expect(code).toBe(0);
    });

    it('refuses with the file and line, exit 1', async () => {
      const { code, out } = await cli('reload', '--entry', 'test/fixtures/reload/throws-at-load/main.ts', '--no-typecheck');
      expect(out).toMatch(/^✗ .*test\/fixtures\/reload\/throws-at-load\/main\.ts:\d+/m);
      expect(out).toMatch(new RegExp(`^reload: ✗ refused, nothing installed: Kamailio keeps running ${v1}$`, 'm'));
      expect(code).toBe(1);
    });

    it('reloads a bundle built earlier only with its build-info.json next to it', async () => {
      const lone = join(mkdtempSync(join(tmpdir(), 'ksr-lone-')), 'kamailio.js');
      writeFileSync(lone, readFileSync(bundlePath));
      const { code, out } = await cli('reload', '--bundle', lone);
      expect(out).toContain(`✗ ${lone} with build-info.json next to it is required (npm run build writes both)`);
      expect(code).toBe(1);
    });

    it('shows the installed, the previous and every worker\'s build', async () => {
      const { code, out } = await cli('status');
      expect(out).toMatch(new RegExp(`^installed: ${v1} `, 'm'));
      expect(out).toMatch(new RegExp(`^previous:  ${v2} `, 'm'));
      expect(out.match(new RegExp(`^  \\d+ .*${v1}`, 'gm'))).toHaveLength(12);
      expect(code).toBe(0);
    });

    it('says when Kamailio is not reachable, exit 1, nothing installed', async () => {
      const env = { ...process.env, RUN_DIR: mkdtempSync(join(tmpdir(), 'ksr-no-kamailio-')), KEMI_BUNDLE: bundlePath };
      const installed = readFileSync(bundlePath);
      const run = await execFileAsync('npx', ['tsx', 'build/reload/cli.ts', 'rollback'], { cwd: PROJECT_DIR, env }).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect(run).toMatchObject({ code: 1, stderr: expect.stringMatching(/✗ Kamailio is not reachable on unix:.*kamailio_ctl .*nothing was installed/) });
      expect(readFileSync(bundlePath).equals(installed)).toBe(true);
      expect(existsSync(join(bundlePath, '..', '.reload.lock'))).toBe(false);
    });
  });

  describe('npm start\'s watcher (build/reload/watch.ts)', () => {
    let watcher: ChildProcess | undefined;
    let output = '';
    let srcDir: string;
    const waitForOutput = async (pattern: RegExp, what: string): Promise<void> => {
      const seen = await waitUntil(() => pattern.test(output), 30_000, 50);
      expect(seen, `${what}; watcher output:\n${output}`).toBe(true);
    };

    beforeAll(async () => {
      srcDir = join(mkdtempSync(join(tmpdir(), 'ksr-watch-')), 'src');
      mkdirSync(srcDir);
      cpSync(join(FIXTURES, 'watch', 'main.ts'), join(srcDir, 'main.ts'));
      watcher = spawn(
        process.execPath,
        ['--import', 'tsx', 'build/reload/watch.ts', '--src', srcDir, '--entry', join(srcDir, 'main.ts'), '--no-typecheck'],
        { cwd: PROJECT_DIR, env: { ...process.env, RUN_DIR: kam.runDir, KEMI_BUNDLE: bundlePath }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      watcher.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      watcher.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitForOutput(/^reload: watching /m, 'the watcher starts');
    });
    afterAll(() => {
      if (watcher?.exitCode === null) watcher.kill('SIGKILL');
    });

    const edit = (version: string): void => {
      const path = join(srcDir, 'main.ts');
      writeFileSync(path, readFileSync(path, 'utf8').replace(/const VERSION = .*;/, version));
    };

    it('reloads a saved change into every worker', async () => {
      edit(`const VERSION = 'watch-2';`);
      await waitForOutput(/^reload: ✓ all 12 SIP workers run [0-9a-f]{12} /m, 'a confirmed reload');
      expect(output).toMatch(/^reload: main\.ts changed: reloading$/m);
      expect(new Set((await askEveryWorker()).workers.map((w) => w.reason))).toEqual(new Set(['watch-2']));
    });

    it('prints why a broken change is refused and keeps the running version', async () => {
      output = '';
      // The statement now runs into the next line: a syntax error.
      edit(`const VERSION = 'watch-3' +`);
      await waitForOutput(/^reload: ✗ refused, nothing installed/m, 'a refusal');
      expect(output).toMatch(/main\.ts:\d+:\d+: /);
      expect(new Set((await askEveryWorker()).workers.map((w) => w.reason))).toEqual(new Set(['watch-2']));
    });

    it('stops at once on SIGTERM, as scripts/start.sh stops it', async () => {
      const exited = new Promise<number | null>((r) => watcher!.once('exit', (code) => r(code)));
      watcher!.kill('SIGTERM');
      expect(await exited).toBe(0);
    });
  });
});

function formatTimings(report: ReloadReport): string {
  const t = report.timings;
  return `prepare ${t.prepare.toFixed(0)} ms, install ${t.install.toFixed(0)} ms, RPC ${t.rpc.toFixed(0)} ms, confirm ${t.confirm.toFixed(0)} ms, total ${t.total.toFixed(0)} ms`;
}
