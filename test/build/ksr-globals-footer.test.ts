/**
 * app_jsdt.reload re-runs the bundle in the same global context. The footer
 * must leave exactly the new bundle's ksr_* globals: a callback removed from
 * the routing cannot keep running because an older load defined it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileBundle } from '../../build/bundle/compile.ts';
import { INSTALLED_GLOBAL } from '../../build/bundle/ksr-globals-footer.ts';
import { duktapeVersion } from '../../build/duktape/check.ts';
import { PROJECT_ROOT } from './build-fixtures.ts';

const RELOAD_FIXTURES = join(PROJECT_ROOT, 'test/fixtures/reload');

async function compileFixture(name: string, dir: string): Promise<string> {
  const outFile = join(dir, `${name}.js`);
  const compiled = await compileBundle({
    entry: join(RELOAD_FIXTURES, name, 'main.ts'),
    outFile,
    tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
    projectRoot: PROJECT_ROOT,
  });
  writeFileSync(outFile, compiled.code);
  return outFile;
}

describe('the ksr_* globals footer over a reload', () => {
  let dir: string;
  let v1: string;
  let v2: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ksr-footer-'));
    v1 = await compileFixture('v1', dir);
    v2 = await compileFixture('v2', dir);
  });

  /** typeof of each global and the installed list, printed by a script run after the bundles. */
  const PROBE = `print(JSON.stringify({ route: typeof ksr_request_route, onlyInV1: typeof ksr_only_in_v1, ` +
    `handWritten: typeof ksr_hand_written, installed: ${INSTALLED_GLOBAL} }));\n`;

  it.skipIf(duktapeVersion() === undefined)('in Duktape 2.7: v1 then v2 in one context leaves only v2\'s callbacks', () => {
    const probe = join(dir, 'probe.js');
    const handWritten = join(dir, 'hand-written.js');
    writeFileSync(probe, PROBE);
    // A global function declared by some older, hand-written bundle.
    writeFileSync(handWritten, 'function ksr_hand_written() {}\n');
    const run = spawnSync('duk', [handWritten, v1, probe, v2, probe], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const [afterV1, afterV2] = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { route: string; onlyInV1: string; handWritten: string; installed: string[] });
    expect(afterV1).toMatchObject({ route: 'function', onlyInV1: 'function', handWritten: 'undefined' });
    expect([...afterV1!.installed].sort()).toEqual(['ksr_only_in_v1', 'ksr_request_route', 'ksr_websocket_event', 'ksr_xhttp_event']);
    expect(afterV2).toMatchObject({ route: 'function', onlyInV1: 'undefined', handWritten: 'undefined' });
    expect([...afterV2!.installed].sort()).toEqual(['ksr_request_route', 'ksr_websocket_event', 'ksr_xhttp_event']);
  });

  it('in a Node vm context too (the entry-points guard loads bundles there)', () => {
    const context: Record<string, unknown> = { KSR: {}, ksr_stray: () => 1 };
    runInNewContext(readFileSync(v1, 'utf8'), context);
    expect(typeof context['ksr_only_in_v1']).toBe('function');
    expect(context['ksr_stray']).toBeUndefined();
    runInNewContext(readFileSync(v2, 'utf8'), context);
    expect(Object.keys(context).filter((k) => k.startsWith('ksr_') && typeof context[k] === 'function').sort()).toEqual([
      'ksr_request_route',
      'ksr_websocket_event',
      'ksr_xhttp_event',
    ]);
  });
});
