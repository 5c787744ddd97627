import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBuild, type BuildReport } from '../../build/bundle/pipeline.ts';
import { duktapeVersion } from '../../build/duktape/check.ts';
import { generateStubKsr } from '../../build/duktape/stub-ksr.ts';
import { loadApiList } from '../../build/kemi/api-list.ts';
import { stackMapperForFile } from '../../build/map-stack.ts';
import { fixtureBuild, PROJECT_ROOT } from './build-fixtures.ts';

const FIXTURE = 'test/fixtures/build/runtime-throw/main.ts';
/** The lines of the fixture that throw and that call the thrower. */
const THROW_LINE = 12;
const CALL_LINE = 17;

describe.skipIf(duktapeVersion() === undefined)('map-stack', () => {
  let report: BuildReport;
  let mapStack: (text: string) => string;
  let duktapeTrace: string;

  beforeAll(async () => {
    report = await runBuild(fixtureBuild('runtime-throw'));
    expect(report.problems).toEqual([]);
    mapStack = stackMapperForFile(`${report.bundlePath}.map`, PROJECT_ROOT);
    const dir = dirname(report.bundlePath);
    writeFileSync(join(dir, 'stub-ksr.js'), generateStubKsr(loadApiList()));
    writeFileSync(join(dir, 'call.js'), 'try { ksr_request_route(); } catch (e) { print(e.stack); }\n');
    const run = spawnSync('duk', [join(dir, 'stub-ksr.js'), report.bundlePath, join(dir, 'call.js')], { encoding: 'utf8' });
    duktapeTrace = run.stdout;
  });

  it('maps a real Duktape trace to the TypeScript file and line of each frame', () => {
    const bundleLine = (fn: string) => new RegExp(`at ${fn} \\(${report.bundlePath}:(\\d+)\\)`).exec(duktapeTrace)?.[1];
    expect(duktapeTrace).toMatch(/^Error: runtime boom for none\n/);
    expect(mapStack(duktapeTrace).split('\n').slice(0, 3)).toEqual([
      'Error: runtime boom for none',
      `    at check (${FIXTURE}:${THROW_LINE} <- check2@${report.bundlePath}:${bundleLine('check2')}) strict`,
      `    at ksr_request_route (${FIXTURE}:${CALL_LINE} <- ${report.bundlePath}:${bundleLine('ksr_request_route')}) strict`,
    ]);
  });

  it('maps frames as app_jsdt logs them (file "eval") and leaves the rest of the log alone', () => {
    const line = bundleLineOf('throw new Error(');
    const log = [
      ' 1(9310) ERROR: app_jsdt [app_jsdt_api.c:605]: app_jsdt_run_ex(): error stack from js: Error: runtime boom for none',
      `    at check2 (eval:${line}) preventsyield`,
      '    at [anon] (duk_js_call.c:1349) internal',
      ' 1(9310) ERROR: app_jsdt [app_jsdt_api.c:630]: app_jsdt_run_ex(): error executing: ksr_request_route (err: 1)',
    ];
    expect(mapStack(log.join('\n')).split('\n')).toEqual([
      log[0],
      `    at check (${FIXTURE}:${THROW_LINE} <- check2@eval:${line}) preventsyield`,
      log[2],
      log[3],
    ]);
  });

  it('splits the #012 escapes rsyslog puts in place of newlines', () => {
    const line = bundleLineOf('throw new Error(');
    expect(mapStack(`error stack from js: Error: boom#012    at check2 (input:${line}) strict`)).toBe(
      `error stack from js: Error: boom\n    at check (${FIXTURE}:${THROW_LINE} <- check2@input:${line}) strict`,
    );
  });

  it('leaves the TypeScript frames the entry wrapper logs after the stack as they are', () => {
    const block = ['TypeScript stack:', `    at check2 (${FIXTURE}:${THROW_LINE})`, '    at guarded (src/ksr/entry.ts:34)'].join('\n');
    expect(mapStack(block)).toBe(block);
  });

  it('leaves frames of lines the map does not cover as they are', () => {
    expect(mapStack('    at _type_of (eval:1) strict')).toBe('    at _type_of (eval:1) strict');
  });

  it('works as a command, on stdin or on a trace given as arguments', () => {
    const command = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'build/map-stack.ts', '--map', `${report.bundlePath}.map`, ...args], {
        cwd: PROJECT_ROOT,
        input: duktapeTrace,
        encoding: 'utf8',
      }).stdout;
    expect(command()).toContain(`at check (${FIXTURE}:${THROW_LINE} <- check2@`);
    const line = bundleLineOf('throw new Error(');
    expect(command('Error: boom', `    at check2 (eval:${line}) preventsyield`)).toBe(
      `Error: boom\n    at check (${FIXTURE}:${THROW_LINE} <- check2@eval:${line}) preventsyield\n`,
    );
  });

  function bundleLineOf(text: string): number {
    return readFileSync(report.bundlePath, 'utf8').split('\n').findIndex((line) => line.includes(text)) + 1;
  }
});
