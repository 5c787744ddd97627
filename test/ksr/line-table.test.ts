import { afterEach, describe, expect, it } from 'vitest';
import { encodeLineTable } from '../../build/bundle/line-table.ts';
import { decodeLineTable, LINE_TABLE_GLOBAL, runningTypeScriptFrames, typeScriptFrames } from '../../src/ksr/line-table';

/** Bundle lines 1-2 helpers (no mapping), 3-5 from relay.ts 40-42, 6 from main.ts 7. */
const TABLE = encodeLineTable([
  undefined,
  undefined,
  { file: 'src/routing/relay.ts', line: 40 },
  { file: 'src/routing/relay.ts', line: 41 },
  { file: 'src/routing/relay.ts', line: 42 },
  { file: 'src/main.ts', line: 7 },
]);

/** A stack as app_jsdt's Duktape prints it. */
const STACK = [
  'Error: no route',
  '    at relay2 (eval:5) preventsyield',
  '    at helper (eval:2) preventsyield',
  '    at [anon] (duk_js_call.c:5) internal',
  '    at guarded (eval:6) preventsyield',
].join('\n');

describe('TypeScript frames of a Duktape stack', () => {
  it('gives each bundle frame its TypeScript file:line, frames of other files included', () => {
    expect(typeScriptFrames(STACK, decodeLineTable(TABLE))).toBe(
      [
        '    at relay2 (src/routing/relay.ts:42)',
        '    at helper (eval:2) preventsyield',
        '    at [anon] (duk_js_call.c:5) internal',
        '    at guarded (src/main.ts:7)',
      ].join('\n'),
    );
  });

  it('keeps frames on lines without a mapping, and in Duktape C sources, as they are', () => {
    const frames = typeScriptFrames(STACK, decodeLineTable(TABLE))!.split('\n');
    expect(frames).toContain('    at helper (eval:2) preventsyield');
    expect(frames).toContain('    at [anon] (duk_js_call.c:5) internal');
  });

  it('maps the file name under which the duk command line runs the bundle too', () => {
    expect(typeScriptFrames('    at relay2 (/tmp/x/kamailio.js:3) strict', decodeLineTable(TABLE))).toBe(
      '    at relay2 (src/routing/relay.ts:40)',
    );
  });

  it('has nothing to add when no frame maps (a line past the table, only C frames, no frames)', () => {
    const table = decodeLineTable(TABLE);
    expect(typeScriptFrames('Error: x\n    at f (eval:999) strict', table)).toBeUndefined();
    expect(typeScriptFrames('Error: x\n    at [anon] (duk_js_call.c:3) internal', table)).toBeUndefined();
    expect(typeScriptFrames('plain text', table)).toBeUndefined();
  });
});

describe('the table of the running bundle', () => {
  const globals = globalThis as Record<string, unknown>;
  afterEach(() => {
    delete globals[LINE_TABLE_GLOBAL];
  });

  it('is absent when the sources run without a build (unit tests, the mock)', () => {
    expect(runningTypeScriptFrames(STACK)).toBeUndefined();
  });

  it('is read from the global the bundle defines, and a new table after a reload replaces the old one', () => {
    globals[LINE_TABLE_GLOBAL] = TABLE;
    expect(runningTypeScriptFrames('    at f (eval:3) strict')).toBe('    at f (src/routing/relay.ts:40)');
    expect(runningTypeScriptFrames('    at f (eval:4) strict')).toBe('    at f (src/routing/relay.ts:41)');
    globals[LINE_TABLE_GLOBAL] = encodeLineTable([{ file: 'src/reloaded.ts', line: 9 }]);
    expect(runningTypeScriptFrames('    at f (eval:1) strict')).toBe('    at f (src/reloaded.ts:9)');
  });
});
