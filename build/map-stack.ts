/**
 * Rewrites Duktape stack traces from the bundle to TypeScript positions.
 *
 *   npm run map-stack -- [--map dist/kamailio.js.map] < kamailio.log
 *   npm run map-stack -- '    at ksr_request_route (eval:161) preventsyield'
 *
 * app_jsdt logs frames as `at <function> (eval:<line>)`; the duk CLI names the
 * file as given on its command line, and Duktape's own compiler uses `input`.
 * Frames in C files (`duk_js_call.c:1349`) are left alone. Frames carry no
 * column, so each maps to the first statement of its bundle line.
 *
 * Bundles also log these positions themselves (src/ksr/line-table.ts, same
 * rule); this tool adds the original function names and serves logs of
 * bundles built before the line table.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { SourceLocator } from './bundle/source-locator.ts';

/** File names under which Duktape reports code that app_jsdt or duk loaded. */
const DUKTAPE_SCRIPT_NAMES = ['eval', 'input'];

const FRAME = /\bat (\S+) \(([^():]+):(\d+)\)/;

/** Rewrites every frame of the bundle in a block of log text. */
export function createStackMapper(locator: SourceLocator, bundleCode: string): (text: string) => string {
  const bundleNames = new Set([...DUKTAPE_SCRIPT_NAMES, locator.bundleName]);
  const originalName = originalFunctionNames(locator, bundleCode);
  const mapLine = (line: string): string =>
    line.replace(FRAME, (frame, name: string, file: string, lineText: string) => {
      if (!bundleNames.has(basename(file))) return frame;
      const original = locator.onLine(Number(lineText));
      if (!original) return frame;
      const fn = originalName(name);
      const renamed = fn === name ? '' : `${name}@`;
      return `at ${fn} (${original.file}:${original.line} <- ${renamed}${file}:${lineText})`;
    });
  // rsyslog escapes the newlines of a multi-line message as #012.
  return (text) => text.replace(/#012/g, '\n').split('\n').map(mapLine).join('\n');
}

/** The mapper for a written bundle: the map at `mapPath`, the bundle next to it. */
export function stackMapperForFile(mapPath: string, projectRoot = process.cwd()): (text: string) => string {
  const bundlePath = mapPath.replace(/\.map$/, '');
  const locator = SourceLocator.fromFile(mapPath, projectRoot, basename(bundlePath));
  return createStackMapper(locator, existsSync(bundlePath) ? readFileSync(bundlePath, 'utf8') : '');
}

/**
 * esbuild renames functions whose names collide (relay -> relay2) and records
 * the original in the map's names, at the function's declaration.
 */
function originalFunctionNames(locator: SourceLocator, bundle: string): (name: string) => string {
  const lines = bundle.split('\n');
  const cache = new Map<string, string>();
  return (name) => {
    let original = cache.get(name);
    if (original === undefined) {
      original = name;
      const declaration = ` ${name}(`;
      const index = lines.findIndex((line) => line.includes(`function${declaration}`));
      if (index >= 0) {
        const column = lines[index]!.indexOf(declaration) + 1;
        original = locator.at(index + 1, column)?.name ?? name;
      }
      cache.set(name, original);
    }
    return original;
  };
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: { map: { type: 'string', default: 'dist/kamailio.js.map' } },
    allowPositionals: true,
  });
  const mapPath = values.map;
  if (!existsSync(mapPath)) {
    process.stderr.write(`map-stack: no source map at ${mapPath} (run npm run build, or pass --map)\n`);
    process.exit(2);
  }
  const text = positionals.length > 0 ? positionals.join('\n') : readFileSync(0, 'utf8');
  process.stdout.write(stackMapperForFile(mapPath)(text));
  if (positionals.length > 0) process.stdout.write('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
