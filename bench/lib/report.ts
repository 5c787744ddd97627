/**
 * The benchmark's output: per-figure TypeScript/native ratios over rounds
 * (min/median/max), a Markdown table (printed, and written into README.md
 * between the bench markers), bench/results/latest.json and an SVG chart.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import type { Limit, StepResult } from './load.ts';
import type { Engine } from './stack.ts';
import { median, round, spread, type Spread } from './stats.ts';

export interface Machine {
  nproc: number;
  cpuModel: string;
  kernel: string;
  kamailio: string;
  sipp: string;
  rtpengine: string;
  loadAverageStart: number;
  loadAverageEnd: number;
}

export interface SearchResult {
  /** Highest rate that passed (0: none did). */
  best: number;
  /** True when the search cap passed: the real limit is higher. */
  capped: boolean;
  /** What saturated at the lowest failing rate. */
  limit: Limit;
  steps: StepResult[];
}

export interface EngineRound {
  engine: Engine;
  round: number;
  startMs: number;
  /** Stop + start of an idle instance to its first answer. */
  stopMs: number;
  restartMs: number;
  /** app_jsdt.reload to the first reply of the new build (TypeScript only). */
  hotReloadMs: number | null;
  register: SearchResult;
  calls: SearchResult;
  cpuPer1000: { registers: number; calls: number };
  fixedSteps: Record<string, StepResult>;
  latency: Record<string, { n: number; median: number; p99: number }>;
}

export interface BenchResult {
  date: string;
  quick: boolean;
  rounds: number;
  machine: Machine;
  pinning: { kamailio: number; generator: number };
  /** Kamailio's -X (private memory manager) for both engines. */
  pkgAllocator: string;
  /** Kamailio's shared memory, MB (-m); older results do not say (64, the default). */
  shmMb?: string;
  plan: unknown;
  bundle: { bytes: number; buildId: string; dukLoadMs: number };
  results: EngineRound[];
}

interface Figure {
  key: string;
  label: string;
  unit: string;
  get: (r: EngineRound) => number;
  /** Goal on the TypeScript/native ratio. */
  goal?: { max?: number; min?: number };
  throughput?: 'register' | 'calls';
  digits?: number;
}

const FIGURES: Figure[] = [
  { key: 'registerRate', label: 'REGISTER with digest: highest rate, 0 failures', unit: '/s', get: (r) => r.register.best, goal: { min: 0.9 }, throughput: 'register', digits: 0 },
  { key: 'registerMedian', label: 'REGISTER: route time median', unit: 'µs', get: (r) => r.latency['REGISTER']?.median ?? NaN, goal: { max: 1.1 }, digits: 0 },
  { key: 'registerP99', label: 'REGISTER: route time p99', unit: 'µs', get: (r) => r.latency['REGISTER']?.p99 ?? NaN, digits: 0 },
  { key: 'callsRate', label: 'Calls via rtpengine: highest calls/s, 0 failed', unit: '/s', get: (r) => r.calls.best, goal: { min: 0.9 }, throughput: 'calls', digits: 0 },
  { key: 'inviteMedian', label: 'INVITE (relayed): route time median', unit: 'µs', get: (r) => r.latency['INVITE']?.median ?? NaN, goal: { max: 1.1 }, digits: 0 },
  { key: 'inviteP99', label: 'INVITE (relayed): route time p99', unit: 'µs', get: (r) => r.latency['INVITE']?.p99 ?? NaN, digits: 0 },
  { key: 'callRequestsMedian', label: 'Every request of a call: route time median', unit: 'µs', get: (r) => r.latency['all requests of calls']?.median ?? NaN, goal: { max: 1.1 }, digits: 0 },
  { key: 'cpuCalls', label: 'Kamailio CPU per 1000 calls', unit: 's', get: (r) => r.cpuPer1000.calls, digits: 2 },
  { key: 'cpuRegisters', label: 'Kamailio CPU per 1000 REGISTER', unit: 's', get: (r) => r.cpuPer1000.registers, digits: 2 },
  { key: 'startMs', label: 'Start: spawn to first answered request', unit: 'ms', get: (r) => r.startMs, digits: 0 },
  { key: 'reloadMs', label: 'Routing change in effect (TS: app_jsdt.reload; native: restart)', unit: 'ms', get: (r) => (r.hotReloadMs ?? r.restartMs), digits: 0 },
];

export const BUNDLE_GOAL_BYTES = 32 * 1024;

export interface FigureSummary {
  key: string;
  label: string;
  unit: string;
  native: number[];
  ts: number[];
  ratios: number[];
  ratio: Spread;
  goal?: { max?: number; min?: number };
  met?: boolean;
  /** For the throughput figures: why the rate stopped where it did. */
  limits?: { native: Limit[]; ts: Limit[]; capped: boolean };
}

export function summarize(result: BenchResult): FigureSummary[] {
  const rounds = [...new Set(result.results.map((r) => r.round))].sort((a, b) => a - b);
  return FIGURES.map((f) => {
    const native: number[] = [];
    const ts: number[] = [];
    const ratios: number[] = [];
    const limits = { native: [] as Limit[], ts: [] as Limit[], capped: false };
    for (const n of rounds) {
      const a = result.results.find((r) => r.round === n && r.engine === 'native');
      const b = result.results.find((r) => r.round === n && r.engine === 'ts');
      if (!a || !b) continue;
      native.push(f.get(a));
      ts.push(f.get(b));
      ratios.push(f.get(b) / f.get(a));
      if (f.throughput) {
        limits.native.push(a[f.throughput].limit);
        limits.ts.push(b[f.throughput].limit);
        limits.capped ||= a[f.throughput].capped || b[f.throughput].capped;
      }
    }
    const ratio = spread(ratios);
    const summary: FigureSummary = { key: f.key, label: f.label, unit: f.unit, native, ts, ratios, ratio };
    if (f.goal) {
      summary.goal = f.goal;
      summary.met = (f.goal.max === undefined || ratio.median <= f.goal.max) && (f.goal.min === undefined || ratio.median >= f.goal.min);
    }
    if (f.throughput) summary.limits = limits;
    return summary;
  });
}

const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');

function limitNote(s: FigureSummary): string {
  if (!s.limits) return '';
  const all = [...s.limits.native, ...s.limits.ts];
  if (s.limits.capped) return ' (search cap reached)';
  if (all.length > 0 && all.every((l) => l === 'generator')) return ' (SIPp-bound: the generator, not Kamailio, was the limit)';
  if (all.some((l) => l === 'generator')) return ' (SIPp-bound in some rounds)';
  if (all.every((l) => l === 'kamailio')) return ' (Kamailio CPU-bound)';
  if (all.some((l) => l === 'contention')) return ' (other processes took a core in some rounds)';
  return ' (no core saturated: workers waiting on rtpengine/DB)';
}

export function markdownTable(result: BenchResult, summary: FigureSummary[]): string {
  const m = result.machine;
  const lines = [
    `| figure | native | TypeScript | TS/native min / median / max | goal |`,
    `|---|---:|---:|---|---|`,
  ];
  for (const s of summary) {
    const f = FIGURES.find((x) => x.key === s.key)!;
    const d = f.digits ?? 2;
    const goal = s.goal === undefined ? '' : `${s.goal.max !== undefined ? `≤ ${s.goal.max.toFixed(2)}` : `≥ ${s.goal.min!.toFixed(2)}`} ${s.met ? '**met**' : '**not met**'}`;
    lines.push(
      `| ${s.label}${limitNote(s)} | ${fmt(median(s.native), d)} ${s.unit} | ${fmt(median(s.ts), d)} ${s.unit} | ` +
        `${fmt(s.ratio.min, 2)} / **${fmt(s.ratio.median, 2)}** / ${fmt(s.ratio.max, 2)} | ${goal} |`,
    );
  }
  const kib = result.bundle.bytes / 1024;
  lines.push(`| Bundle size (dist/kamailio.js) | – | ${kib.toFixed(1)} KiB | – | ≤ 32 KiB ${result.bundle.bytes <= BUNDLE_GOAL_BYTES ? '**met**' : '**not met**'} |`);
  lines.push(`| Bundle load in Duktape (compile + run, per process) | – | ${result.bundle.dukLoadMs} ms | – | |`);
  const load = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '?');
  lines.push(
    '',
    `Medians over ${result.rounds} round(s)${result.quick ? ' (--quick)' : ''}, native and TypeScript alternating, ${result.date.slice(0, 16).replace('T', ' ')} UTC. ` +
      `Machine: ${m.nproc} cores, ${m.cpuModel}, Linux ${m.kernel}; Kamailio ${m.kamailio} pinned to core ${result.pinning.kamailio}, ` +
      `SIPp ${m.sipp} and rtpengine ${m.rtpengine} to core ${result.pinning.generator}; Kamailio's pkg allocator ${result.pkgAllocator}, shared memory ${result.shmMb ?? '64 (default)'} MB; load average ${load(m.loadAverageStart)} at start, ${load(m.loadAverageEnd)} at the end` +
      `${Math.max(m.loadAverageStart, m.loadAverageEnd) > 1 ? ' (other processes were using the cores: figures taken under contention)' : ''}.`,
  );
  return lines.join('\n');
}

/** Horizontal bars: the median TS/native ratio of each figure, min-max whiskers, 1.0 and the goals marked. */
export function svgChart(result: BenchResult, summary: FigureSummary[]): string {
  const rows = summary.filter((s) => Number.isFinite(s.ratio.median));
  const labelW = 400;
  const plotW = 380;
  const rowH = 26;
  const top = 46;
  const width = labelW + plotW + 110;
  const height = top + rows.length * rowH + 46;
  // 0 to 2 (or to 3 when a ratio needs it); a bar or whisker beyond 3 is cut at the edge, its label says the value.
  const maxRatio = Math.min(3, Math.max(2, ...rows.map((s) => s.ratio.max).filter(Number.isFinite)));
  const x = (v: number): number => labelW + (Math.min(v, maxRatio) / maxRatio) * plotW;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">TypeScript (app_jsdt) / native kamailio.cfg, median over ${result.rounds} round(s), bars = min..max</text>`,
    `<text x="10" y="36" fill="#555">${esc(`${result.machine.nproc} cores, ${result.machine.cpuModel}, ${result.date.slice(0, 10)}, Kamailio pkg allocator ${result.pkgAllocator}, shm ${result.shmMb ?? '64'} MB, load average ${result.machine.loadAverageStart}–${result.machine.loadAverageEnd}`)}</text>`,
  ];
  for (const t of [0, 0.5, 1, 1.5, 2, 2.5, 3].filter((t) => t <= maxRatio)) {
    out.push(`<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${top + rows.length * rowH}" stroke="${t === 1 ? '#333' : '#ddd'}" stroke-width="${t === 1 ? 1.5 : 1}"/>`);
    out.push(`<text x="${x(t)}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${t.toFixed(1)}×</text>`);
  }
  rows.forEach((s, i) => {
    const y = top + i * rowH;
    const good = s.met === undefined ? '#7a9cc6' : s.met ? '#4c9a5b' : '#c8553d';
    out.push(`<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(s.label)}</text>`);
    out.push(`<rect x="${labelW}" y="${y + 6}" width="${Math.max(1, x(s.ratio.median) - labelW)}" height="14" fill="${good}" opacity="0.85"/>`);
    out.push(`<line x1="${x(s.ratio.min)}" y1="${y + 13}" x2="${x(s.ratio.max)}" y2="${y + 13}" stroke="#222" stroke-width="1.5"/>`);
    out.push(`<line x1="${x(s.ratio.min)}" y1="${y + 8}" x2="${x(s.ratio.min)}" y2="${y + 18}" stroke="#222"/>`);
    out.push(`<line x1="${x(s.ratio.max)}" y1="${y + 8}" x2="${x(s.ratio.max)}" y2="${y + 18}" stroke="#222"/>`);
    const g = s.goal?.max ?? s.goal?.min;
    if (g !== undefined) out.push(`<line x1="${x(g)}" y1="${y + 3}" x2="${x(g)}" y2="${y + 23}" stroke="#000" stroke-dasharray="3,2"/>`);
    const label = `${s.ratio.median.toFixed(2)}${s.ratio.max > maxRatio ? ` (max ${s.ratio.max.toFixed(2)})` : ''}`;
    out.push(`<text x="${Math.min(x(Math.max(s.ratio.max, s.ratio.median)) + 6, labelW + plotW + 4)}" y="${y + 17}">${label}</text>`);
  });
  out.push(
    `<text x="10" y="${height - 10}" fill="#555">green: goal met, red: not met, blue: no goal; dashed: the goal (≤ 1.10 for times, ≥ 0.90 for rates)</text>`,
    '</svg>',
  );
  return out.join('\n') + '\n';
}

/** README.md markers of a result block: <!-- bench:NAME:start --> ... <!-- bench:NAME:end -->. */
export const readmeMarkers = (name: string): [string, string] => [`<!-- bench:${name}:start -->`, `<!-- bench:${name}:end -->`];

/** Writes latest.json and latest.svg, updates README.md's bench section when asked; returns the table. */
export function writeReport(result: BenchResult, o: { outDir: string; readme: boolean; name: string }): string {
  const summary = summarize(result);
  const table = markdownTable(result, summary);
  const rounded = JSON.parse(JSON.stringify({ ...result, summary }, (_k, v: unknown) => (typeof v === 'number' ? round(v, 3) : v))) as unknown;
  writeFileSync(join(o.outDir, `${o.name}.json`), JSON.stringify(rounded, null, 2) + '\n');
  writeFileSync(join(o.outDir, `${o.name}.svg`), svgChart(result, summary));
  if (o.readme) {
    const readme = join(PROJECT_DIR, 'README.md');
    const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
    const [startMark, endMark] = readmeMarkers(o.name);
    const start = text.indexOf(startMark);
    const end = text.indexOf(endMark);
    if (start >= 0 && end > start) {
      const block = `${startMark}\n${table}\n\n![TypeScript/native ratios](bench/results/${o.name}.svg)\n${endMark}`;
      writeFileSync(readme, text.slice(0, start) + block + text.slice(end + endMark.length));
    } else {
      process.stdout.write(`README.md has no ${startMark} ... ${endMark} markers: table not written there\n`);
    }
  }
  return table;
}

/** Rewrites NAME.svg from NAME.json (after a change to the chart, without running the benchmark again). */
export function rerenderChart(outDir: string, name: string): void {
  const saved = JSON.parse(readFileSync(join(outDir, `${name}.json`), 'utf8')) as BenchResult & { summary: FigureSummary[] };
  writeFileSync(join(outDir, `${name}.svg`), svgChart(saved, saved.summary));
}
