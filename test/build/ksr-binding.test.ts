/**
 * The bundle binds `KSR` once, as a parameter of its IIFE, so Duktape finds
 * it in the routing's own scope instead of searching up to the global object
 * on every KSR call (build/bundle/ksr-binding.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { bindKsrInBundle } from '../../build/bundle/ksr-binding.ts';
import { compileBundle } from '../../build/bundle/compile.ts';
import { PROJECT_ROOT } from './build-fixtures.ts';

describe('KSR bound by the bundle', () => {
  it('is the KSR global of the load: a request answers through it even when the global name is reassigned later', async () => {
    const { code } = await compileBundle({
      entry: join(PROJECT_ROOT, 'test/fixtures/reload/v1/main.ts'),
      outFile: join(mkdtempSync(join(tmpdir(), 'ksr-binding-')), 'kamailio.js'),
      tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
      projectRoot: PROJECT_ROOT,
    });
    expect(code).toMatch(/^var __ksr = function\(KSR\) \{$/m);
    const replies: string[] = [];
    const ksrOf = (who: string) => ({ sl: { sl_send_reply: (status: number, reason: string) => (replies.push(`${who} ${status} ${reason}`), 1) } });
    const context: Record<string, unknown> = { KSR: ksrOf('loaded') };
    runInNewContext(code, context);
    context['KSR'] = ksrOf('reassigned');
    runInNewContext('ksr_only_in_v1()', context);
    expect(replies).toEqual(['loaded 500 v1 callback after a reload']);
  });

  it('refuses a bundle whose IIFE wrapper is not the one esbuild prints, naming what it looked for', () => {
    expect(() => bindKsrInBundle('(function () { KSR.x.exit(); })();\n')).toThrow(/IIFE wrapper .*var NAME = \(\(\) => \{/);
  });
});
