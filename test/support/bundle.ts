/**
 * Bundles for tests that run the real Kamailio: the project's own build
 * (dist/kamailio.js, as `npm run build` writes it) or a hand-written one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';

export interface ProjectBundle {
  readonly path: string;
  /** The build id stamped into the bundle (dist/build-info.json). */
  readonly buildId: string;
}

/**
 * dist/kamailio.js with its build id. `npm test` builds before running the
 * tests; when the bundle is missing (vitest run on its own), build it now.
 */
export function projectBundle(): ProjectBundle {
  const path = join(PROJECT_DIR, 'dist', 'kamailio.js');
  const info = join(PROJECT_DIR, 'dist', 'build-info.json');
  if (!existsSync(path) || !existsSync(info)) {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_DIR, stdio: 'inherit' });
  }
  const { buildId } = JSON.parse(readFileSync(info, 'utf8')) as { buildId: string };
  return { path, buildId };
}

/** Writes ES5 source to a temp file for app_jsdt to load; returns its path. */
export function writeBundle(source: string, name = 'bundle.js'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ksr-bundle-')), name);
  writeFileSync(path, source);
  return path;
}
