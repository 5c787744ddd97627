/**
 * npm run build [-- --entry src/main.ts --out-dir dist --cfg kamailio.cfg
 *                   --api-list build/kemi/api_list-5.6.3.txt --no-typecheck --no-duktape]
 *
 * Bundles the TypeScript routing into dist/kamailio.js for app_jsdt, or
 * prints why it refuses to and exits 1 without touching dist/.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatKiB, JSDT_SCRIPT_MAX_SIZE } from './guards/size.ts';
import { DEFAULT_API_LIST } from './kemi/api-list.ts';
import { runBuild, type BuildOptions, type BuildReport } from './bundle/pipeline.ts';

export function optionsFromArgs(args: readonly string[], projectRoot = process.cwd()): BuildOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      entry: { type: 'string', default: 'src/main.ts' },
      'out-dir': { type: 'string', default: 'dist' },
      tsconfig: { type: 'string', default: 'tsconfig.json' },
      cfg: { type: 'string', default: 'kamailio.cfg' },
      'api-list': { type: 'string' },
      'no-typecheck': { type: 'boolean', default: false },
      'no-duktape': { type: 'boolean', default: false },
    },
  });
  return {
    projectRoot,
    entry: resolve(projectRoot, values.entry),
    outDir: resolve(projectRoot, values['out-dir']),
    tsconfig: resolve(projectRoot, values.tsconfig),
    cfgPath: resolve(projectRoot, values.cfg),
    apiListPath: values['api-list'] === undefined ? DEFAULT_API_LIST : resolve(projectRoot, values['api-list']),
    typeCheck: !values['no-typecheck'],
    duktape: !values['no-duktape'],
  };
}

/** The lines the CLI prints; stdout for a build, stderr for a refusal. */
export function formatReport(report: BuildReport, elapsedMs: number): string[] {
  const notes = report.notes.map((note) => `note: ${note}`);
  if (!report.ok || !report.info) {
    return [
      ...report.problems.map((problem) => `✗ ${problem.message}`),
      ...notes,
      `build refused (${report.problems.length} problem(s)); ${report.bundlePath} left as it was`,
    ];
  }
  const { bytes, buildId } = report.info;
  return [
    ...notes,
    `${report.bundlePath}: ${bytes} bytes (${formatKiB(bytes)} of ${formatKiB(JSDT_SCRIPT_MAX_SIZE)}), ` +
      `build id ${buildId}, built in ${(elapsedMs / 1000).toFixed(2)} s`,
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  const report = await runBuild(optionsFromArgs(process.argv.slice(2)));
  const lines = formatReport(report, performance.now() - started);
  (report.ok ? process.stdout : process.stderr).write(`${lines.join('\n')}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
