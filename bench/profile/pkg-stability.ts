/**
 * `npm run bench:pkg [-- --engine ts|native --register-s 60 --calls-s 60 --bundle x.js --mem-join 0|1]`
 *
 * Kamailio's private (pkg) memory of the SIP workers over a long bounded load,
 * and Kamailio's CPU per REGISTER and per call meanwhile: whether what the
 * bundle does to pkg memory (src/ksr/pkg-fragments.ts) holds over tens of
 * thousands of requests, and what it is worth under load. One engine per run.
 *
 * Load: SIPp REGISTER with digest (401, then 200) at --register-rate for
 * --register-s seconds, then calls through rtpengine (half from clients to the
 * media server, half from the media server to a registered client) at
 * --calls-rate for --calls-s seconds, in steps of 10 s (bench/lib/load.ts:
 * every SIPp bounded by -m, -timeout and a kill). `kamcmd pkg.stats` of every
 * UDP worker is taken after a warm-up and after each step: its used and
 * real_used memory and its number of free fragments must not grow.
 */
import { parseArgs } from 'node:util';
import { LoadSession, type StepResult } from '../lib/load.ts';
import { makeUsers, startKamailio, startRtpengine, type Engine, type Kamailio } from '../lib/stack.ts';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string', default: 'ts' },
    bundle: { type: 'string', default: 'dist/kamailio.js' },
    'register-rate': { type: 'string', default: '300' },
    'register-s': { type: 'string', default: '60' },
    'calls-rate': { type: 'string', default: '60' },
    'calls-s': { type: 'string', default: '60' },
    // Core mem_join set at run time (cfg_rpc) after start: what mem_join=0 does to the fragments.
    'mem-join': { type: 'string' },
  },
});
const STEP_S = 10;

interface WorkerPkg {
  pid: number;
  used: number;
  realUsed: number;
  frags: number;
}

/** pkg.stats of the UDP receivers (the SIP workers of the UDP sockets). */
async function udpWorkers(kam: Kamailio): Promise<WorkerPkg[]> {
  const out = await kam.rpc('pkg.stats');
  const workers: WorkerPkg[] = [];
  for (const block of out.split('}')) {
    const field = (name: string): number => Number(new RegExp(`\\b${name}: (\\d+)`).exec(block)?.[1] ?? NaN);
    if (!/desc: udp receiver/.test(block)) continue;
    workers.push({ pid: field('pid'), used: field('used'), realUsed: field('real_used'), frags: field('total_frags') });
  }
  return workers;
}

function show(label: string, requests: number, ws: WorkerPkg[]): void {
  const cells = ws.map((w) => `${String(w.frags).padStart(3)} frags ${(w.realUsed / 1024).toFixed(1).padStart(6)} KiB`).join(' | ');
  process.stdout.write(`${label.padEnd(26)} ${String(requests).padStart(7)} req | ${cells}\n`);
}

async function main(): Promise<void> {
  const engine = args.engine as Engine;
  const regUsers = makeUsers('r', 2000, 100);
  const callers = makeUsers('c', 500, 110);
  const callees = makeUsers('e', 100, 115);
  const rtp = await startRtpengine(1);
  const kam = await startKamailio({
    engine, bundle: args.bundle!, rtpengineNg: rtp.ng, cpu: 0, subscribers: [...regUsers, ...callers, ...callees],
    extraArgs: ['--loadmodule=cfg_rpc.so'],
  });
  let session: LoadSession | null = null;
  try {
    if (args['mem-join'] !== undefined) await kam.rpc('cfg.seti', 'core', 'mem_join', args['mem-join']);
    session = await LoadSession.open({ kam, rtp, cpus: { kamailio: 0, generator: 1 }, registerUsers: regUsers, callers, callees });
    // Warm-up: every worker has routed messages (and made its fragments).
    await session.register(100, 2);
    await session.calls(20, 2);
    const before = await udpWorkers(kam);
    show('after warm-up', 0, before);
    let requests = 0;
    const cpu = { register: { s: 0, n: 0 }, calls: { s: 0, n: 0 } };
    const run = async (label: string, step: () => Promise<StepResult>, perCall: number, into: { s: number; n: number }): Promise<void> => {
      const r = await step();
      if (!r.pass) process.stdout.write(`  step failed: ${r.successful}/${r.calls} ok, ${r.failed} failed, limit ${r.limit}, ${r.kamailioErrors.top}\n`);
      requests += r.successful * perCall;
      into.s += r.cpu.kamailio;
      into.n += r.successful;
      show(label, requests, await udpWorkers(kam));
    };
    const regRate = Number(args['register-rate']);
    for (let t = 0; t < Number(args['register-s']); t += STEP_S) {
      // 2 requests per REGISTER transaction pair (401, then 200).
      await run(`REGISTER ${regRate}/s x ${STEP_S} s`, () => session!.register(regRate, STEP_S), 2, cpu.register);
    }
    const callRate = Number(args['calls-rate']);
    for (let t = 0; t < Number(args['calls-s']); t += STEP_S) {
      // A call is about 7 requests through Kamailio (INVITE, 407/ACK or not, re-INVITE, ACK, BYE) plus replies.
      await run(`calls ${callRate}/s x ${STEP_S} s`, () => session!.calls(callRate, STEP_S), 6, cpu.calls);
    }
    const after = await udpWorkers(kam);
    const grew = after.map((w, i) => ({ pid: w.pid, frags: w.frags - (before[i]?.frags ?? 0), realUsed: w.realUsed - (before[i]?.realUsed ?? 0) }));
    process.stdout.write(`\ngrowth per UDP worker (frags, real_used bytes): ${grew.map((g) => `${g.frags}, ${g.realUsed}`).join(' | ')}\n`);
    const per = (c: { s: number; n: number }): string => (c.n === 0 ? '-' : `${((c.s / c.n) * 1e6).toFixed(0)} µs`);
    process.stdout.write(`Kamailio CPU: ${per(cpu.register)} per REGISTER (401 + 200), ${per(cpu.calls)} per call (engine ${engine}${args['mem-join'] === undefined ? '' : `, mem_join=${args['mem-join']}`})\n`);
  } finally {
    await session?.close();
    await kam.stop();
    await rtp.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`pkg-stability: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
