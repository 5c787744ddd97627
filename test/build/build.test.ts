import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_ID_PLACEHOLDER, sha256Hex } from '../../build/bundle/build-id.ts';
import { runBuild, type BuildInfo, type BuildReport } from '../../build/bundle/pipeline.ts';
import { formatReport } from '../../build/build.ts';
import { duktapeVersion } from '../../build/duktape/check.ts';
import { fixtureBuild, FIXTURES, PROJECT_ROOT } from './build-fixtures.ts';

const HAS_DUK = duktapeVersion() !== undefined;

describe('a build that passes every guard', () => {
  let report: BuildReport;
  let bundle: string;
  let info: BuildInfo;

  beforeAll(async () => {
    report = await runBuild(fixtureBuild('happy'));
    expect(report.problems.map((p) => p.message)).toEqual([]);
    bundle = readFileSync(report.bundlePath, 'utf8');
    info = JSON.parse(readFileSync(join(report.bundlePath, '../build-info.json'), 'utf8')) as BuildInfo;
  });

  it('writes the bundle, its source map and build-info.json', () => {
    expect(info).toEqual({
      buildId: report.info!.buildId,
      bytes: Buffer.byteLength(bundle),
      sha256: sha256Hex(bundle),
      builtAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      entry: 'test/fixtures/build/happy/main.ts',
    });
    const map = JSON.parse(readFileSync(`${report.bundlePath}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources.filter((source) => source.endsWith('modern-syntax.ts'))).toHaveLength(1);
  });

  it('makes every ksr_* export a global function, and nothing else', () => {
    const context: Record<string, unknown> = { KSR: {} };
    runInNewContext(bundle, context);
    const globals = Object.keys(context).filter((name) => typeof context[name] === 'function' && name.startsWith('ksr_'));
    expect(globals.sort()).toEqual([
      'ksr_failure_manage',
      'ksr_reply_route',
      'ksr_request_route',
    ]);
  });

  it('has a build id that is the hash of its content, with the id slot holding the placeholder', () => {
    const unstamped = bundle.split(info.buildId).join(BUILD_ID_PLACEHOLDER);
    expect(info.buildId).toMatch(/^[0-9a-f]{12}$/);
    expect(sha256Hex(unstamped).slice(0, 12)).toBe(info.buildId);
  });

  it('hands the build id to BUILD_ID, as the running bundle reports it', () => {
    const replies: string[] = [];
    const KSR = {
      is_method: () => true,
      sl: { sl_send_reply: (code: number, reason: string) => replies.push(`${code} ${reason}`) },
    };
    runInNewContext(`${bundle}\nksr_request_route();`, { KSR });
    expect(replies).toEqual([`200 OK ${info.buildId} OPTIONS sip:a@b 9 UDP`]);
  });

  it.skipIf(!HAS_DUK)('runs the lowered classes, destructuring, spread and for-of correctly in Duktape', () => {
    const dir = mkdtempSync(join(tmpdir(), 'happy-duk-'));
    writeFileSync(
      join(dir, 'ksr.js'),
      'var KSR = { is_method: function () { return true; },\n' +
        '  sl: { sl_send_reply: function (code, reason) { print(code + " " + reason); } } };\n',
    );
    writeFileSync(join(dir, 'call.js'), 'ksr_request_route();\n');
    const run = spawnSync('duk', [join(dir, 'ksr.js'), report.bundlePath, join(dir, 'call.js')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`200 OK ${info.buildId} OPTIONS sip:a@b 9 UDP\n`);
  });

  it('prints the bundle size in bytes and KiB, and the build id', () => {
    const [line] = formatReport(report, 1234);
    expect(line).toBe(
      `${report.bundlePath}: ${info.bytes} bytes (${(info.bytes / 1024).toFixed(1)} KiB of 128.0 KiB), ` +
        `build id ${info.buildId}, built in 1.23 s`,
    );
  });
});

/** Where a bundle guard points: a bundle position, then the fixture's TypeScript line. */
const fromTs = (fileAndLine: string) => new RegExp(`at kamailio\\.js:\\d+:\\d+ \\(test/fixtures/build/${fileAndLine}\\)`);

describe('a refused build', () => {
  it.each([
    {
      fixture: 'es5-lookbehind',
      cause: 'not ES5 (Duktape 2.7 would refuse to load the bundle): Invalid regular expression: /(?<=sip:)\\w+/: Invalid group',
      where: fromTs('es5-lookbehind/main.ts:5'),
    },
    {
      fixture: 'missing-builtin',
      cause: 'Map does not exist in Duktape 2.7 (fails when the route runs)',
      where: fromTs('missing-builtin/main.ts:5'),
    },
    {
      fixture: 'no-request-route',
      cause: 'ksr_request_route is not a global function of kamailio.js (ksr_* globals found: ksr_reply_route)',
      where: /export it from the entry module/,
    },
    {
      fixture: 'failure-callback-typo',
      cause: 'callback "ksr_failure_typo" passed to t_on_failure',
      where: fromTs('failure-callback-typo/main.ts:5'),
    },
    {
      fixture: 'cfg-event-callback',
      cause: 'callback "ksr_xhttp_evnt" named by modparam("xhttp", "event_callback")',
      where: /at test\/fixtures\/build\/cfg-event-callback\/kamailio\.cfg:6 /,
    },
    {
      fixture: 'unknown-kemi-function',
      cause: 'KSR.acc.acc_log_request is not in the KEMI API list build/kemi/api_list-5.6.3.txt (module "acc" is not loaded)',
      where: fromTs('unknown-kemi-function/main.ts:5'),
    },
    {
      fixture: 'try-in-routing',
      cause: 'try statement at test/fixtures/build/try-in-routing/routing/relay.ts:4: routing code must not catch',
      where: /only the entry wrapper in src\/ksr\/ may catch/,
    },
  ])('refuses fixture $fixture with one message naming the cause and where, and writes nothing', async (refusal) => {
    const { fixture, cause, where } = refusal;
    const options = fixtureBuild(fixture);
    const report = await runBuild(options);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]!.message).toContain(cause);
    expect(report.problems[0]!.message).toMatch(where);
    expect(existsSync(options.outDir)).toBe(false);
  });

  it('refuses a bundle over 128 KiB, naming its size and its largest source', async () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'oversized-')), 'oversized');
    cpSync(join(FIXTURES, 'oversized'), copy, { recursive: true });
    writeFileSync(join(copy, 'filler.ts'), `export const FILLER = '${'x'.repeat(140 * 1024)}';\n`);
    const report = await runBuild(fixtureBuild('oversized', { entry: join(copy, 'main.ts') }));
    expect(report.problems.map((problem) => problem.message)).toEqual([
      expect.stringMatching(
        /^kamailio\.js is 14\d{4} bytes \(1[34]\d\.\d KiB\), over the 131072-byte \(128 KiB\) limit: .* Largest sources: .*oversized\/filler\.ts 140\.0 KiB/,
      ),
    ]);
  });

  it('refuses an entry whose import does not resolve, naming file:line:col', async () => {
    const entry = join(mkdtempSync(join(tmpdir(), 'unresolved-')), 'main.ts');
    writeFileSync(entry, "import { relay } from './routing/relay';\nexport const ksr_request_route = relay;\n");
    const report = await runBuild(fixtureBuild('happy', { entry }));
    expect(report.problems.map((problem) => problem.message)).toEqual([
      expect.stringMatching(/^esbuild could not bundle .*main\.ts:\n.*main\.ts:1:23: Could not resolve "\.\/routing\/relay"$/),
    ]);
  });

  it('leaves the previous bundle in dist/ untouched', async () => {
    const options = fixtureBuild('missing-builtin');
    mkdirSync(options.outDir, { recursive: true });
    writeFileSync(join(options.outDir, 'kamailio.js'), 'previous bundle');
    await runBuild(options);
    expect(readFileSync(join(options.outDir, 'kamailio.js'), 'utf8')).toBe('previous bundle');
  });

  it('runs the type check first when asked, reporting errors as file:line', async () => {
    const project = mkdtempSync(join(tmpdir(), 'typecheck-build-'));
    writeFileSync(join(project, 'main.ts'), 'export function ksr_request_route(): void {\n  const n: number = "x";\n}\n');
    const tsconfig = join(project, 'tsconfig.json');
    writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { strict: true, lib: ['ES5'], types: [] }, include: ['main.ts'] }));
    const report = await runBuild(
      fixtureBuild('happy', { projectRoot: project, entry: join(project, 'main.ts'), tsconfig, typeCheck: true }),
    );
    expect(report.problems.map((problem) => problem.message)).toContain(
      "main.ts:2:9 error TS2322: Type 'string' is not assignable to type 'number'.",
    );
  });

  it('formats a refusal with each problem and says dist/ was left alone', async () => {
    const report = await runBuild(fixtureBuild('no-request-route'));
    const lines = formatReport(report, 0);
    expect(lines[0]).toMatch(/^✗ ksr_request_route is not a global function/);
    expect(lines.at(-1)).toBe(`build refused (1 problem(s)); ${report.bundlePath} left as it was`);
  });
});

describe('npm run build', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'build/build.ts', '--no-typecheck', ...args], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env,
    });

  it('prints the size and build id and exits 0, noting a Duktape check skipped for lack of duk', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'cli-'));
    const run = cli(['--entry', 'test/fixtures/build/happy/main.ts', '--out-dir', outDir, '--cfg', '/nonexistent.cfg'], {
      ...process.env,
      PATH: '/nonexistent',
    });
    expect(run.stdout.split('\n')).toEqual([
      'note: duk (Duktape CLI) is not installed: skipped the Duktape load check',
      expect.stringMatching(/kamailio\.js: \d+ bytes \(\d+\.\d KiB of 128\.0 KiB\), build id [0-9a-f]{12}, built in \d+\.\d\d s$/),
      '',
    ]);
    expect(run.status).toBe(0);
  });

  it('prints each refusal on stderr and exits 1', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'cli-'));
    const run = cli(['--entry', 'test/fixtures/build/failure-callback-typo/main.ts', '--out-dir', outDir]);
    expect(run.stderr).toMatch(/^✗ callback "ksr_failure_typo" passed to t_on_failure/);
    expect(run.status).toBe(1);
  });
});
