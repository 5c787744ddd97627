/**
 * `npm run bench:facade`: what one facade call costs in Duktape 2.7 (the
 * `duk` CLI, same engine version as Kamailio 5.6) compared with calling the
 * KSR function directly. Prints ns per call over alternating rounds for:
 * - the raw KSR call,
 * - the facade as the build ships it (wrappers inlined at the call site by
 *   build/bundle/inline-facade.ts),
 * - the facade with inlining off (one wrapper call per KEMI call), to show
 *   what the inlining saves.
 *
 * The KSR function is a JS stub here, not Kamailio's C binding, so every side
 * pays the same stub cost and the difference is the facade's own layer.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBundle } from '../../build/bundle/compile.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ITERATIONS = 1_000_000;
const ROUNDS = 5;

const STUB = 'var KSR = { siputils: { has_totag: function () { return -1; } } };\n';
/** Runs between the two bundles: keeps the not-inlined facade loop under its own name. */
const KEEP_WRAPPED = 'var ksr_bench_wrapped = ksr_bench_facade;\n';
const PROBE = `
var rounds = ${ROUNDS}, n = ${ITERATIONS}, raw = [], facade = [], wrapped = [];
for (var r = 0; r < rounds; r++) {
  var t0 = Date.now(); ksr_bench_raw(n); raw.push((Date.now() - t0) * 1e6 / n);
  var t1 = Date.now(); ksr_bench_facade(n); facade.push((Date.now() - t1) * 1e6 / n);
  var t2 = Date.now(); ksr_bench_wrapped(n); wrapped.push((Date.now() - t2) * 1e6 / n);
}
print(JSON.stringify({ raw: raw, facade: facade, wrapped: wrapped }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'facade-bench-'));
  try {
    const compile = async (name: string, inlineFacade: boolean): Promise<string> => {
      const bundleFile = join(dir, name);
      const compiled = await compileBundle({
        entry: join(ROOT, 'bench/facade-overhead/entry.ts'),
        outFile: bundleFile,
        tsconfig: join(ROOT, 'tsconfig.json'),
        projectRoot: ROOT,
        inlineFacade,
      });
      if (inlineFacade && compiled.facade.inlined === 0) throw new Error('the facade call of the bench was not inlined');
      writeFileSync(bundleFile, compiled.code);
      return bundleFile;
    };
    const wrappedBundle = await compile('bench-wrapped.js', false);
    const shippedBundle = await compile('bench.js', true);
    const script = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const files = [script('stub.js', STUB), wrappedBundle, script('keep.js', KEEP_WRAPPED), shippedBundle, script('probe.js', PROBE)];
    const output = execFileSync('duk', files, { encoding: 'utf8' });
    const runs = JSON.parse(output.trim()) as { raw: number[]; facade: number[]; wrapped: number[] };
    const rawNs = median(runs.raw);
    const line = (label: string, values: number[]): string =>
      `${label.padEnd(34)} median ${median(values).toFixed(0)} ns/call  (rounds: ${values.map((v) => v.toFixed(0)).join(', ')})`;
    console.log(`Duktape ${execFileSync('duk', ['-e', 'print(Duktape.version)'], { encoding: 'utf8' }).trim()}, ${ROUNDS} rounds x ${ITERATIONS} calls`);
    console.log(line('raw KSR call:', runs.raw));
    console.log(line('facade, as built (inlined):', runs.facade));
    console.log(line('facade, inlining off (wrapper):', runs.wrapped));
    console.log(`facade layer as built:             ${(median(runs.facade) - rawNs).toFixed(0)} ns per call`);
    console.log(`facade layer without inlining:     ${(median(runs.wrapped) - rawNs).toFixed(0)} ns per call`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
