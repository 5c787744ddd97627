/**
 * The hostile-input corpus (test/hostile/corpus/) against a real Kamailio
 * 5.6.3 started from kamailio.cfg with the built bundle, rtpengine and a
 * media server on loopback. Every entry must get the answer its expectation
 * names (a status, or silence where SIP or Kamailio says so); between
 * batches of 50 sends and at the end, Kamailio must still answer a
 * keepalive, register a subscriber and carry an authenticated call through
 * rtpengine, with every worker answering and no process gone.
 *
 * Then: half-open TCP connections (silent, half a message, a PROXY header
 * and nothing) must not keep new TCP clients waiting longer than
 * tcp_wait_data bounds it, and a deliberate flood from one address is
 * banned (pike) while everyone else is still served.
 *
 * The summary (counts per category) is printed and written to
 * .test-artifacts/hostile-summary.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KamailioRpc } from '../../build/reload/kamailio-rpc.ts';
import { projectBundle, type ProjectBundle } from '../support/bundle.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { ARTIFACTS_DIR } from '../support/process.ts';
import { startRtpengine, type RtpengineInstance } from '../support/rtpengine.ts';
import { MediaServer } from '../support/sip-agents.ts';
import { CORPUS, SUBSCRIBER, type Proxy, type Transport } from './corpus/index.ts';
import { checkHealth, healthy, type Health, type HealthEnv } from './health.ts';
import { formatTable, pool, runEntry, summarize, type Result, type RunEnv } from './run.ts';
import { sendTcp, sendUdp } from './wire.ts';

const BATCH = 50;
const CONCURRENCY = 16;
const CALLER = { user: 'carol', password: 'carol-secret' };

/** 127.66.x.y, one per send: pike (16 requests/2 s) and the digest-failure counter are per source address. */
function addresses(): () => string {
  let n = 0;
  return () => {
    n++;
    return `127.66.${Math.floor(n / 250)}.${(n % 250) + 1}`;
  };
}

describe('hostile input on a real Kamailio', () => {
  let bundle: ProjectBundle;
  let rtp: RtpengineInstance;
  let kam: KamailioInstance;
  let media: MediaServer;
  let proxy: Proxy;
  let rpc: KamailioRpc;
  let health: HealthEnv;
  let failed = false;
  const nextIp = addresses();
  const results: Result[] = [];
  const checks: Health[] = [];
  const measurements: Record<string, unknown> = {};

  beforeAll(async () => {
    bundle = projectBundle();
    rtp = await startRtpengine({ name: 'hostile-rtpengine' });
    kam = await startKamailio({
      name: 'hostile-kamailio',
      bundle: bundle.path,
      env: { SIP_DOMAIN: 'hostile.test' },
      rtpengineNg: rtp.ng,
      subscribers: [SUBSCRIBER, CALLER],
    });
    media = await MediaServer.start('127.0.0.1', kam.ports.mediaServer);
    proxy = {
      localIp: kam.localIp,
      publicIp: kam.publicIp,
      domain: kam.sipDomain,
      sipPort: kam.ports.sip,
      privatePort: kam.ports.private,
      webrtcPort: kam.ports.webrtc,
      mediaServer: { ip: '127.0.0.1', port: kam.ports.mediaServer },
    };
    rpc = KamailioRpc.forRunDir(kam.runDir);
    const pids = (await rpc.processes()).map((p) => p.pid);
    health = { proxy, rpc, media, subscriber: CALLER, pids, nextIp };
  });

  afterAll(async () => {
    const table = summarize(results);
    const unexpected = results.filter((r) => r.verdict === 'unexpected');
    // eslint-disable-next-line no-console
    console.log(`\nhostile input: ${results.length} sends\n${formatTable(table)}\n`);
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    writeFileSync(
      join(ARTIFACTS_DIR, 'hostile-summary.json'),
      JSON.stringify({ entries: CORPUS.length, sends: results.length, categories: table, unexpected, health: checks, measurements, results }, null, 2) + '\n',
    );
    media?.close();
    await kam?.stop({ failed });
    await rtp?.stop({ failed });
  });

  const env = (): RunEnv => ({
    proxy,
    nextIp,
    silenceMs: 500,
    replyMs: 2000,
    mediaServerSaw: (token) => media.saw(token),
  });

  it(`answers the ${CORPUS.length} corpus entries as SIP says over UDP and TCP (TLS/WSS too with HOSTILE_TLS=1), and keeps serving (health every ${BATCH} sends)`, async () => {
    // Hostile TLS (the WebRTC socket) crashes Kamailio 5.6.3 itself now and
    // then: a TLS worker dies in libssl/libcrypto (OpenSSL 3, Debian 12;
    // kamailio issue 3791, fixed by tls_threads_mode in 5.7+) and takes the
    // whole Kamailio down with it. Not a routing fault and not fixable here, so
    // CI sends the TLS/WSS entries only when HOSTILE_TLS=1 (README, Security).
    const withTls = process.env.HOSTILE_TLS === '1';
    const sends: Array<{ entry: (typeof CORPUS)[number]; transport: Transport }> = CORPUS.flatMap((entry) =>
      entry.transports.filter((transport) => withTls || (transport !== 'tls' && transport !== 'wss')).map((transport) => ({ entry, transport })),
    );
    expect(sends.length).toBeGreaterThanOrEqual(200);
    checks.push(await checkHealth(health, 'start'));
    for (let i = 0; i < sends.length; i += BATCH) {
      const batch = sends.slice(i, i + BATCH);
      results.push(...(await pool(batch.map(({ entry, transport }) => () => runEntry(entry, transport, env())), CONCURRENCY)));
      checks.push(await checkHealth(health, `${Math.min(i + BATCH, sends.length)} sends`));
    }
    const unexpected = results.filter((r) => r.verdict === 'unexpected');
    const describeResult = (r: Result): string =>
      `${r.category} / ${r.entry} [${r.transport}]: expected ${'reply' in r.expected ? `reply ${String(r.expected.reply)}` : 'closed' in r.expected ? 'closed' : 'silence'}, got ${r.got}`;
    failed ||= unexpected.length > 0;
    expect(unexpected.map(describeResult)).toEqual([]);
    for (const check of checks) expect(check, `health after ${check.after}`).toMatchObject(healthy(bundle.buildId, proxy));
  });

  it('serves new TCP clients while half-open connections hold the port (tcp_wait_data bounds the stall)', async () => {
    const target = { host: proxy.localIp, port: proxy.sipPort };
    const keepalive = (local: { ip: string; port: number }): Buffer =>
      Buffer.from(
        [
          `OPTIONS sip:${proxy.publicIp}:${proxy.sipPort};transport=tcp SIP/2.0`,
          `Via: SIP/2.0/TCP ${local.ip}:${local.port};branch=z9hG4bK-halfopen-${local.port};rport`,
          'Max-Forwards: 70',
          `From: <sip:probe@${proxy.domain}>;tag=${local.port}`,
          `To: <sip:${proxy.publicIp}:${proxy.sipPort}>`,
          `Call-ID: halfopen-${local.port}-${Math.random()}`,
          'CSeq: 1 OPTIONS',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
    /** A fresh TCP client's keepalive: ms to its 200. */
    const newClient = async (): Promise<number> => {
      const seen = await sendTcp(target, keepalive, { from: nextIp(), windowMs: 15_000, done: (o) => o.statuses.length > 0 });
      expect(seen.statuses).toEqual([200]);
      return seen.firstAnswerMs ?? Infinity;
    };
    const open = async (count: number, first: (ip: string) => string | undefined): Promise<Socket[]> =>
      Promise.all(
        Array.from({ length: count }, async () => {
          const ip = nextIp();
          const socket = connect({ host: target.host, port: target.port, localAddress: ip });
          socket.on('error', () => undefined);
          await new Promise<void>((r) => socket.once('connect', () => r()));
          const bytes = first(ip);
          if (bytes !== undefined) socket.write(bytes);
          return socket;
        }),
      );
    /** Fresh clients one after the other: [min, median, max] ms to their 200. */
    const clients = async (n: number): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) ms.push(Math.round(await newClient()));
      ms.sort((a, b) => a - b);
      return [ms[0]!, ms[Math.floor(n / 2)]!, ms[n - 1]!];
    };
    // With tcp_accept_haproxy, tcp_main peeks at each new connection's first
    // bytes; when they are not there yet it sleeps 50 ms (tcp_main.c
    // tcpconn_read_haproxy), so a client can wait 50 ms even on an idle proxy.
    const baseline = await clients(10);
    // Connections that sent a PROXY header, or half a message, and nothing more:
    // tcp_main has read their first bytes, so they cost nothing but a file descriptor.
    const proxyOnly = await open(20, (ip) => `PROXY TCP4 ${ip} ${proxy.publicIp} 40000 ${proxy.sipPort}\r\n`);
    const halfMessage = await open(20, (ip) => `INVITE sip:1000@${proxy.domain} SIP/2.0\r\nVia: SIP/2.0/TCP ${ip}:1;branch=z9hG4bK-half\r\nMax-For`);
    const afterHalfOpen = await clients(10);
    // Connections that send nothing: tcp_main waits up to tcp_wait_data
    // (500 ms) for each one's first bytes, accepting nothing else meanwhile.
    const silentOne = await open(1, () => undefined);
    const afterOneSilent = Math.round(await newClient());
    const silentTen = await open(10, () => undefined);
    const afterTenSilent = Math.round(await newClient());
    for (const s of [...proxyOnly, ...halfMessage, ...silentOne, ...silentTen]) s.destroy();
    const afterClosing = await clients(5);
    // 20 clients connecting at once: tcp_main takes them one by one, each
    // possibly after its 50 ms peek-and-sleep.
    const burstStarted = performance.now();
    const burst = (await Promise.all(Array.from({ length: 20 }, () => newClient()))).map(Math.round).sort((a, b) => a - b);
    const burstMs = Math.round(performance.now() - burstStarted);
    Object.assign(measurements, {
      halfOpenTcp: {
        note: 'ms from connect to the 200 of a fresh TCP client keepalive; [min, median, max] where several',
        baseline10Clients: baseline,
        after20ProxyOnlyAnd20HalfMessage10Clients: afterHalfOpen,
        afterOneSilentConnection: afterOneSilent,
        afterTenSilentConnections: afterTenSilent,
        afterClosingAll5Clients: afterClosing,
        burstOf20Clients: { allAnsweredMs: burstMs, slowest: burst[19], median: burst[10] },
      },
    });
    // eslint-disable-next-line no-console
    console.log('half-open TCP:', JSON.stringify(measurements['halfOpenTcp']));
    expect(afterHalfOpen[2]).toBeLessThan(200);
    // One silent connection costs at most tcp_wait_data (500 ms) plus tcp_main's 50 ms polling step.
    expect(afterOneSilent).toBeLessThan(800);
    // Ten cost ten waits, one after the other: the bound is per connection, not per burst.
    expect(afterTenSilent).toBeGreaterThan(9 * 500);
    expect(afterTenSilent).toBeLessThan(10 * 600 + 500);
    expect(afterClosing[2]).toBeLessThan(200);
    checks.push(await checkHealth(health, 'half-open TCP'));
    expect(checks.at(-1)).toMatchObject(healthy(bundle.buildId, proxy));
  });

  it('bans a deliberate flood from one address (pike) and goes on serving everybody else', async () => {
    const flooder = nextIp();
    const flood = async (n: number): Promise<Array<number | undefined>> => {
      const out: Array<number | undefined> = [];
      for (let i = 0; i < n; i++) {
        const seen = await sendUdp(
          { host: proxy.localIp, port: proxy.sipPort },
          (local) =>
            Buffer.from(
              [
                `OPTIONS sip:1000@${proxy.domain}:${proxy.sipPort} SIP/2.0`,
                `Via: SIP/2.0/UDP ${local.ip}:${local.port};branch=z9hG4bK-flood-${i}-${local.port};rport`,
                'Max-Forwards: 70',
                `From: <sip:flood@${proxy.domain}>;tag=${i}`,
                `To: <sip:1000@${proxy.domain}>`,
                `Call-ID: flood-${i}-${local.port}`,
                `CSeq: ${i + 1} OPTIONS`,
                'Content-Length: 0',
                '',
                '',
              ].join('\r\n'),
            ),
          { from: flooder, windowMs: 150, done: (o) => o.statuses.length > 0 },
        );
        out.push(seen.statuses[0]);
      }
      return out;
    };
    const statuses = await flood(50);
    const answered = statuses.filter((s) => s !== undefined).length;
    const firstSilent = statuses.indexOf(undefined);
    // Answered (407) until pike's 16 per 2 s sampling unit, dropped from then
    // on. pike counts per unit: a burst that straddles a unit boundary gets up
    // to 16 in each, so up to 32 pass (seen: 26 in CI), never more.
    expect(answered).toBeGreaterThanOrEqual(10);
    expect(answered).toBeLessThanOrEqual(33);
    expect(statuses.slice(firstSilent).every((s) => s === undefined)).toBe(true);
    expect(await rpc.call('htable.get', 'ipban', flooder)).toMatch(/value: 1/);
    // Still banned after the burst, everybody else served.
    expect(await flood(1)).toEqual([undefined]);
    checks.push(await checkHealth(health, 'flood'));
    expect(checks.at(-1)).toMatchObject(healthy(bundle.buildId, proxy));
    // The documented unban (README, Security) lifts it.
    await rpc.call('htable.delete', 'ipban', flooder);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await flood(1)).toEqual([407]);
    const why = { silence: true as const, why: 'pike: more than 16 requests in 2 s from one address; the routing bans it into ipban (5 min) and drops it' };
    statuses.forEach((s, i) =>
      results.push({
        entry: `flood OPTIONS #${i + 1}`,
        category: 'flood',
        transport: 'udp',
        expected: s === undefined ? why : { reply: 407, why: 'within pike\'s limit: answered as usual' },
        verdict: s === undefined ? 'silent' : 'answered',
        got: s === undefined ? 'nothing' : String(s),
        ms: 0,
      }),
    );
  });

  it('ends with every process it started alive, every worker answering, and nothing critical in Kamailio\'s log', async () => {
    checks.push(await checkHealth(health, 'end'));
    expect(checks.at(-1)).toMatchObject(healthy(bundle.buildId, proxy));
    const log = kam.daemon.log();
    const count = (re: RegExp): number => log.split('\n').filter((l) => re.test(l)).length;
    measurements['kamailioLog'] = { errors: count(/ ERROR: /), warnings: count(/ WARNING: /), critical: count(/ CRITICAL: |\bBUG\b|segfault|core dump/) };
    expect(log).not.toMatch(/ CRITICAL: |\bBUG\b|segfault|core dump|exiting/);
    expect(log).not.toMatch(/routing error in ksr_/);
  });
});
