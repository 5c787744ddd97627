/** Options for building the fixtures under test/fixtures/build into throwaway output folders. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BuildOptions } from '../../build/bundle/pipeline.ts';
import { DEFAULT_API_LIST } from '../../build/kemi/api-list.ts';

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/build');

/** Fixtures are not part of tsconfig.json's project, so the type check is off. */
export function fixtureBuild(fixture: string, overrides: Partial<BuildOptions> = {}): BuildOptions {
  return {
    projectRoot: PROJECT_ROOT,
    entry: join(FIXTURES, fixture, 'main.ts'),
    outDir: join(mkdtempSync(join(tmpdir(), `build-${fixture}-`)), 'dist'),
    tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
    typeCheck: false,
    cfgPath: join(FIXTURES, fixture, 'kamailio.cfg'),
    apiListPath: DEFAULT_API_LIST,
    duktape: true,
    ...overrides,
  };
}
