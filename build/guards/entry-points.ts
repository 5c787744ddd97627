/**
 * Runs the bundle twice in a Node vm context (app_jsdt reload re-runs the file
 * in the same global context) with a KSR stub, then lists the `ksr_*` global
 * functions. Refuses a bundle that throws while loading (Kamailio then exits
 * with 255) and one without `ksr_request_route` (Kamailio drops every request).
 */
import { runInContext, createContext } from 'node:vm';
import { GuardRefusal, type BundleUnderCheck } from './refusal.ts';

const REQUEST_ROUTE = 'ksr_request_route';

const LOAD_TIMEOUT_MS = 2_000;

export interface EntryPointsResult {
  readonly refusals: GuardRefusal[];
  /** Global `ksr_*` functions; undefined when the bundle did not load. */
  readonly globals: ReadonlySet<string> | undefined;
}

export function checkEntryPoints(bundle: BundleUnderCheck): EntryPointsResult {
  const context = createContext({ KSR: anythingKsr() });
  for (const attempt of ['load', 'reload'] as const) {
    try {
      runInContext(bundle.code, context, { filename: bundle.fileName, timeout: LOAD_TIMEOUT_MS });
    } catch (error) {
      return { refusals: [loadRefusal(bundle, error, attempt)], globals: undefined };
    }
  }
  const globals = new Set(
    Object.keys(context).filter((name) => name.startsWith('ksr_') && typeof context[name] === 'function'),
  );
  if (globals.has(REQUEST_ROUTE)) return { refusals: [], globals };
  const found = globals.size > 0 ? [...globals].join(', ') : 'none';
  return {
    refusals: [
      new GuardRefusal(
        'entry-points',
        `${REQUEST_ROUTE} is not a global function of ${bundle.fileName} (ksr_* globals found: ${found}): ` +
          'export it from the entry module; without it Kamailio drops every request',
      ),
    ],
    globals,
  };
}

/** A KSR where every member exists and every call returns 1, so top-level code can run. */
function anythingKsr(): unknown {
  const proxy: unknown = new Proxy(() => 1, { get: () => proxy, apply: () => 1 });
  return proxy;
}

function loadRefusal(bundle: BundleUnderCheck, error: unknown, attempt: 'load' | 'reload'): GuardRefusal {
  // Errors from the vm belong to another realm, so `instanceof Error` would be false.
  const thrown = typeof error === 'object' && error !== null ? (error as { stack?: unknown; message?: unknown }) : {};
  const stack = String(thrown.stack ?? '');
  const message = thrown.message === undefined ? String(error) : String(thrown.message);
  const frame = new RegExp(`${escapeRegExp(bundle.fileName)}:(\\d+):(\\d+)`).exec(stack);
  const where = frame ? bundle.locator.describe(Number(frame[1]), Number(frame[2]) - 1) : bundle.fileName;
  const when =
    attempt === 'load'
      ? 'throws while loading (Kamailio would exit with code 255)'
      : 'throws when loaded a second time in the same context (app_jsdt reload does that)';
  return new GuardRefusal('entry-points', `${bundle.fileName} ${when}: ${message} at ${where}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
