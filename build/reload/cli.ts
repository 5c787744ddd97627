/**
 * Changing the routing of a running Kamailio:
 *
 *   npm run reload   [-- --entry src/main.ts --no-typecheck --timeout 10 --skip-duktape]
 *   npm run reload -- --bundle path/to/kamailio.js   (built earlier, build-info.json and map next to it)
 *   npm run rollback [-- --timeout 10]
 *   npm run reload:status
 *
 * Kamailio is found as kamailio.cfg puts it: ctl socket unix:$RUN_DIR/kamailio_ctl,
 * bundle at $KEMI_BUNDLE (defaults as in scripts/lib/env.ts: ./run, ./dist/kamailio.js).
 *
 * Exit status: 0 done and confirmed by every worker; 1 refused (nothing
 * installed, Kamailio untouched), Kamailio not reachable, or another reload
 * in progress; 2 installed and reloaded, but some worker did not confirm the
 * new build within the time bound (named in the output).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PROJECT_DIR, resolveDeployment } from '../../scripts/lib/env.ts';
import { formatConfirmation } from './confirm.ts';
import { KamailioRpc } from './kamailio-rpc.ts';
import { reloadRouting, rollbackRouting, routingStatus, type ReloadContext, type ReloadReport, type StatusReport } from './reload.ts';

export const EXIT = { ok: 0, refused: 1, unconfirmed: 2 } as const;

export function contextFromEnv(
  env: NodeJS.ProcessEnv,
  options: { timeoutS: number; skipDuktape: boolean; log?: (line: string) => void },
): ReloadContext {
  const dep = resolveDeployment(env, PROJECT_DIR);
  return {
    projectRoot: PROJECT_DIR,
    bundlePath: dep.KEMI_BUNDLE,
    rpc: KamailioRpc.forRunDir(dep.RUN_DIR),
    cfgPath: resolve(PROJECT_DIR, 'kamailio.cfg'),
    confirmTimeoutMs: options.timeoutS * 1000,
    skipDuktape: options.skipDuktape,
    ...(options.log ? { log: options.log } : {}),
  };
}

/** The report as the CLI prints it after the progress lines. */
export function formatReloadReport(report: ReloadReport, kind: 'reload' | 'rollback'): string[] {
  const lines: string[] = [];
  const to = report.to?.buildId ?? 'the new build';
  const running = report.from?.buildId ?? 'its current build';
  if (report.confirmation) lines.push(...formatConfirmation(report.confirmation, report.from?.buildId));
  for (const note of report.notes) lines.push(`note: ${note}`);
  switch (report.outcome) {
    case 'reloaded': {
      const c = report.confirmation!;
      const slowest = Math.max(0, ...c.workers.map((w) => w.confirmedAfterMs ?? 0));
      lines.push(
        `${kind}: ✓ all ${c.workers.length} SIP workers run ${to} ` +
          `(confirmed within ${Math.round(slowest)} ms; ${kind} took ${(report.timings.total / 1000).toFixed(2)} s)`,
      );
      break;
    }
    case 'unchanged':
      lines.push(`${kind}: the new bundle is the installed one (${to}): nothing to reload`);
      break;
    case 'unconfirmed':
      lines.push(...report.problems.map((p) => `✗ ${p}`));
      lines.push(
        report.confirmation
          ? `${kind}: ✗ ${to} is installed and app_jsdt.reload was called, but not every worker confirmed it (see above)`
          : `${kind}: ✗ ${to} is installed, but Kamailio was not told to reload it (see above)`,
      );
      break;
    case 'refused':
      lines.push(...report.problems.map((p) => `✗ ${p}`));
      lines.push(`${kind}: ✗ refused, nothing installed: Kamailio keeps running ${running}`);
      break;
    case 'unreachable':
    case 'busy':
      lines.push(...report.problems.map((p) => `✗ ${p}`));
      break;
  }
  return lines;
}

export function formatStatus(report: StatusReport): string[] {
  const lines = [
    `installed: ${report.installed ? `${report.installed.buildId} (built ${report.installed.builtAt} from ${report.installed.entry})` : 'no build-info.json'}`,
    `previous:  ${report.previous ? `${report.previous.buildId} (npm run rollback puts it back)` : 'none'}`,
  ];
  if (report.confirmation) lines.push(...formatConfirmation(report.confirmation));
  lines.push(...report.problems.map((p) => `✗ ${p}`));
  return lines;
}

export function exitCode(report: ReloadReport): number {
  return report.outcome === 'reloaded' || report.outcome === 'unchanged' ? EXIT.ok : report.outcome === 'unconfirmed' ? EXIT.unconfirmed : EXIT.refused;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      entry: { type: 'string', default: 'src/main.ts' },
      bundle: { type: 'string' },
      tsconfig: { type: 'string', default: 'tsconfig.json' },
      'no-typecheck': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '10' },
      'skip-duktape': { type: 'boolean', default: false },
    },
  });
  const command = positionals[0] ?? 'reload';
  if (!['reload', 'rollback', 'status'].includes(command)) throw new Error(`unknown command ${command} (reload, rollback, status)`);
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0)) throw new Error(`--timeout ${values.timeout}: seconds, above 0`);
  const prefix = command === 'status' ? 'status' : command;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const context = contextFromEnv(process.env, {
    timeoutS,
    skipDuktape: values['skip-duktape'],
    log: (line) => out(`${prefix}: ${line}`),
  });

  if (command === 'status') {
    const report = await routingStatus(context);
    const lines = formatStatus(report);
    (report.problems.length === 0 ? process.stdout : process.stderr).write(`${lines.join('\n')}\n`);
    return report.reachable && report.problems.length === 0 ? EXIT.ok : EXIT.refused;
  }
  const report =
    command === 'rollback'
      ? await rollbackRouting(context)
      : await reloadRouting(
          context,
          values.bundle !== undefined
            ? { bundle: resolve(process.cwd(), values.bundle) }
            : { entry: resolve(PROJECT_DIR, values.entry), tsconfig: resolve(PROJECT_DIR, values.tsconfig), typeCheck: !values['no-typecheck'] },
        );
  const code = exitCode(report);
  (code === EXIT.ok ? process.stdout : process.stderr).write(`${formatReloadReport(report, command as 'reload' | 'rollback').join('\n')}\n`);
  return code;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`reload: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.refused;
  }
}
