/**
 * The whole build as one function: type check, compile, guards, Duktape load
 * check, then write. dist/ is touched only when everything passed, so a
 * refused build leaves the bundle Kamailio is running intact.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkInDuktape, duktapeVersion } from '../duktape/check.ts';
import { checkNoTryInRouting } from '../guards/no-try-in-routing.ts';
import { GuardRefusal } from '../guards/refusal.ts';
import { runBundleGuards } from '../guards/run-guards.ts';
import { loadApiList, type KemiApi } from '../kemi/api-list.ts';
import { createStackMapper } from '../map-stack.ts';
import { sha256Hex } from './build-id.ts';
import { compileBundle, type CompiledBundle } from './compile.ts';
import { SourceLocator } from './source-locator.ts';
import { typeCheck } from './typecheck.ts';
import { writeFileAtomic } from './write-atomic.ts';

export const BUNDLE_FILE = 'kamailio.js';

export interface BuildOptions {
  readonly projectRoot: string;
  readonly entry: string;
  readonly outDir: string;
  readonly tsconfig: string;
  /** `tsc --noEmit` over tsconfig first; off for fixtures, which are not part of that project. */
  readonly typeCheck: boolean;
  /** Kamailio cfg whose event_callback names must exist; ignored when the file does not exist. */
  readonly cfgPath: string;
  readonly apiListPath: string | URL;
  /** Load the bundle in `duk` when it is installed. */
  readonly duktape: boolean;
}

export interface BuildInfo {
  readonly buildId: string;
  readonly bytes: number;
  /** Of the file as written (the build id is computed before stamping; see build-id.ts). */
  readonly sha256: string;
  readonly builtAt: string;
  readonly entry: string;
}

export interface BuildReport {
  readonly ok: boolean;
  /** Why the build was refused: one Error per problem, each naming its location. */
  readonly problems: readonly Error[];
  /** Things worth showing that did not refuse the build (a skipped check). */
  readonly notes: readonly string[];
  readonly info?: BuildInfo;
  readonly bundlePath: string;
}

export async function runBuild(options: BuildOptions): Promise<BuildReport> {
  const bundlePath = join(options.outDir, BUNDLE_FILE);
  const problems: Error[] = [];
  const notes: string[] = [];
  if (options.typeCheck) problems.push(...typeCheck(options.tsconfig, options.projectRoot).map((d) => new Error(d)));
  problems.push(...checkNoTryInRouting(join(dirname(options.entry), 'routing'), options.projectRoot));

  let compiled: CompiledBundle;
  try {
    compiled = await compileBundle({ ...options, outFile: bundlePath });
  } catch (error) {
    // esbuild's messages already name file:line:col (an import that does not resolve, a syntax error).
    problems.push(error instanceof Error ? error : new Error(String(error)));
    return { ok: false, problems, notes, bundlePath };
  }
  for (const call of compiled.facade.skipped) {
    notes.push(`${displayPath(call.file, options.projectRoot)}:${call.line}: ${call.call} calls its facade wrapper (not inlined: ${call.reason})`);
  }
  const locator = new SourceLocator(compiled.map, options.outDir, options.projectRoot, BUNDLE_FILE);
  const apiListFile = options.apiListPath instanceof URL ? fileURLToPath(options.apiListPath) : options.apiListPath;
  const api = loadApiList(apiListFile);
  problems.push(
    ...runBundleGuards(
      { code: compiled.code, fileName: BUNDLE_FILE, locator },
      { api, apiListName: displayPath(apiListFile, options.projectRoot), cfgPath: options.cfgPath },
    ),
  );
  if (problems.length === 0 && options.duktape) {
    if (duktapeVersion() === undefined) notes.push('duk (Duktape CLI) is not installed: skipped the Duktape load check');
    else problems.push(...loadInDuktape(compiled, api, createStackMapper(locator, compiled.code)));
  }
  if (problems.length > 0) return { ok: false, problems, notes, bundlePath };

  const info: BuildInfo = {
    buildId: compiled.buildId,
    bytes: Buffer.byteLength(compiled.code),
    sha256: sha256Hex(compiled.code),
    builtAt: new Date().toISOString(),
    entry: displayPath(options.entry, options.projectRoot),
  };
  // The map first: a bundle on disk never points at a map that is not there yet.
  writeFileAtomic(`${bundlePath}.map`, compiled.map);
  writeFileAtomic(bundlePath, compiled.code);
  writeFileAtomic(join(options.outDir, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
  return { ok: true, problems, notes, info, bundlePath };
}

/** Checks a copy outside dist/, so a bundle Duktape refuses never reaches Kamailio. */
function loadInDuktape(compiled: CompiledBundle, api: KemiApi, mapStack: (text: string) => string): GuardRefusal[] {
  const dir = mkdtempSync(join(tmpdir(), 'ksr-build-'));
  try {
    const path = join(dir, BUNDLE_FILE);
    writeFileSync(path, compiled.code);
    const result = checkInDuktape(path, { api, mapStack });
    return result.problems.map((problem) => new GuardRefusal('duktape-load', problem));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function displayPath(path: string, projectRoot: string): string {
  const inProject = relative(projectRoot, path);
  return (inProject.startsWith('..') ? basename(path) : inProject).split(sep).join('/');
}
