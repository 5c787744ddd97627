/**
 * In the real Duktape 2.7: a routing function that throws inside a built
 * bundle is logged by the entry wrapper with the TypeScript file:line of each
 * frame, read from the line table the build appended, and those positions
 * are the ones npm run map-stack finds through the source map.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_ID_PLACEHOLDER, sha256Hex } from '../../build/bundle/build-id.ts';
import { runBuild, type BuildReport } from '../../build/bundle/pipeline.ts';
import { duktapeVersion } from '../../build/duktape/check.ts';
import { generateStubKsr } from '../../build/duktape/stub-ksr.ts';
import { loadApiList } from '../../build/kemi/api-list.ts';
import { stackMapperForFile } from '../../build/map-stack.ts';
import { LINE_TABLE_GLOBAL } from '../../src/ksr/line-table';
import { fixtureBuild, PROJECT_ROOT } from './build-fixtures.ts';

const FIXTURE_DIR = 'test/fixtures/build/runtime-lines';

/** 1-based line of the first line of a project file containing `text`. */
function lineOf(file: string, text: string): number {
  const index = readFileSync(join(PROJECT_ROOT, file), 'utf8').split('\n').findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`${file} has no line with ${text}`);
  return index + 1;
}

describe.skipIf(duktapeVersion() === undefined)('TypeScript positions in the crash log, in Duktape', () => {
  let report: BuildReport;
  let bundle: string;
  let log: string;

  beforeAll(async () => {
    report = await runBuild(fixtureBuild('runtime-lines'));
    expect(report.problems).toEqual([]);
    bundle = readFileSync(report.bundlePath, 'utf8');
    const dir = dirname(report.bundlePath);
    // KSR.err is where the entry wrapper logs; print it. Loaded twice, as app_jsdt.reload does; two crashes, the second from the cached table.
    writeFileSync(join(dir, 'stub-ksr.js'), `${generateStubKsr(loadApiList())}KSR.err = function (text) { print(text); };\n`);
    writeFileSync(join(dir, 'call.js'), 'ksr_request_route(); ksr_request_route();\n');
    const run = spawnSync('duk', [join(dir, 'stub-ksr.js'), report.bundlePath, report.bundlePath, join(dir, 'call.js')], {
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    log = run.stdout;
  });

  const expectedFrames = (): string[] => [
    `    at relay (${FIXTURE_DIR}/relay.ts:${lineOf(`${FIXTURE_DIR}/relay.ts`, 'throw new Error(')})`,
    `    at route (${FIXTURE_DIR}/main.ts:${lineOf(`${FIXTURE_DIR}/main.ts`, 'relay(KSR')})`,
    `    at guarded (src/ksr/entry.ts:${lineOf('src/ksr/entry.ts', 'route(arg);')})`,
  ];

  it('logs the throw and its callers at their TypeScript file:line, after the stack as Duktape printed it', () => {
    const crashes = log.split('routing error in ksr_request_route').slice(1);
    expect(crashes).toHaveLength(2);
    for (const crash of crashes) {
      expect(crash).toMatch(/^ \(build [0-9a-f]{12}\): Error: cannot relay to nowhere\n {4}at relay \(\S+kamailio\.js:\d+\) strict\n/);
      const typeScript = crash.split('TypeScript stack:\n')[1]!.split('\n');
      expect(typeScript.slice(0, 3)).toEqual(expectedFrames());
    }
  });

  it('gives the positions npm run map-stack finds through the source map for the same frames', () => {
    const duktapeStack = log.split('TypeScript stack:')[0]!;
    const mapped = stackMapperForFile(`${report.bundlePath}.map`, PROJECT_ROOT)(duktapeStack);
    for (const frame of expectedFrames()) {
      const [, fn, position] = /at (\S+) \((\S+)\)/.exec(frame)!;
      expect(mapped).toContain(`at ${fn} (${position} <- `);
    }
  });

  it('keeps the table on one line after the code, where it moves no mapped line, and covers it with the build id', () => {
    const lines = bundle.split('\n');
    const tableLine = lines.findIndex((line) => line.startsWith(`var ${LINE_TABLE_GLOBAL} = "`));
    expect(tableLine).toBe(lines.length - 3); // then the sourceMappingURL comment and the final newline
    const map = JSON.parse(readFileSync(`${report.bundlePath}.map`, 'utf8')) as { mappings: string };
    expect(map.mappings.split(';').length).toBeLessThanOrEqual(tableLine);
    const unstamped = bundle.split(report.info!.buildId).join(BUILD_ID_PLACEHOLDER);
    expect(sha256Hex(unstamped).slice(0, 12)).toBe(report.info!.buildId);
    expect(unstamped).toContain(lines[tableLine]);
  });
});
