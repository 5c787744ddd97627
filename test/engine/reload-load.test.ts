/**
 * Reloads under load, in a real Kamailio with the project's own routing: a
 * SIPp media server (dispatcher set 1, 127.0.0.4) places calls continuously
 * to a registered subscriber (a SIPp UAS at 127.0.0.6) through Kamailio and
 * a real rtpengine, while the reload tool alternates two builds of the
 * routing (src/main.ts, and the same plus one more global), built once as
 * CI would; each reload (`npm run reload -- --bundle ...`) validates against
 * the running Kamailio, installs, reloads and confirms in every worker.
 * No call may fail. The figures are printed.
 *
 * CI runs 50 calls/s for 30 s with 20 reloads. The long version:
 *   npm run test:reload-load            (RELOAD_LOAD_SECONDS=120)
 * or set RELOAD_LOAD_SECONDS, RELOAD_LOAD_RATE, RELOAD_LOAD_RELOADS.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuild } from '../../build/bundle/pipeline.ts';
import { DEFAULT_API_LIST } from '../../build/kemi/api-list.ts';
import { installInto, readSlot, slotsFor } from '../../build/reload/install.ts';
import { KamailioRpc } from '../../build/reload/kamailio-rpc.ts';
import { reloadRouting, type ReloadContext, type ReloadReport } from '../../build/reload/reload.ts';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { allocatePorts, releasePorts } from '../support/ports.ts';
import { keepArtifacts, spawnDaemon, stopDaemon, tail, type Daemon } from '../support/process.ts';
import { startRtpengine, type RtpengineInstance } from '../support/rtpengine.ts';
import { SipClient } from '../support/sip-client.ts';

const SECONDS = Number(process.env['RELOAD_LOAD_SECONDS'] ?? 30);
const RATE = Number(process.env['RELOAD_LOAD_RATE'] ?? 50);
const RELOADS = Number(process.env['RELOAD_LOAD_RELOADS'] ?? 20);
const CALLS = RATE * SECONDS;

const DOMAIN = 'example.test';
const MEDIA_SERVER_IP = '127.0.0.4';
const SUBSCRIBER_IP = '127.0.0.6';
const SIPP_DIR = join(PROJECT_DIR, 'test/fixtures/reload/sipp');
const ENTRIES = [join(PROJECT_DIR, 'test/fixtures/reload/routing-b/main.ts'), join(PROJECT_DIR, 'src/main.ts')];

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

interface SippStats {
  readonly created: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly outOfCall: number;
  readonly row: Readonly<Record<string, string>>;
}

/** The last row of SIPp's -trace_stat CSV (cumulative counters). */
function readSippStats(file: string): SippStats {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const names = lines[0]!.split(';');
  const values = lines[lines.length - 1]!.split(';');
  const row = Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
  const n = (name: string): number => Number(row[name] ?? NaN);
  return {
    created: n('TotalCallCreated'),
    successful: n('SuccessfulCall(C)'),
    failed: n('FailedCall(C)'),
    retransmissions: n('Retransmissions(C)'),
    outOfCall: n('OutOfCallMsgs(C)'),
    row,
  };
}

function sipp(name: string, dir: string, args: string[]): Daemon {
  return spawnDaemon({ name, command: 'sipp', args, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, cwd: dir, logFile: join(dir, `${name}.log`) });
}

const stat = (values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `min ${sorted[0]!.toFixed(0)} / median ${at(0.5).toFixed(0)} / max ${sorted[sorted.length - 1]!.toFixed(0)} ms`;
};

describe(`${RELOADS} reloads while SIPp places ${RATE} calls/s for ${SECONDS} s`, () => {
  let rtp: RtpengineInstance;
  let kam: KamailioInstance;
  let uas: Daemon;
  let dir: string;
  let ports: number[];
  let context: ReloadContext;
  let bundles: string[];
  let failed = true;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ksr-reload-load-'));
    ports = await allocatePorts(6);
    const [, , , uasPort, uasMedia, uasCtl] = ports as [number, number, number, number, number, number];
    // The two builds, made once (as CI would), then alternated by `npm run reload -- --bundle`.
    const build = async (entry: string, outDir: string): Promise<string> => {
      const report = await runBuild({
        projectRoot: PROJECT_DIR,
        entry,
        outDir,
        tsconfig: join(PROJECT_DIR, 'tsconfig.json'),
        cfgPath: join(PROJECT_DIR, 'kamailio.cfg'),
        apiListPath: DEFAULT_API_LIST,
        typeCheck: false,
        duktape: true,
      });
      expect(report.problems.map((p) => p.message)).toEqual([]);
      return report.bundlePath;
    };
    bundles = [await build(ENTRIES[0]!, join(dir, 'build-b')), await build(ENTRIES[1]!, join(dir, 'build-a'))];
    const first = { bundlePath: join(dir, 'dist', 'kamailio.js') };
    installInto(readSlot(slotsFor(bundles[1]!).current)!, slotsFor(first.bundlePath).current);
    rtp = await startRtpengine({ name: 'reload-load-rtpengine' });
    kam = await startKamailio({
      name: 'reload-load-kamailio',
      bundle: first.bundlePath,
      env: { SIP_DOMAIN: DOMAIN },
      rtpengineNg: rtp.ng,
      subscribers: [{ user: 'alice', password: 'secret' }],
      dispatcherList: `1 sip:${MEDIA_SERVER_IP}:${ports[0]} 0 0\n`,
    });
    context = {
      projectRoot: PROJECT_DIR,
      bundlePath: first.bundlePath,
      rpc: KamailioRpc.forRunDir(kam.runDir),
      cfgPath: join(PROJECT_DIR, 'kamailio.cfg'),
      confirmTimeoutMs: 10_000,
    };
    uas = sipp('sipp-uas', dir, [
      '-sf', join(SIPP_DIR, 'uas-answer.xml'), '-s', 'alice',
      '-i', SUBSCRIBER_IP, '-p', String(uasPort), '-t', 'u1', '-bind_local',
      '-mi', SUBSCRIBER_IP, '-mp', String(uasMedia), '-cp', String(uasCtl), '-nostdin', '-aa',
      '-trace_err', '-error_file', join(dir, 'uas-errors.log'),
    ]);
    await registerAlice(uasPort);
  });

  afterAll(async () => {
    if (uas) await stopDaemon(uas);
    await kam?.stop({ failed });
    await rtp?.stop({ failed });
    if (failed && dir) {
      keepArtifacts('reload-load', ['sipp-uac.log', 'sipp-uas.log', 'uac-stats.csv', 'uac-errors.log', 'uas-errors.log'].map((f) => join(dir, f)));
    }
    if (ports) releasePorts(ports);
  });

  /** alice registers with the SIPp UAS as her contact (digest over UDP, from the UAS's address). */
  async function registerAlice(uasPort: number): Promise<void> {
    const c = await SipClient.open({ transport: 'udp', remoteAddress: kam.localIp, remotePort: kam.ports.sip, localAddress: SUBSCRIBER_IP });
    try {
      const uri = `sip:${DOMAIN}`;
      const base = {
        method: 'REGISTER',
        uri,
        from: `<sip:alice@${DOMAIN}>;tag=reg`,
        to: `<sip:alice@${DOMAIN}>`,
        callId: `reload-load-reg@${SUBSCRIBER_IP}`,
        headers: [`Contact: <sip:alice@${SUBSCRIBER_IP}:${uasPort}>`, 'Expires: 3600'],
      };
      const challenge = (await c.request({ ...base, cseq: 1 })).pop()!;
      expect(challenge.status).toBe(401);
      const nonce = /nonce="([^"]+)"/.exec(challenge.header('WWW-Authenticate') ?? '')?.[1] ?? '';
      const response = md5(`${md5(`alice:${DOMAIN}:secret`)}:${nonce}:${md5(`REGISTER:${uri}`)}`);
      const authorization =
        `Authorization: Digest username="alice", realm="${DOMAIN}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
      expect((await c.request({ ...base, cseq: 2, headers: [...base.headers, authorization] })).pop()!.status).toBe(200);
    } finally {
      c.close();
    }
  }

  it('completes every call while the routing is reloaded and confirmed in every worker', async () => {
    const [uacPort, uacMedia, uacCtl] = ports as [number, number, number];
    const stats = join(dir, 'uac-stats.csv');
    const started = performance.now();
    const uac = sipp('sipp-uac', dir, [
      `${kam.localIp}:${kam.ports.private}`,
      '-sf', join(SIPP_DIR, 'uac-call.xml'), '-s', 'alice', '-key', 'domain', DOMAIN,
      '-i', MEDIA_SERVER_IP, '-p', String(uacPort), '-t', 'u1', '-bind_local',
      '-mi', MEDIA_SERVER_IP, '-mp', String(uacMedia), '-cp', String(uacCtl), '-nostdin', '-aa',
      '-r', String(RATE), '-rp', '1000', '-m', String(CALLS), '-l', String(RATE * 10),
      '-recv_timeout', '10000', '-timeout', `${SECONDS + 60}s`, '-timeout_error',
      '-trace_stat', '-stf', stats, '-fd', '1',
      '-trace_err', '-error_file', join(dir, 'uac-errors.log'),
    ]);

    // Reloads start once calls are flowing and alternate the two builds.
    await new Promise((r) => setTimeout(r, 2000));
    const reloads: Array<{ report: ReloadReport; at: number }> = [];
    for (let i = 0; i < RELOADS && uac.isRunning(); i++) {
      const report = await reloadRouting(context, { bundle: bundles[i % 2]! });
      reloads.push({ report, at: (performance.now() - started) / 1000 });
      expect(report.problems, `reload ${i + 1}`).toEqual([]);
      expect(report.outcome).toBe('reloaded');
      // Spread them over the run rather than bunching them at its start.
      const spacing = Math.max(0, ((SECONDS - 4) * 1000) / RELOADS - report.timings.total);
      await new Promise((r) => setTimeout(r, spacing));
    }
    const reloadsDoneAt = (performance.now() - started) / 1000;
    const exit = await uac.exited;
    const elapsed = (performance.now() - started) / 1000;
    const result = readSippStats(stats);

    const ids = [...new Set(reloads.map((r) => r.report.to!.buildId))];
    const lines = [
      `reload under load: ${RATE} calls/s for ${SECONDS} s (${elapsed.toFixed(1)} s with the last calls' hang-up)`,
      `  calls: ${result.created} placed, ${result.successful} completed, ${result.failed} failed, ` +
        `${result.retransmissions} retransmissions, ${result.outOfCall} out-of-call messages`,
      `  reloads: ${reloads.length} between ${reloads[0]?.at.toFixed(1)} s and ${reloadsDoneAt.toFixed(1)} s, alternating builds ${ids.join(' / ')}`,
      `  per reload (api_list, guards + Duktape, install, app_jsdt.reload, confirm): total ${stat(reloads.map((r) => r.report.timings.total))}`,
      `  app_jsdt.reload RPC: ${stat(reloads.map((r) => r.report.timings.rpc))}; time to confirm all ` +
        `${reloads[0]?.report.confirmation?.workers.length} workers: ${stat(reloads.map((r) => r.report.timings.confirm))}`,
    ];
    console.log(lines.join('\n'));

    expect(reloads).toHaveLength(RELOADS);
    expect(ids).toHaveLength(2);
    expect(reloadsDoneAt).toBeLessThan(elapsed);
    expect(reloads.every((r) => r.report.confirmation!.workers.length === 12 && r.report.confirmation!.ok)).toBe(true);
    expect(result.created).toBe(CALLS);
    expect(result.failed).toBe(0);
    expect(result.successful).toBe(CALLS);
    expect(exit.code, tail(uac.log(), 20)).toBe(0);
    // SIPp's error log also notes the dispatcher's OPTIONS probes it answered (-aa); none may be about a call.
    const errors = existsSync(join(dir, 'uac-errors.log')) ? readFileSync(join(dir, 'uac-errors.log'), 'utf8') : '';
    expect(errors.match(new RegExp(`[^\\s']*@${MEDIA_SERVER_IP.replace(/\./g, '\\.')}`, 'g')) ?? []).toEqual([]);
    failed = false;
  }, (SECONDS + 120) * 1000);
});

