/**
 * `npm run bench:facade`: what one facade call costs in Duktape 2.7 (the
 * `duk` CLI, same engine version as Kamailio 5.6) compared with calling the
 * KSR function directly. Prints ns per call for both, over alternating rounds.
 *
 * The KSR function is a JS stub here, not Kamailio's C binding, so both sides
 * pay the same stub cost and the difference is the facade's own layer.
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
const PROBE = `
var rounds = ${ROUNDS}, n = ${ITERATIONS}, raw = [], facade = [];
for (var r = 0; r < rounds; r++) {
  var t0 = Date.now(); ksr_bench_raw(n); raw.push((Date.now() - t0) * 1e6 / n);
  var t1 = Date.now(); ksr_bench_facade(n); facade.push((Date.now() - t1) * 1e6 / n);
}
print(JSON.stringify({ raw: raw, facade: facade }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'facade-bench-'));
  try {
    const bundleFile = join(dir, 'bench.js');
    const compiled = await compileBundle({
      entry: join(ROOT, 'bench/facade-overhead/entry.ts'),
      outFile: bundleFile,
      tsconfig: join(ROOT, 'tsconfig.json'),
      projectRoot: ROOT,
    });
    writeFileSync(bundleFile, compiled.code);
    writeFileSync(join(dir, 'stub.js'), STUB);
    writeFileSync(join(dir, 'probe.js'), PROBE);
    const output = execFileSync('duk', [join(dir, 'stub.js'), bundleFile, join(dir, 'probe.js')], { encoding: 'utf8' });
    const { raw, facade } = JSON.parse(output.trim()) as { raw: number[]; facade: number[] };
    const rawNs = median(raw);
    const facadeNs = median(facade);
    console.log(`Duktape ${execFileSync('duk', ['-e', 'print(Duktape.version)'], { encoding: 'utf8' }).trim()}, ${ROUNDS} rounds x ${ITERATIONS} calls`);
    console.log(`raw KSR call:      median ${rawNs.toFixed(0)} ns/call  (rounds: ${raw.map((v) => v.toFixed(0)).join(', ')})`);
    console.log(`through facade:    median ${facadeNs.toFixed(0)} ns/call  (rounds: ${facade.map((v) => v.toFixed(0)).join(', ')})`);
    console.log(`facade layer:      ${(facadeNs - rawNs).toFixed(0)} ns per call`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
