/**
 * Loads a bundle in the real Duktape 2.7 (Debian's `duk`, the engine version
 * of Kamailio 5.6's app_jsdt) the way app_jsdt does: after a KSR stub, in one
 * global context, twice (reload re-runs the file in the same context). This
 * catches what a parser and Node cannot: Duktape's own syntax limits and
 * missing built-ins hit at load time. Reused by the hot-reload tool.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadApiList, type KemiApi } from '../kemi/api-list.ts';
import { FIRST_LOAD_MARKER, FIRST_LOAD_SCRIPT, probeScript, RESULT_MARKER, type ProbeResult } from './probe.ts';
import { generateStubKsr } from './stub-ksr.ts';

export interface DuktapeCheckOptions {
  /** Defaults to build/kemi's API list. */
  readonly api?: KemiApi;
  /** Call ksr_request_route once after loading and report what it threw. */
  readonly callRequestRoute?: boolean;
  readonly dukPath?: string;
  /** Rewrites Duktape's stack lines to TypeScript positions (see map-stack.ts). */
  readonly mapStack?: (text: string) => string;
  readonly timeoutMs?: number;
}

export interface DuktapeCheckResult {
  readonly ok: boolean;
  /** Why the bundle would fail in app_jsdt, in Duktape's own words. Empty when ok. */
  readonly problems: readonly string[];
  readonly globals: readonly string[];
  readonly routeError: string | null;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Duktape's version number (20700 for 2.7.0), or undefined when `duk` is not installed. */
export function duktapeVersion(dukPath = 'duk'): number | undefined {
  const run = spawnSync(dukPath, ['-e', 'print(Duktape.version)'], { encoding: 'utf8' });
  return run.status === 0 ? Number(run.stdout.trim()) : undefined;
}

export function checkInDuktape(bundlePath: string, options: DuktapeCheckOptions = {}): DuktapeCheckResult {
  const workDir = mkdtempSync(join(tmpdir(), 'ksr-duktape-'));
  try {
    const stubPath = join(workDir, 'stub-ksr.js');
    const markPath = join(workDir, 'first-load.js');
    const probePath = join(workDir, 'probe.js');
    writeFileSync(stubPath, generateStubKsr(options.api ?? loadApiList()));
    writeFileSync(markPath, FIRST_LOAD_SCRIPT);
    writeFileSync(probePath, probeScript(options.callRequestRoute ?? false));
    const run = spawnSync(options.dukPath ?? 'duk', [stubPath, bundlePath, markPath, bundlePath, probePath], {
      encoding: 'utf8',
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    return interpret(run, options.mapStack ?? ((text) => text));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function interpret(run: SpawnSyncReturns<string>, mapStack: (text: string) => string): DuktapeCheckResult {
  const failed = (problem: string): DuktapeCheckResult => ({
    ok: false,
    problems: [problem],
    globals: [],
    routeError: null,
  });
  if (run.error) {
    const timedOut = (run.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    return failed(timedOut ? 'Duktape did not finish loading the bundle (endless loop at top level?)' : String(run.error));
  }
  const stdout = run.stdout.split('\n');
  const duktapeSays = mapStack(run.stderr.replace(/^error in executing file .*$/m, '').trim());
  const resultLine = stdout.find((line) => line.startsWith(RESULT_MARKER));
  if (!stdout.includes(FIRST_LOAD_MARKER)) return failed(`Duktape could not load the bundle: ${duktapeSays}`);
  if (!resultLine) {
    return failed(
      `Duktape could not load the bundle a second time in the same context (app_jsdt reload does that): ${duktapeSays}`,
    );
  }
  const result = JSON.parse(resultLine.slice(RESULT_MARKER.length)) as ProbeResult;
  const routeError = result.routeError === null ? null : mapStack(result.routeError);
  const problems =
    result.requestRoute === 'function'
      ? []
      : [`ksr_request_route is ${result.requestRoute} in Duktape after loading the bundle, not a global function`];
  return { ok: problems.length === 0, problems, globals: result.globals, routeError };
}
