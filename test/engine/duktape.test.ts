/**
 * The real Duktape 2.7 (Debian's duk, the engine of Kamailio 5.6's app_jsdt)
 * against the project's own bundle and against bundles it must refuse.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileBundle } from '../../build/bundle/compile.ts';
import { checkInDuktape, duktapeVersion, type DuktapeCheckResult } from '../../build/duktape/check.ts';

const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/build/duktape');

describe.skipIf(duktapeVersion() === undefined)('Duktape load check', () => {
  it('runs Duktape 2.7.0, the version app_jsdt embeds in Kamailio 5.6', () => {
    expect(duktapeVersion()).toBe(20700);
  });

  describe('the bundle of src/main.ts', () => {
    let result: DuktapeCheckResult;

    beforeAll(async () => {
      const outFile = join(mkdtempSync(join(tmpdir(), 'engine-duktape-')), 'kamailio.js');
      const compiled = await compileBundle({
        entry: join(PROJECT_ROOT, 'src/main.ts'),
        outFile,
        tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
        projectRoot: PROJECT_ROOT,
      });
      writeFileSync(outFile, compiled.code);
      result = checkInDuktape(outFile, { callRequestRoute: true });
    });

    it('loads twice in one context, as app_jsdt does on reload, with ksr_request_route global', () => {
      expect(result.problems).toEqual([]);
      expect(result.globals).toContain('ksr_request_route');
    });

    it('lets nothing but the exit marker escape ksr_request_route', () => {
      expect(result.routeError).toBeNull();
    });
  });

  it('refuses a bundle that throws at load time, with Duktape\'s own message', () => {
    const result = checkInDuktape(join(FIXTURES, 'throws-at-load.js'));
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.stringMatching(/^Duktape could not load the bundle: Error: boom at load time\n {4}at global \(.*throws-at-load\.js:2\)/),
    ]);
  });

  it('refuses a bundle with a syntax error, with Duktape\'s own message', () => {
    expect(checkInDuktape(join(FIXTURES, 'syntax-error.js')).problems).toEqual([
      expect.stringMatching(/^Duktape could not load the bundle: SyntaxError: empty expression not allowed \(line 2\)/),
    ]);
  });

  it('refuses a bundle that cannot be loaded a second time in the same context', () => {
    expect(checkInDuktape(join(FIXTURES, 'throws-on-reload.js')).problems).toEqual([
      expect.stringMatching(/^Duktape could not load the bundle a second time in the same context \(app_jsdt reload does that\): Error: cannot load twice/),
    ]);
  });

  it('reports what ksr_request_route throws when asked to call it', () => {
    const bundle = join(mkdtempSync(join(tmpdir(), 'engine-duktape-')), 'route-throws.js');
    writeFileSync(bundle, 'function ksr_request_route() {\n  KSR.no_such_function();\n}\n');
    const result = checkInDuktape(bundle, { callRequestRoute: true });
    expect(result.ok).toBe(true);
    expect(result.routeError).toMatch(/^TypeError: undefined not callable/);
  });

  it('does not count KSR.x.exit() as an error of the route', () => {
    const bundle = join(mkdtempSync(join(tmpdir(), 'engine-duktape-')), 'route-exits.js');
    writeFileSync(bundle, 'function ksr_request_route() {\n  KSR.x.exit();\n}\n');
    expect(checkInDuktape(bundle, { callRequestRoute: true }).routeError).toBeNull();
  });
});
