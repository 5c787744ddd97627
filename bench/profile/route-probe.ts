/**
 * `npm run bench:probe [-- --samples N --rounds N --bundle file.js]`
 *
 * Cost of single, deterministic requests, TypeScript vs the native twin, for
 * the optimisation loop of the routing: no load generator, no rtpengine round
 * trip, one request at a time (no queueing), each kind sent N times in a row
 * per round from rotating client addresses (pike counts per address). Two
 * figures per kind and engine:
 * - Kamailio CPU µs per request: the exact run time of all its processes
 *   (/proc/<pid>/task/<tid>/schedstat) over the batch, minus the idle rate
 *   measured just before; immune to other processes taking the core;
 * - the request-route time from latency_cfg_log (median): wall clock, so it
 *   grows when the core is shared.
 *
 * Kinds cover the branches every message goes through (REQINIT, NATDETECT,
 * retransmission and dialog checks) and the common endings: keepalive,
 * digest challenge (401/407), REGISTER saved (200), stray in-dialog request
 * (404), relaying refused (403), media server calling an unknown user (404).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { optionsFromArgs } from '../../build/build.ts';
import { runBuild } from '../../build/bundle/pipeline.ts';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { parseRouteTimes } from '../lib/latency.ts';
import { cpuDelta, treeCpu } from '../lib/proc.ts';
import { makeUsers, startKamailio, startRtpengine, type Engine, type Kamailio, type User } from '../lib/stack.ts';
import { median } from '../lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
    bundle: { type: 'string' },
    engines: { type: 'string', default: 'native,ts' },
    // Kamailio's private-memory manager for both engines (-X qm|fm|tlsf); default as CONTRACT.md starts it.
    'pkg-allocator': { type: 'string' },
  },
});
const SAMPLES = Number(args.samples);
const ROUNDS = Number(args.rounds);

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

class Endpoint {
  private waiting: ((text: string) => void) | null = null;
  private constructor(private readonly socket: Socket, readonly ip: string, readonly port: number) {
    socket.on('message', (m) => this.waiting?.(m.toString('latin1')));
  }
  static async open(ip: string): Promise<Endpoint> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind({ address: ip, port: 0 }, () => r()));
    return new Endpoint(socket, ip, socket.address().port);
  }
  /** Sends and resolves with the first message back (or '' after 300 ms: drops and absorbed requests). */
  send(raw: string, port: number): Promise<string> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiting = null;
        resolve('');
      }, 300);
      this.waiting = (text) => {
        if (/^SIP\/2\.0 1\d\d/.test(text)) return; // provisional: wait for the final reply
        clearTimeout(t);
        this.waiting = null;
        resolve(text);
      };
      this.socket.send(raw, port, '127.0.0.1');
    });
  }
  close(): void {
    this.socket.close();
  }
}

interface Kind {
  name: string;
  /** Sends one request of this kind; returns the Call-ID used (route times are matched on it). */
  run(kam: Kamailio, i: number): Promise<string>;
}

function request(o: {
  method: string; ruri: string; ep: Endpoint; from: string; to: string; callId: string; cseq?: number;
  headers?: string[]; body?: string;
}): string {
  const body = o.body ?? '';
  return [
    `${o.method} ${o.ruri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${o.ep.ip}:${o.ep.port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
    'Max-Forwards: 70',
    `From: ${o.from};tag=${randomBytes(4).toString('hex')}`,
    `To: ${o.to}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${o.method}`,
    `Contact: <sip:probe@${o.ep.ip}:${o.ep.port}>`,
    'User-Agent: route-probe',
    ...(o.headers ?? []),
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const SDP = ['v=0', 'o=p 1 1 IN IP4 127.0.0.9', 's=-', 'c=IN IP4 127.0.0.9', 't=0 0', 'm=audio 40000 RTP/AVP 0', ''].join('\r\n');

function kinds(endpoints: Endpoint[], media: Endpoint, users: User[]): Kind[] {
  const client = (i: number): Endpoint => endpoints[i % endpoints.length]!;
  const user = (i: number): User => users[i % users.length]!;
  const domain = (kam: Kamailio): string => `127.0.0.2:${kam.ports.sip}`;
  const id = (name: string, i: number): string => `${name}-${i}-${randomBytes(4).toString('hex')}`;
  return [
    {
      name: 'OPTIONS keepalive (200)',
      async run(kam, i) {
        const callId = id('keepalive', i);
        await media.send(request({ method: 'OPTIONS', ruri: `sip:127.0.0.1:${kam.ports.sip}`, ep: media, from: '<sip:ms@127.0.0.1>', to: `<sip:127.0.0.1:${kam.ports.sip}>`, callId }), kam.ports.sip);
        return callId;
      },
    },
    {
      name: 'REGISTER challenged (401)',
      async run(kam, i) {
        const callId = id('reg401', i);
        const u = user(i);
        await client(i).send(request({ method: 'REGISTER', ruri: `sip:${domain(kam)}`, ep: client(i), from: `<sip:${u.user}@${domain(kam)}>`, to: `<sip:${u.user}@${domain(kam)}>`, callId }), kam.ports.sip);
        return callId;
      },
    },
    {
      name: 'REGISTER authenticated (200)',
      async run(kam, i) {
        const callId = id('reg200', i);
        const u = user(i);
        const ep = client(i);
        const ruri = `sip:${domain(kam)}`;
        const first = await ep.send(request({ method: 'REGISTER', ruri, ep, from: `<sip:${u.user}@${domain(kam)}>`, to: `<sip:${u.user}@${domain(kam)}>`, callId: `${callId}-c` }), kam.ports.sip);
        const nonce = /nonce="([^"]+)"/.exec(first)?.[1];
        if (nonce === undefined) throw new Error(`no challenge: ${first.split('\r\n')[0]}`);
        const realm = kam.sipDomain;
        const response = md5(`${md5(`${u.user}:${realm}:${u.password}`)}:${nonce}:${md5(`REGISTER:${ruri}`)}`);
        const auth = `Authorization: Digest username="${u.user}", realm="${realm}", nonce="${nonce}", uri="${ruri}", response="${response}", algorithm=MD5`;
        const reply = await ep.send(request({ method: 'REGISTER', ruri, ep, from: `<sip:${u.user}@${domain(kam)}>`, to: `<sip:${u.user}@${domain(kam)}>`, callId, cseq: 2, headers: [auth, 'Expires: 600'] }), kam.ports.sip);
        if (!reply.startsWith('SIP/2.0 200')) throw new Error(`REGISTER not saved: ${reply.split('\r\n')[0]}`);
        return callId;
      },
    },
    {
      name: 'INVITE challenged (407)',
      async run(kam, i) {
        const callId = id('inv407', i);
        const u = user(i);
        await client(i).send(request({ method: 'INVITE', ruri: `sip:media@${domain(kam)}`, ep: client(i), from: `<sip:${u.user}@${domain(kam)}>`, to: `<sip:media@${domain(kam)}>`, callId, body: SDP }), kam.ports.sip);
        return callId;
      },
    },
    {
      name: 'stray in-dialog BYE (404)',
      async run(kam, i) {
        const callId = id('bye404', i);
        const u = user(i);
        await client(i).send(request({ method: 'BYE', ruri: `sip:media@${domain(kam)}`, ep: client(i), from: `<sip:${u.user}@${domain(kam)}>`, to: `<sip:media@${domain(kam)}>;tag=abc`, callId }), kam.ports.sip);
        return callId;
      },
    },
    {
      name: 'MESSAGE to a foreign domain (403)',
      async run(kam, i) {
        const callId = id('msg403', i);
        const u = user(i);
        await client(i).send(request({ method: 'MESSAGE', ruri: 'sip:bob@foreign.example', ep: client(i), from: `<sip:${u.user}@${domain(kam)}>`, to: '<sip:bob@foreign.example>', callId }), kam.ports.sip);
        return callId;
      },
    },
    {
      name: 'media server INVITE, unknown user (404)',
      async run(kam, i) {
        const callId = id('ms404', i);
        await media.send(request({ method: 'INVITE', ruri: `sip:nobody${i}@${domain(kam)}`, ep: media, from: '<sip:ms@127.0.0.1>', to: `<sip:nobody${i}@${domain(kam)}>`, callId, body: SDP }), kam.ports.private);
        return callId;
      },
    },
  ];
}

interface ProbeResult {
  route: Map<string, number[]>;
  cpuUs: Map<string, number[]>;
}

async function probe(engine: Engine, bundle: string, rtpNg: string, users: User[]): Promise<ProbeResult> {
  const pkg = args['pkg-allocator'];
  const kam = await startKamailio({ engine, bundle, rtpengineNg: rtpNg, cpu: 0, subscribers: users, extraArgs: ['--loadmodule=cfg_rpc.so', ...(pkg === undefined ? [] : ['-X', pkg])] });
  const endpoints = await Promise.all(Array.from({ length: 200 }, (_, i) => Endpoint.open(`127.0.${50 + Math.floor(i / 250)}.${(i % 250) + 1}`)));
  const media = await Endpoint.open('127.0.0.1');
  const out: ProbeResult = { route: new Map(), cpuUs: new Map() };
  const push = (m: Map<string, number[]>, k: string, v: number): void => {
    m.set(k, [...(m.get(k) ?? []), v]);
  };
  try {
    const list = kinds(endpoints, media, users);
    // Warm every worker up first.
    for (let i = 0; i < 40; i++) for (const k of list) await k.run(kam, i);
    const offset = statSync(kam.logFile).size;
    await kam.rpc('cfg.seti', 'core', 'latency_cfg_log', '2');
    const ids = new Map<string, string>();
    // Idle CPU rate of Kamailio (timers), subtracted from every batch.
    const i0 = treeCpu(kam.daemon.pid);
    const it0 = performance.now();
    await new Promise((r) => setTimeout(r, 500));
    const idlePerMs = cpuDelta(i0, treeCpu(kam.daemon.pid)) / (performance.now() - it0);
    for (const k of list) {
      const c0 = treeCpu(kam.daemon.pid);
      const t0 = performance.now();
      let requests = 0;
      for (let i = 0; i < SAMPLES; i++) {
        ids.set(await k.run(kam, 1000 + i), k.name);
        // The authenticated REGISTER sends two requests (challenge first).
        requests += k.name.includes('authenticated') ? 2 : 1;
      }
      const cpu = cpuDelta(c0, treeCpu(kam.daemon.pid)) - idlePerMs * (performance.now() - t0);
      push(out.cpuUs, k.name, (cpu / requests) * 1e6);
    }
    await kam.rpc('cfg.seti', 'core', 'latency_cfg_log', '3');
    const log = kam.daemon.log().slice(offset);
    for (const t of parseRouteTimes(log)) {
      const name = ids.get(t.callId);
      if (name === undefined || t.kind !== 'request') continue;
      push(out.route, name, t.usec);
    }
  } finally {
    for (const e of endpoints) e.close();
    media.close();
    await kam.stop();
  }
  return out;
}

async function main(): Promise<void> {
  let bundle = args.bundle;
  let dir: string | null = null;
  if (bundle === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'ksr-probe-build-'));
    const report = await runBuild(optionsFromArgs(['--out-dir', dir], PROJECT_DIR));
    if (!report.ok) throw new Error(report.problems.map((p) => p.message).join('\n'));
    bundle = join(dir, 'kamailio.js');
  }
  const users = makeUsers('p', 200, 50);
  const rtp = await startRtpengine(1);
  const all: Record<Engine, ProbeResult> = { native: { route: new Map(), cpuUs: new Map() }, ts: { route: new Map(), cpuUs: new Map() } };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const engines = (args.engines ?? 'native,ts').split(',') as Engine[];
      for (const engine of r % 2 === 0 ? engines : [...engines].reverse()) {
        const res = await probe(engine, bundle, rtp.ng, users);
        for (const m of ['route', 'cpuUs'] as const) {
          for (const [k, v] of res[m]) all[engine][m].set(k, [...(all[engine][m].get(k) ?? []), ...v]);
        }
      }
    }
  } finally {
    await rtp.stop();
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
  const rows = [...new Set([...all.native.route.keys(), ...all.ts.route.keys()])];
  const f = (v: number, w = 6): string => (Number.isFinite(v) ? v.toFixed(0) : '-').padStart(w);
  const r = (a: number, b: number): string => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '-').padStart(6);
  process.stdout.write(`${''.padEnd(40)} | Kamailio CPU µs per request (median of rounds) | route time µs (median)\n`);
  process.stdout.write(`${'request'.padEnd(40)} | ${'native'.padStart(6)} ${'TS'.padStart(6)} ${'TS-nat'.padStart(6)} ${'TS/nat'.padStart(6)} | ${'native'.padStart(6)} ${'TS'.padStart(6)} ${'TS-nat'.padStart(6)}\n`);
  for (const k of rows) {
    const cn = median(all.native.cpuUs.get(k) ?? []);
    const ct = median(all.ts.cpuUs.get(k) ?? []);
    const n = median(all.native.route.get(k) ?? []);
    const t = median(all.ts.route.get(k) ?? []);
    process.stdout.write(`${k.padEnd(40)} | ${f(cn)} ${f(ct)} ${f(ct - cn)} ${r(ct, cn)} | ${f(n)} ${f(t)} ${f(t - n)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`probe: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
