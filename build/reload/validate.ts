/**
 * Checks run on a bundle that is about to replace the running one:
 * - for a bundle already built (rollback): the build's bundle guards and the
 *   Duktape load check again, against the RUNNING Kamailio's KEMI API list;
 * - for every bundle: what app_jsdt.reload really does, in the real Duktape
 *   2.7: the running bundle first, then the new one in the same context. The
 *   new one must load there, and the `ksr_*` globals left afterwards must be
 *   exactly its own (no callback of the old version survives).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_FILE } from '../bundle/pipeline.ts';
import { SourceLocator } from '../bundle/source-locator.ts';
import { checkInDuktape, duktapeVersion } from '../duktape/check.ts';
import { FIRST_LOAD_MARKER, FIRST_LOAD_SCRIPT, probeScript, RESULT_MARKER, type ProbeResult } from '../duktape/probe.ts';
import { generateStubKsr } from '../duktape/stub-ksr.ts';
import { GuardRefusal } from '../guards/refusal.ts';
import { runBundleGuards } from '../guards/run-guards.ts';
import type { KemiApi } from '../kemi/api-list.ts';
import { createStackMapper } from '../map-stack.ts';
import type { BundleFiles } from './install.ts';

export interface ValidateOptions {
  readonly api: KemiApi;
  /** How messages name the API list. */
  readonly apiListName: string;
  readonly cfgPath: string;
  readonly projectRoot: string;
  /** Run the Duktape load check (default true; it is skipped anyway when duk is missing). */
  readonly duktape?: boolean;
}

/** The build's guards and Duktape load check on a bundle that was built earlier. */
export function validateBuiltBundle(files: BundleFiles, options: ValidateOptions): Error[] {
  const locator = new SourceLocator(files.map, files.mapDir, options.projectRoot, BUNDLE_FILE);
  const problems: Error[] = runBundleGuards(
    { code: files.code, fileName: BUNDLE_FILE, locator },
    { api: options.api, apiListName: options.apiListName, cfgPath: options.cfgPath },
  );
  if (problems.length > 0 || options.duktape === false || duktapeVersion() === undefined) return problems;
  const dir = mkdtempSync(join(tmpdir(), 'ksr-validate-'));
  try {
    const path = join(dir, BUNDLE_FILE);
    writeFileSync(path, files.code);
    const result = checkInDuktape(path, { api: options.api, mapStack: createStackMapper(locator, files.code) });
    return result.problems.map((problem) => new GuardRefusal('duktape-load', problem));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface OverRunningResult {
  readonly problems: Error[];
  /** `ksr_*` globals the running bundle had that the new one removes. */
  readonly removed: readonly string[];
}

/**
 * Loads `running` then `next` into one Duktape context, as app_jsdt.reload
 * does, and compares the `ksr_*` globals left with those of `next` alone.
 */
export function checkOverRunning(running: string, next: BundleFiles, api: KemiApi, projectRoot: string, dukPath = 'duk'): OverRunningResult {
  const locator = new SourceLocator(next.map, next.mapDir, projectRoot, BUNDLE_FILE);
  const mapStack = createStackMapper(locator, next.code);
  const dir = mkdtempSync(join(tmpdir(), 'ksr-over-running-'));
  try {
    const stub = join(dir, 'stub-ksr.js');
    const old = join(dir, 'running.js');
    const mark = join(dir, 'first-load.js');
    const fresh = join(dir, 'fresh.js');
    const nextPath = join(dir, BUNDLE_FILE);
    const probe = join(dir, 'probe.js');
    writeFileSync(stub, generateStubKsr(api));
    writeFileSync(old, running);
    writeFileSync(mark, FIRST_LOAD_SCRIPT);
    writeFileSync(nextPath, next.code);
    writeFileSync(probe, probeScript(false));
    // A fresh context first: the globals `next` defines on its own.
    writeFileSync(fresh, '');
    const alone = runDuk(dukPath, [stub, nextPath, mark, fresh, probe]);
    const over = runDuk(dukPath, [stub, old, mark, nextPath, probe]);
    if (!over.loadedFirst) {
      // The running bundle does not load in the stub (an old hand-written one):
      // nothing to compare against, the plain load check still applies.
      return { problems: [], removed: [] };
    }
    if (!over.result || !alone.result) {
      const said = mapStack((over.stderr || alone.stderr).replace(/^error in executing file .*$/m, '').trim());
      return {
        problems: [new GuardRefusal('duktape-load', `Duktape could not load the new bundle over the running one (app_jsdt.reload does that): ${said}`)],
        removed: [],
      };
    }
    const own = new Set(alone.result.globals);
    const left = over.result.globals;
    const stale = left.filter((name) => !own.has(name));
    const problems =
      stale.length > 0
        ? [
            new GuardRefusal(
              'duktape-load',
              `after loading over the running bundle, ${stale.join(', ')} (not in the new bundle) would still be global ` +
                'functions: the bundle footer must delete stale ksr_* globals (build/bundle/ksr-globals-footer.ts)',
            ),
          ]
        : [];
    const before = runDuk(dukPath, [stub, old, mark, fresh, probe]).result?.globals ?? [];
    return { problems, removed: before.filter((name) => !own.has(name)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runDuk(dukPath: string, files: string[]): { loadedFirst: boolean; result: ProbeResult | undefined; stderr: string } {
  const run = spawnSync(dukPath, files, { encoding: 'utf8', timeout: 10_000 });
  const stdout = (run.stdout ?? '').split('\n');
  const line = stdout.find((l) => l.startsWith(RESULT_MARKER));
  return {
    loadedFirst: stdout.includes(FIRST_LOAD_MARKER),
    result: line ? (JSON.parse(line.slice(RESULT_MARKER.length)) as ProbeResult) : undefined,
    stderr: run.stderr ?? String(run.error ?? ''),
  };
}
