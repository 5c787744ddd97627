/**
 * Hot reload of the routing in a running Kamailio, in the order that keeps a
 * bad bundle away from it:
 *
 *   1. Kamailio answers on its ctl socket; fetch its KEMI API list (app_jsdt.api_list)
 *   2. build into a staging directory, never where Kamailio reads: type check,
 *      compile, every build guard, Duktape load check, all against that API list
 *      (rollback: the guards and the Duktape check on the previous bundle)
 *   3. load the new bundle over the running one in Duktape, as app_jsdt will
 *   4. install atomically at KEMI_BUNDLE, keeping the running one as previous/
 *   5. app_jsdt.reload over the ctl socket
 *   6. confirm: every UDP and TCP worker answers a keepalive with the new build id
 *
 * A refusal at steps 1-3 leaves every file as it was and Kamailio untouched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBuild, type BuildInfo } from '../bundle/pipeline.ts';
import { duktapeVersion } from '../duktape/check.ts';
import { loadApiList, type KemiApi } from '../kemi/api-list.ts';
import { apiListTextWith, optionalModulesOfCfg, withOptionalModules } from '../kemi/optional-modules.ts';
import { confirmWorkers, type Confirmation } from './confirm.ts';
import { KamailioUnreachable, type KamailioRpc } from './kamailio-rpc.ts';
import { installInto, lockReload, readBuildInfo, readSlot, ReloadBusy, slotsFor, type BundleFiles } from './install.ts';
import { checkOverRunning, validateBuiltBundle } from './validate.ts';

export interface ReloadContext {
  readonly projectRoot: string;
  /** KEMI_BUNDLE: the file app_jsdt loads. */
  readonly bundlePath: string;
  readonly rpc: KamailioRpc;
  /** Checked for event_callback names, as in the build. */
  readonly cfgPath: string;
  /** How long every worker has to answer with the new build. */
  readonly confirmTimeoutMs: number;
  /** A bundle identical to the installed one is not reloaded (npm start's watcher: a comment changed). */
  readonly skipUnchanged?: boolean;
  /** Run without the Duktape checks when `duk` is missing (otherwise that refuses the reload). */
  readonly skipDuktape?: boolean;
  /** Progress lines, as they happen. */
  readonly log?: (line: string) => void;
}

/** What to reload: TypeScript to build, or a bundle built earlier (by CI, say) with its map and build-info.json. */
export type BuildSource =
  | { readonly entry: string; readonly tsconfig: string; readonly typeCheck: boolean }
  | { readonly bundle: string };

export type ReloadOutcome = 'reloaded' | 'unchanged' | 'refused' | 'unreachable' | 'busy' | 'unconfirmed';

export interface ReloadReport {
  readonly outcome: ReloadOutcome;
  /** Why it was refused or failed, each naming its file:line where there is one. */
  readonly problems: readonly string[];
  readonly notes: readonly string[];
  /** The build Kamailio ran before (KEMI_BUNDLE's build-info.json). */
  readonly from?: BuildInfo;
  /** The build installed (or refused). */
  readonly to?: BuildInfo;
  /** The new bundle is the one already installed: nothing was written, workers were still asked. */
  readonly unchanged?: boolean;
  /** ksr_* globals of the running build that the new one removes. */
  readonly removedCallbacks?: readonly string[];
  readonly confirmation?: Confirmation;
  /** Milliseconds per step. */
  readonly timings: Readonly<Record<'prepare' | 'install' | 'rpc' | 'confirm' | 'total', number>>;
}

interface Step {
  files?: BundleFiles;
  problems: string[];
  notes: string[];
}

/** `npm run reload`: build `source` (or take a built bundle), validate, install, reload, confirm. */
export function reloadRouting(context: ReloadContext, source: BuildSource): Promise<ReloadReport> {
  if ('bundle' in source) {
    return run(context, 'reload', async (api, apiListPath) => {
      const built = readSlot(slotsFor(source.bundle).current);
      if (!built) {
        return { problems: [`${source.bundle} with build-info.json next to it is required (npm run build writes both)`], notes: [] };
      }
      context.log?.(`checking ${source.bundle} (${built.info.buildId}) against the running Kamailio's KEMI API (${api.functions.length} functions)`);
      return { files: built, problems: validateBuilt(built, api, apiListPath, context), notes: [] };
    });
  }
  return run(context, 'reload', async (api, apiListPath) => {
    const staging = mkdtempSync(join(tmpdir(), 'ksr-reload-'));
    try {
      context.log?.(`building ${display(source.entry, context.projectRoot)} against the running Kamailio's KEMI API (${api.functions.length} functions)`);
      const report = await runBuild({
        projectRoot: context.projectRoot,
        entry: source.entry,
        outDir: staging,
        tsconfig: source.tsconfig,
        cfgPath: context.cfgPath,
        apiListPath,
        typeCheck: source.typeCheck,
        duktape: !context.skipDuktape,
      });
      const step: Step = { problems: report.problems.map((p) => p.message), notes: [...report.notes] };
      if (report.ok && report.info) {
        const slot = slotsFor(join(staging, 'kamailio.js')).current;
        step.files = { code: readFileSync(slot.bundle, 'utf8'), map: readFileSync(slot.map, 'utf8'), mapDir: staging, info: report.info };
      }
      return step;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  });
}

/** `npm run rollback`: the previous bundle back, validated, installed, reloaded, confirmed. */
export function rollbackRouting(context: ReloadContext): Promise<ReloadReport> {
  return run(context, 'rollback', async (api, apiListPath) => {
    const previous = readSlot(slotsFor(context.bundlePath).previous);
    if (!previous) {
      return { problems: [`no previous bundle in ${slotsFor(context.bundlePath).previous.bundle}: nothing to roll back to`], notes: [] };
    }
    context.log?.(`checking the previous bundle ${previous.info.buildId} against the running Kamailio's KEMI API (${api.functions.length} functions)`);
    return { files: previous, problems: validateBuilt(previous, api, apiListPath, context), notes: [] };
  });
}

function validateBuilt(files: BundleFiles, api: KemiApi, apiListPath: string, context: ReloadContext): string[] {
  return validateBuiltBundle(files, {
    api,
    apiListName: basename(apiListPath),
    cfgPath: context.cfgPath,
    projectRoot: context.projectRoot,
    duktape: !context.skipDuktape,
  }).map((p) => p.message);
}

async function run(
  context: ReloadContext,
  kind: 'reload' | 'rollback',
  prepare: (api: KemiApi, apiListPath: string) => Promise<Step>,
): Promise<ReloadReport> {
  const started = performance.now();
  const timings = { prepare: 0, install: 0, rpc: 0, confirm: 0, total: 0 };
  const done = (report: Omit<ReloadReport, 'timings'>): ReloadReport => {
    timings.total = performance.now() - started;
    return { ...report, timings };
  };
  const slots = slotsFor(context.bundlePath);
  const from = readBuildInfo(slots.current);

  if (!context.skipDuktape && duktapeVersion() === undefined) {
    return done({
      outcome: 'refused',
      problems: ['duk (the Duktape 2.7 CLI, Debian package duktape) is not installed: the bundle cannot be checked the way app_jsdt loads it'],
      notes: [],
      ...(from ? { from } : {}),
    });
  }

  let release: () => void;
  try {
    release = lockReload(context.bundlePath);
  } catch (error) {
    if (error instanceof ReloadBusy) return done({ outcome: 'busy', problems: [error.message], notes: [], ...(from ? { from } : {}) });
    throw error;
  }
  const work = mkdtempSync(join(tmpdir(), 'ksr-api-'));
  try {
    // 1. The running Kamailio and its API.
    let api: KemiApi;
    // Named so that refusals read "not in the KEMI API list app_jsdt.api_list-of-the-running-kamailio".
    const apiListPath = join(work, 'app_jsdt.api_list-of-the-running-kamailio');
    try {
      const version = await context.rpc.version();
      const list = await context.rpc.apiList();
      // Modules the cfg loads only under #!ifdef (dmq, tls...) may be absent
      // here; the routing guards their calls, so they are accepted (noted).
      const optional = withOptionalModules(list.api, loadApiList(), optionalModulesOfCfg(context.cfgPath));
      api = optional.api;
      const extra = api.functions.slice(list.api.functions.length);
      writeFileSync(apiListPath, apiListTextWith(list.text, extra));
      if (optional.added.length > 0) {
        context.log?.(`modules not loaded by the running Kamailio but optional in ${basename(context.cfgPath)}: ${optional.added.join(', ')} (their calls must be guarded)`);
      }
      context.log?.(`${version.replace(/^version: /, '')} on ${context.rpc.ctl}, running build ${from?.buildId ?? 'unknown'} (${context.bundlePath})`);
    } catch (error) {
      if (error instanceof KamailioUnreachable) {
        return done({ outcome: 'unreachable', problems: [`${error.message}; nothing was installed`], notes: [], ...(from ? { from } : {}) });
      }
      throw error;
    }

    // 2-3. Build or read, validate.
    const prepareStart = performance.now();
    const step = await prepare(api, apiListPath);
    const files = step.files;
    let removed: string[] = [];
    if (files && step.problems.length === 0 && !context.skipDuktape) {
      const running = readSlot(slots.current);
      if (running) {
        const over = checkOverRunning(running.code, files, api, context.projectRoot);
        step.problems.push(...over.problems.map((p) => p.message));
        removed = [...over.removed];
      }
    }
    timings.prepare = performance.now() - prepareStart;
    const base = {
      notes: step.notes,
      ...(from ? { from } : {}),
      ...(files ? { to: files.info } : {}),
    };
    if (!files || step.problems.length > 0) {
      return done({ outcome: 'refused', problems: step.problems, ...base });
    }
    const unchanged = from !== undefined && from.sha256 === files.info.sha256 && kind === 'reload';
    if (unchanged && context.skipUnchanged) {
      return done({ outcome: 'unchanged', problems: [], unchanged, ...base });
    }
    context.log?.(
      `✓ ${kind === 'reload' ? 'built' : 'checked'} ${files.info.buildId}: ${(files.info.bytes / 1024).toFixed(1)} KiB, every guard passed` +
        `${context.skipDuktape ? '' : ', loads in Duktape 2.7 over the running build'}` +
        (removed.length > 0 ? ` (removes callbacks ${removed.join(', ')})` : ''),
    );

    // 4. Install.
    const installStart = performance.now();
    if (unchanged) {
      context.log?.(`${files.info.buildId} is already installed at ${context.bundlePath}: nothing written`);
    } else {
      const current = readSlot(slots.current);
      if (current) installInto(current, slots.previous);
      installInto(files, slots.current);
      context.log?.(`installed ${context.bundlePath}${current ? ` (${current.info.buildId} kept in ${slots.previous.bundle})` : ''}`);
    }
    timings.install = performance.now() - installStart;

    // 5. Reload.
    const rpcStart = performance.now();
    let counter: { old: number; new: number };
    try {
      counter = await context.rpc.reload();
    } catch (error) {
      timings.rpc = performance.now() - rpcStart;
      const why = error instanceof Error ? error.message : String(error);
      return done({
        outcome: 'unconfirmed',
        problems: [
          `${files.info.buildId} is installed at ${context.bundlePath} but app_jsdt.reload failed (${why}): ` +
            'Kamailio loads it at the next reload or restart; npm run rollback puts the previous one back',
        ],
        ...base,
      });
    }
    timings.rpc = performance.now() - rpcStart;
    context.log?.(`app_jsdt.reload: version ${counter.old} -> ${counter.new}; every process re-reads the file before its next routing call`);

    // 6. Confirm.
    const confirmStart = performance.now();
    const confirmation = await confirmWorkers(context.rpc, { expected: files.info.buildId, timeoutMs: context.confirmTimeoutMs });
    timings.confirm = performance.now() - confirmStart;
    const report = { ...base, ...(unchanged ? { unchanged } : {}), removedCallbacks: removed, confirmation };
    if (!confirmation.ok) {
      return done({ outcome: 'unconfirmed', problems: unconfirmedProblems(confirmation, from?.buildId, context.confirmTimeoutMs), ...report });
    }
    return done({ outcome: 'reloaded', problems: [], ...report });
  } finally {
    rmSync(work, { recursive: true, force: true });
    release();
  }
}

function unconfirmedProblems(confirmation: Confirmation, previous: string | undefined, timeoutMs: number): string[] {
  const problems: string[] = [];
  if (confirmation.workers.length === 0) problems.push('core.psx lists no UDP or TCP receiver to ask');
  for (const worker of confirmation.workers) {
    if (worker.buildId === confirmation.expected) continue;
    const who = `pid ${worker.process.pid} (${worker.process.description})`;
    if (worker.buildId === undefined) {
      problems.push(`${who} did not answer a keepalive within ${timeoutMs} ms`);
    } else {
      problems.push(
        `${who} still runs ${worker.buildId}${worker.buildId === previous ? ' (the previous build)' : ''}: app_jsdt could not load the ` +
          "new file in that process and keeps its old code (Kamailio's log: jsdt_kemi_load_script(): failed running); " +
          'fix it and reload again, or npm run rollback',
      );
    }
  }
  return problems;
}

function display(path: string, root: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

export interface StatusReport {
  readonly reachable: boolean;
  readonly problems: readonly string[];
  readonly installed?: BuildInfo;
  readonly previous?: BuildInfo;
  readonly confirmation?: Confirmation;
}

/** `npm run reload:status`: which build is installed, kept for rollback, and run by each worker. */
export async function routingStatus(context: ReloadContext): Promise<StatusReport> {
  const slots = slotsFor(context.bundlePath);
  const installed = readBuildInfo(slots.current);
  const previous = readBuildInfo(slots.previous);
  const known = { ...(installed ? { installed } : {}), ...(previous ? { previous } : {}) };
  try {
    context.log?.(`${(await context.rpc.version()).replace(/^version: /, '')} on ${context.rpc.ctl}`);
  } catch (error) {
    if (error instanceof KamailioUnreachable) return { reachable: false, problems: [error.message], ...known };
    throw error;
  }
  const confirmation = await confirmWorkers(context.rpc, { timeoutMs: context.confirmTimeoutMs });
  const problems = confirmation.workers
    .filter((w) => w.buildId === undefined)
    .map((w) => `pid ${w.process.pid} (${w.process.description}) did not answer a keepalive within ${context.confirmTimeoutMs} ms`);
  return { reachable: true, problems, confirmation, ...known };
}
