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
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
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
    // Keepalives of random sizes (a header of 0-8 KiB) after the warm-up: messages whose sizes vary, as
    // SDPs, Call-IDs and TCP reads do in the field, against free fragments that are never joined.
    'random-sizes': { type: 'string', default: '0' },
  },
});
const STEP_S = 10;

/** `count` OPTIONS keepalives from LOCAL_IP (no pike) with an X-Pad header of 0-8 KiB, one at a time. */
async function randomSizeKeepalives(kam: Kamailio, count: number): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind({ address: '127.0.0.1', port: 0 }, () => r()));
  const { port } = socket.address();
  let answered = 0;
  try {
    for (let i = 0; i < count; i++) {
      const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
      const raw = [
        `OPTIONS sip:127.0.0.1:${kam.ports.sip} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport`, 'Max-Forwards: 70',
        `From: <sip:pad@127.0.0.1>;tag=${i}`, `To: <sip:127.0.0.1:${kam.ports.sip}>`, `Call-ID: pad-${i}-${randomBytes(4).toString('hex')}`,
        'CSeq: 1 OPTIONS', `X-Pad: ${'p'.repeat(randomInt(0, 8192))}`, 'Content-Length: 0', '', ''].join('\r\n');
      const ok = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 500);
        socket.once('message', () => { clearTimeout(t); resolve(true); });
        socket.send(raw, kam.ports.sip, '127.0.0.1');
      });
      if (ok) answered++;
    }
  } finally {
    socket.close();
  }
  return answered;
}

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

/** Shared memory: its fragments (free and used) and the bytes in use (core.shmmem). */
async function shm(kam: Kamailio): Promise<{ frags: number; realUsed: number }> {
  const out = await kam.rpc('core.shmmem');
  const field = (name: string): number => Number(new RegExp(`\\b${name}: (\\d+)`).exec(out)?.[1] ?? NaN);
  return { frags: field('fragments'), realUsed: field('real_used') };
}

function show(label: string, requests: number, ws: WorkerPkg[], sh: { frags: number; realUsed: number }): void {
  const cells = ws.map((w) => `${String(w.frags).padStart(3)} frags ${(w.realUsed / 1024).toFixed(1).padStart(6)} KiB`).join(' | ');
  process.stdout.write(`${label.padEnd(26)} ${String(requests).padStart(7)} req | shm ${sh.frags} frags ${(sh.realUsed / 1048576).toFixed(2)} MiB | ${cells}\n`);
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
    show('after warm-up', 0, before, await shm(kam));
    let requests = 0;
    const padded = Number(args['random-sizes']);
    if (padded > 0) {
      const answered = await randomSizeKeepalives(kam, padded);
      requests += padded;
      show(`${padded} sizes 0-8 KiB (${answered} ok)`, requests, await udpWorkers(kam), await shm(kam));
    }
    const cpu = { register: { s: 0, n: 0 }, calls: { s: 0, n: 0 } };
    const run = async (label: string, step: () => Promise<StepResult>, perCall: number, into: { s: number; n: number }): Promise<void> => {
      const r = await step();
      if (!r.pass) process.stdout.write(`  step failed: ${r.successful}/${r.calls} ok, ${r.failed} failed, limit ${r.limit}, ${r.kamailioErrors.top}\n`);
      requests += r.successful * perCall;
      into.s += r.cpu.kamailio;
      into.n += r.successful;
      show(label, requests, await udpWorkers(kam), await shm(kam));
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
