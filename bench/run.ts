/**
 * `npm run bench [-- --quick | --rounds N | --no-readme]`
 *
 * The TypeScript routing (dist bundle in app_jsdt) against its native twin
 * (bench/native/routing.cfg), both from the project's kamailio.cfg, on the
 * same machine in one invocation, alternating engine by engine over several
 * rounds (round 1 native first, round 2 TypeScript first, ...):
 *
 * - REGISTER with digest auth: the highest rate with 0 failures, and the
 *   request-route execution time (latency_cfg_log) median and p99;
 * - calls (INVITE/200/ACK/BYE through rtpengine, client -> media server and
 *   media server -> registered client): the highest calls/s with 0 failed
 *   calls, the route time per INVITE, Kamailio CPU seconds per 1000 calls;
 * - bundle size, start time (spawn -> first answered keepalive) and the time
 *   a reload takes to take effect (app_jsdt.reload; native: a restart).
 *
 * Kamailio is pinned to core 0, SIPp and rtpengine to core 1 (taskset); every
 * load step is bounded (-m, -timeout, a kill) and records each side's CPU, so
 * a step limited by the load generator is reported as such. Writes
 * bench/results/latest.json and latest.svg and the README table.
 */
import { readFileSync, renameSync, writeFileSync, mkdtempSync, rmSync, mkdirSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { cpus as osCpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { optionsFromArgs } from '../build/build.ts';
import { runBuild } from '../build/bundle/pipeline.ts';
import { PROJECT_DIR } from '../scripts/lib/env.ts';
import { LoadSession, type StepResult } from './lib/load.ts';
import { parseRouteTimes, sippPidOf, type RouteTime } from './lib/latency.ts';
import { loadAverage } from './lib/proc.ts';
import { sipPing } from './lib/sip-ping.ts';
import { makeUsers, startKamailio, startRtpengine, LOCAL_IP, type Engine, type Kamailio, type Rtpengine } from './lib/stack.ts';
import { median, percentile } from './lib/stats.ts';
import { bundleLoadMs } from './profile/duk-profile.ts';
import { writeReport, type BenchResult, type EngineRound, type SearchResult, type Machine } from './lib/report.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'no-readme': { type: 'boolean', default: false },
    // Kamailio's private-memory manager (-X): qm (the default, as CONTRACT.md starts it), fm or tlsf.
    'pkg-allocator': { type: 'string' },
    // Kamailio's shared memory in MB (-m) for both engines; CONTRACT.md's default (64) when not given.
    'shm-mb': { type: 'string' },
    out: { type: 'string', default: join(PROJECT_DIR, 'bench', 'results') },
    /** Name of the result files and README block: latest (default) or e.g. latest-fm. */
    name: { type: 'string' },
  },
});

const QUICK = args.quick === true;
const PKG = args['pkg-allocator'];
if (PKG !== undefined && !['qm', 'fm', 'tlsf'].includes(PKG)) throw new Error('--pkg-allocator is qm, fm or tlsf');
const SHM_MB = args['shm-mb'];
if (SHM_MB !== undefined && !/^[1-9]\d*$/.test(SHM_MB)) throw new Error('--shm-mb needs a number of megabytes');
/** Kamailio arguments both engines get besides CONTRACT.md's: the pkg allocator and the shm size when asked. */
const KAM_ARGS = [...(PKG === undefined ? [] : ['-X', PKG]), ...(SHM_MB === undefined ? [] : ['-m', SHM_MB])];
const ROUNDS = Number(args.rounds ?? (QUICK ? 1 : 3));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds needs a positive integer');

/** Durations and rates of each phase (seconds; REGISTER/s; calls/s). */
const PLAN = QUICK
  ? { stepS: { register: 1.5, calls: 2 }, resolution: 0.2, fixed: { register: 200, calls: 60, seconds: 2 } }
  : { stepS: { register: 2, calls: 3 }, resolution: 0.1, fixed: { register: 300, calls: 100, seconds: 3 } };
const SEARCH = {
  register: { start: 500, max: 8000, unit: 10 },
  calls: { start: 100, max: 2000, unit: 10 },
} as const;
const MAX_STEPS = 9;

const log = (msg: string): void => {
  process.stdout.write(`[bench ${((performance.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
};
const T0 = performance.now();

function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? osCpus()[0]?.model ?? 'unknown';
  const version = (cmd: string, a: string[], re: RegExp): string => {
    const run = spawnSync(cmd, a, { encoding: 'utf8' });
    return re.exec(`${run.stdout ?? ''}${run.stderr ?? ''}`)?.[1] ?? '?';
  };
  return {
    nproc: osCpus().length,
    cpuModel: model,
    kernel: release(),
    kamailio: version('kamailio', ['-v'], /kamailio (\S+)/),
    sipp: version('sipp', ['-v'], /SIPp (v[\d.]+)/),
    rtpengine: version('rtpengine', ['--version'], /Version: ([\d.]+)/),
    loadAverageStart: loadAverage(),
    loadAverageEnd: NaN,
  };
}

const pct = (v: number): string => `${(v * 100).toFixed(0)}%`;

async function search(kind: 'register' | 'calls', run: (rate: number) => Promise<StepResult>, seed: number | undefined): Promise<SearchResult> {
  const cfg = SEARCH[kind];
  const nice = (r: number): number => Math.max(cfg.unit, Math.round(r / cfg.unit) * cfg.unit);
  const steps: StepResult[] = [];
  let pass = 0;
  let fail = Infinity;
  let rate = nice(seed ?? cfg.start);
  const up = seed === undefined ? 2 : 1.25;
  const down = seed === undefined ? 0.5 : 0.8;
  while (steps.length < MAX_STEPS) {
    const r = await run(rate);
    steps.push(r);
    log(`  ${kind} ${String(rate).padStart(5)}/s: ${r.pass ? 'pass' : 'FAIL'} (ok ${r.successful}/${r.calls}, failed ${r.failed}, retrans ${r.retransmissions}, ` +
      `achieved ${r.achievedRate.toFixed(0)}/s, peak CPU: kamailio ${pct(r.peak.kamailioOwn)} of its core (core ${pct(r.peak.kamailioCore)} busy), ` +
      `sipp+rtpengine ${pct(r.peak.generatorOwn)} (core ${pct(r.peak.generatorCore)})` +
      `${r.pass ? '' : `, limit: ${r.limit}`}${r.kamailioErrors.count > 0 ? `; Kamailio logged ${r.kamailioErrors.count} errors, most: ${r.kamailioErrors.top}` : ''})`);
    if (r.pass) pass = Math.max(pass, rate);
    else fail = Math.min(fail, rate);
    let next: number;
    if (fail === Infinity) {
      if (rate >= cfg.max) break;
      next = Math.min(cfg.max, nice(rate * up));
    } else if (pass === 0) {
      next = nice(rate * down);
      if (next >= rate) break;
    } else {
      if ((fail - pass) / pass <= PLAN.resolution) break;
      next = nice((pass + fail) / 2);
      if (next <= pass || next >= fail) break;
    }
    rate = next;
  }
  const failing = steps.filter((s) => !s.pass).sort((a, b) => a.rate - b.rate)[0];
  return {
    best: pass,
    capped: fail === Infinity,
    limit: failing ? failing.limit : 'neither',
    steps,
  };
}

/** Bytes appended to a file since `offset`. */
function readFrom(file: string, offset: number): string {
  const size = statSync(file).size;
  if (size <= offset) return '';
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  return buf.toString('latin1');
}

interface LatencySets {
  [name: string]: number[];
}

/** Route times of the fixed-rate runs, by message, attributed through the SIPp PID in each Call-ID. */
function classify(times: RouteTime[], pids: { register: number; client: number; mediaServer: number }): LatencySets {
  const sets: LatencySets = {};
  const add = (name: string, v: number): void => {
    (sets[name] ??= []).push(v);
  };
  for (const t of times) {
    const pid = sippPidOf(t.callId);
    const who = pid === pids.register ? 'register' : pid === pids.client ? 'client' : pid === pids.mediaServer ? 'mediaServer' : null;
    if (who === null) continue;
    const key = `${t.kind} ${t.method} ${t.cseq}`;
    if (who === 'register') {
      if (t.kind === 'request' && t.method === 'REGISTER') {
        add('REGISTER', t.usec);
        add(t.cseq === 1 ? 'REGISTER challenged (401)' : 'REGISTER authenticated (200, saved)', t.usec);
      }
      continue;
    }
    const names: Record<string, string> = (
      who === 'client'
        ? {
            'request INVITE 1': 'INVITE from client, challenged (407)',
            'request ACK 1': 'ACK of the 407',
            'request INVITE 2': 'INVITE from client to media server (auth, dispatch, rtpengine offer, relay)',
            'reply INVITE 2': '200 INVITE from media server (rtpengine answer)',
            'request ACK 2': 'ACK from client (loose_route, relay)',
            'request BYE 3': 'BYE from client (loose_route, rtpengine delete, relay)',
            'reply BYE 3': '200 BYE from media server',
          }
        : {
            'request INVITE 1': 'INVITE from media server to client (lookup, rtpengine offer, relay)',
            'reply INVITE 1': '200 INVITE from client (rtpengine answer)',
            'request ACK 1': 'ACK from media server (loose_route, relay)',
            'request BYE 2': 'BYE from media server (loose_route, rtpengine delete, relay)',
            'reply BYE 2': '200 BYE from client',
          }
    );
    const name = names[key];
    if (name === undefined) continue;
    add(name, t.usec);
    if (t.kind === 'request' && t.method === 'INVITE' && !name.includes('challenged')) add('INVITE', t.usec);
    if (t.kind === 'request') add('all requests of calls', t.usec);
  }
  return sets;
}

async function reloadMs(kam: Kamailio): Promise<number> {
  // A reload of changed code: the same bundle with another build id.
  const code = readFileSync(kam.bundlePath, 'utf8');
  const before = await sipPing(LOCAL_IP, kam.ports.sip, 1000);
  if (before?.build == null || !code.includes(before.build)) throw new Error('reload: the running bundle does not report its build id');
  const next = randomBytes(6).toString('hex');
  const tmp = `${kam.bundlePath}.tmp`;
  writeFileSync(tmp, code.split(before.build).join(next));
  renameSync(tmp, kam.bundlePath);
  const t0 = performance.now();
  await kam.rpc('app_jsdt.reload');
  for (;;) {
    const r = await sipPing(LOCAL_IP, kam.ports.sip, 1000);
    if (r?.build === next) break;
    if (performance.now() - t0 > 10_000) throw new Error('reload: the new build never answered');
  }
  const ms = performance.now() - t0;
  // Every worker that answers from now on must run the new build.
  for (let i = 0; i < 20; i++) {
    const r = await sipPing(LOCAL_IP, kam.ports.sip, 1000);
    if (r?.build !== next) throw new Error(`reload: a worker still answered with ${r?.build}`);
  }
  return ms;
}

async function engineRound(
  engine: Engine,
  round: number,
  ctx: { bundle: string; rtp: Rtpengine; cpus: { kamailio: number; generator: number } },
  seeds: { register?: number; calls?: number },
): Promise<EngineRound> {
  const registerUsers = makeUsers('r', 4000, 1);
  const callers = makeUsers('a', 2000, 20);
  const callees = makeUsers('c', 100, 40);
  const kam = await startKamailio({
    engine,
    bundle: ctx.bundle,
    rtpengineNg: ctx.rtp.ng,
    cpu: ctx.cpus.kamailio,
    subscribers: [...registerUsers, ...callers],
    // cfg_rpc only for `cfg.seti core latency_cfg_log`: the cfg stays untouched.
    extraArgs: ['--loadmodule=cfg_rpc.so', ...KAM_ARGS],
  });
  log(`${engine}: Kamailio up in ${kam.startMs.toFixed(0)} ms (pid ${kam.daemon.pid})`);
  const session = await LoadSession.open({ kam, rtp: ctx.rtp, cpus: ctx.cpus, registerUsers, callers, callees });
  try {
    const f = PLAN.fixed;
    // Warm-up (first messages of every worker are slower), not recorded.
    await session.register(100, 1);
    await session.calls(40, 1);
    // Fixed rates, no per-message logging: CPU per 1000.
    const cpuRegister = await session.register(f.register, f.seconds);
    const cpuCalls = await session.calls(f.calls, f.seconds);
    for (const st of [cpuRegister, cpuCalls]) {
      if (!st.pass) log(`${engine}: WARNING: the fixed-rate ${st.scenario} step failed (${st.failed} failed, Kamailio errors ${st.kamailioErrors.count}: ${st.kamailioErrors.top})`);
    }
    log(`${engine}: fixed rate CPU: ${((cpuRegister.cpu.kamailio / cpuRegister.calls) * 1000).toFixed(2)} s/1000 REGISTER, ` +
      `${((cpuCalls.cpu.kamailio / cpuCalls.calls) * 1000).toFixed(2)} s/1000 calls`);
    // Fixed rates again with latency_cfg_log printed (L_INFO with debug=2).
    const logOffset = statSync(kam.logFile).size;
    await kam.rpc('cfg.seti', 'core', 'latency_cfg_log', '2');
    const latRegister = await session.register(f.register, f.seconds);
    const latCalls = await session.calls(f.calls, f.seconds);
    await kam.rpc('cfg.seti', 'core', 'latency_cfg_log', '3');
    const times = parseRouteTimes(readFrom(kam.logFile, logOffset));
    const sets = classify(times, {
      register: latRegister.sippPids['register']!,
      client: latCalls.sippPids['client']!,
      mediaServer: latCalls.sippPids['media-server']!,
    });
    const latency = Object.fromEntries(
      Object.entries(sets).map(([k, v]) => [k, { n: v.length, median: median(v), p99: percentile(v, 99) }]),
    );
    log(`${engine}: route time REGISTER median ${latency['REGISTER']?.median} us p99 ${latency['REGISTER']?.p99} us, ` +
      `INVITE median ${latency['INVITE']?.median} us p99 ${latency['INVITE']?.p99} us`);
    const register = await search('register', (rate) => session.register(rate, PLAN.stepS.register), seeds.register);
    log(`${engine}: REGISTER highest rate with 0 failures: ${register.best}/s${register.capped ? ' (the search cap)' : ''}, limit ${register.limit}`);
    const calls = await search('calls', (rate) => session.calls(rate, PLAN.stepS.calls), seeds.calls);
    log(`${engine}: calls highest rate with 0 failures: ${calls.best}/s${calls.capped ? ' (the search cap)' : ''}, limit ${calls.limit}`);
    const hot = engine === 'ts' ? await reloadMs(kam) : null;
    if (hot !== null) log(`${engine}: app_jsdt.reload took effect in ${hot.toFixed(1)} ms`);
    await session.close();
    await kam.stop();
    // A restart of an idle instance: what a native cfg change costs (stop, start, first answer).
    const idle = await startKamailio({ engine, bundle: ctx.bundle, rtpengineNg: ctx.rtp.ng, cpu: ctx.cpus.kamailio, subscribers: [], extraArgs: KAM_ARGS });
    const r0 = performance.now();
    await idle.stop();
    const stopMs = performance.now() - r0;
    const again = await startKamailio({ engine, bundle: ctx.bundle, rtpengineNg: ctx.rtp.ng, cpu: ctx.cpus.kamailio, subscribers: [], extraArgs: KAM_ARGS });
    const restartMs = stopMs + again.startMs;
    await again.stop();
    log(`${engine}: restart (stop ${stopMs.toFixed(0)} ms + start ${again.startMs.toFixed(0)} ms) ${restartMs.toFixed(0)} ms`);
    return {
      engine,
      round,
      startMs: kam.startMs,
      stopMs,
      restartMs,
      hotReloadMs: hot,
      register,
      calls,
      cpuPer1000: {
        registers: (cpuRegister.cpu.kamailio / cpuRegister.calls) * 1000,
        calls: (cpuCalls.cpu.kamailio / cpuCalls.calls) * 1000,
      },
      fixedSteps: { cpuRegister, cpuCalls, latRegister, latCalls },
      latency,
    };
  } catch (err) {
    await session.close().catch(() => undefined);
    await kam.stop();
    throw err;
  }
}

async function main(): Promise<void> {
  const m = machine();
  const cpus = m.nproc >= 2 ? { kamailio: 0, generator: 1 } : { kamailio: 0, generator: 0 };
  log(`machine: ${m.nproc} cores, ${m.cpuModel}, kernel ${m.kernel}, load average ${m.loadAverageStart}`);
  if (m.nproc < 2) log('only one core: Kamailio and the load generator share it, every rate is generator-bound');
  log(`plan: ${ROUNDS} round(s)${QUICK ? ' (quick)' : ''}; Kamailio on core ${cpus.kamailio}, SIPp + rtpengine on core ${cpus.generator}; ` +
    `pkg allocator ${PKG === undefined ? 'default (q_malloc)' : PKG}`);

  const outDir = mkdtempSync(join(tmpdir(), 'ksr-bench-build-'));
  const build = await runBuild(optionsFromArgs(['--out-dir', outDir], PROJECT_DIR));
  if (!build.ok || !build.info) throw new Error(`build refused:\n${build.problems.map((p) => p.message).join('\n')}`);
  const bundle = join(outDir, 'kamailio.js');
  const loadMs = bundleLoadMs(bundle);
  log(`bundle: ${build.info.bytes} bytes, build id ${build.info.buildId}, one load in Duktape ${loadMs} ms`);

  const rtp = await startRtpengine(cpus.generator);
  const rounds: EngineRound[] = [];
  const seeds: Record<Engine, { register?: number; calls?: number }> = { native: {}, ts: {} };
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Engine[] = round % 2 === 1 ? ['native', 'ts'] : ['ts', 'native'];
      for (const engine of order) {
        log(`round ${round}/${ROUNDS}: ${engine === 'ts' ? 'TypeScript (app_jsdt)' : 'native cfg'} (load average ${loadAverage()})`);
        const r = await engineRound(engine, round, { bundle, rtp, cpus }, seeds[engine]);
        rounds.push(r);
        seeds[engine] = {
          ...(r.register.best > 0 ? { register: r.register.best } : {}),
          ...(r.calls.best > 0 ? { calls: r.calls.best } : {}),
        };
      }
    }
  } finally {
    await rtp.stop();
    rmSync(outDir, { recursive: true, force: true });
  }
  m.loadAverageEnd = loadAverage();
  const result: BenchResult = {
    date: new Date().toISOString(),
    quick: QUICK,
    rounds: ROUNDS,
    machine: m,
    pinning: cpus,
    pkgAllocator: PKG ?? 'qm (default)',
    shmMb: SHM_MB === undefined ? '64 (default)' : SHM_MB,
    plan: PLAN,
    bundle: { bytes: build.info.bytes, buildId: build.info.buildId, dukLoadMs: loadMs },
    results: rounds,
  };
  mkdirSync(args.out!, { recursive: true });
  const name = args.name ?? ['latest', ...(PKG === undefined ? [] : [PKG]), ...(SHM_MB === undefined ? [] : [`shm${SHM_MB}`])].join('-');
  const table = writeReport(result, { outDir: args.out!, readme: args['no-readme'] !== true, name });
  process.stdout.write('\n' + table + '\n');
  log('done');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
