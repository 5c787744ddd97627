/**
 * `npm start`'s automatic reload: watches src/ and, a moment after the last
 * change, runs the same reload as `npm run reload` (build with type check,
 * every guard, Duktape, install, app_jsdt.reload, per-worker confirmation).
 * A build that fails prints why (file:line) and Kamailio keeps the running
 * version; the next change tries again. A change that does not alter the
 * bundle (a comment, a type) is reported and not reloaded.
 *
 *   node --import tsx build/reload/watch.ts [--src src] [--entry src/main.ts] [--no-typecheck]
 *
 * Environment as for npm run reload (RUN_DIR, KEMI_BUNDLE). SIGINT/SIGTERM
 * stop it at once (scripts/start.sh stops it by PID with Kamailio).
 */
import { watch, type FSWatcher } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { contextFromEnv, formatReloadReport } from './cli.ts';
import { reloadRouting, type BuildSource, type ReloadContext } from './reload.ts';

const DEBOUNCE_MS = 400;

export interface Watcher {
  close(): void;
}

/**
 * @param say the watcher's own lines (prefixed by the caller)
 * @param print the reload's result lines, which carry their own prefix
 */
export function watchAndReload(
  context: ReloadContext,
  srcDir: string,
  source: BuildSource,
  say: (line: string) => void,
  print: (line: string) => void = say,
): Watcher {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let closed = false;
  const changed = new Set<string>();

  const reload = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    const files = [...changed].sort();
    changed.clear();
    say(`${files.slice(0, 3).join(', ')}${files.length > 3 ? ` and ${files.length - 3} more` : ''} changed: reloading`);
    try {
      const report = await reloadRouting(context, source);
      if (closed) return;
      for (const line of formatReloadReport(report, 'reload')) print(line);
    } catch (error) {
      say(`✗ ${error instanceof Error ? error.message : String(error)}; the running version stays`);
    } finally {
      running = false;
      if (again && !closed) {
        again = false;
        void reload();
      }
    }
  };

  const watcher: FSWatcher = watch(srcDir, { recursive: true }, (_event, file) => {
    if (closed || file === null || !/\.(ts|json)$/.test(file)) return;
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), DEBOUNCE_MS);
  });
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

function main(): void {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      src: { type: 'string', default: 'src' },
      entry: { type: 'string', default: 'src/main.ts' },
      tsconfig: { type: 'string', default: 'tsconfig.json' },
      'no-typecheck': { type: 'boolean', default: false },
    },
  });
  const say = (line: string): void => void process.stdout.write(`reload: ${line}\n`);
  const context = { ...contextFromEnv(process.env, { timeoutS: 10, skipDuktape: false }), skipUnchanged: true, log: say };
  const srcDir = resolve(PROJECT_DIR, values.src);
  const watcher = watchAndReload(
    context,
    srcDir,
    { entry: resolve(PROJECT_DIR, values.entry), tsconfig: resolve(PROJECT_DIR, values.tsconfig), typeCheck: !values['no-typecheck'] },
    say,
    (line) => void process.stdout.write(`${line}\n`),
  );
  say(`watching ${srcDir}: a change is built, checked and reloaded into the running Kamailio (${context.bundlePath})`);
  const stop = (): void => {
    watcher.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
