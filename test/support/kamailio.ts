/**
 * A real Kamailio 5.6.3 for tests, started exactly as CONTRACT.md says
 * (`kamailio -f kamailio.cfg -DD -E -P $RUN_DIR/kamailio.pid -Y $RUN_DIR`,
 * from the project root, configured only by environment variables) with a
 * given bundle, on free loopback ports, with its own RUN_DIR, sqlite database
 * and TLS pair under a temp directory. Stopped by PID; the log is kept in
 * .test-artifacts/ when the caller says the test failed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDatabase } from '../../scripts/lib/db.ts';
import { PROJECT_DIR, deploymentEnv, resolveDeployment } from '../../scripts/lib/env.ts';
import { addSubscriber } from '../../scripts/subscriber.ts';
import { allocatePorts, releasePorts } from './ports.ts';
import { keepArtifacts, spawnDaemon, stopDaemon, tail, waitUntil, type Daemon } from './process.ts';

const execFileAsync = promisify(execFile);

export interface KamailioOptions {
  /** Label for logs and artifacts. */
  name?: string;
  /** The JavaScript bundle to load (absolute path), e.g. dist/kamailio.js. */
  bundle: string;
  /** Extra or overriding deployment variables (SIP_DOMAIN, PUBLIC_IP, ...). */
  env?: Record<string, string | undefined>;
  /** Content of the dispatcher list; default: set 1 = one media server at 127.0.0.1:<ports.mediaServer>. */
  dispatcherList?: string;
  /** Start with the TLS (WebRTC) socket, using a throwaway pair (default true). */
  tls?: boolean;
  /** rtpengine's ng socket (e.g. from startRtpengine); default: a port nothing listens on. */
  rtpengineNg?: string;
  /** Subscribers to create before start (realm = SIP_DOMAIN). */
  subscribers?: ReadonlyArray<{ user: string; password: string }>;
  /** Default: the project's kamailio.cfg. */
  cfgFile?: string;
  /** Appended to the CONTRACT command line, e.g. --loadmodule=cfg_rpc.so for run-time core settings. */
  extraArgs?: readonly string[];
}

export interface KamailioInstance {
  readonly daemon: Daemon;
  readonly runDir: string;
  /** binrpc ctl socket, for kamcmd -s. */
  readonly ctl: string;
  /** The environment Kamailio was started with (deployment variables only). */
  readonly env: Readonly<Record<string, string>>;
  readonly localIp: string;
  readonly publicIp: string;
  readonly sipDomain: string;
  readonly dbUrl: string;
  readonly ports: { readonly sip: number; readonly private: number; readonly webrtc: number; readonly mediaServer: number };
  /** kamcmd against this instance; returns stdout. */
  rpc(...args: string[]): Promise<string>;
  /** Stops by PID; keeps log, cfg env and lists in .test-artifacts/ when `failed`. */
  stop(opts?: { failed?: boolean }): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;

export function generateTlsPair(dir: string, commonName: string): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // EC P-256: generated in milliseconds, accepted by browsers.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${commonName}`, '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

export async function startKamailio(opts: KamailioOptions): Promise<KamailioInstance> {
  // Another test run on this host may grab a probed port before Kamailio
  // binds it: retry with fresh ports when that is why it failed.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortClash)) throw err;
    }
  }
}

class PortClash extends Error {}

async function startOnce(opts: KamailioOptions): Promise<KamailioInstance> {
  const name = opts.name ?? 'kamailio';
  const localIp = opts.env?.['LOCAL_IP'] ?? '127.0.0.1';
  const ports = await allocatePorts(5, localIp);
  const [sip, priv, webrtc, mediaServer, deadNg] = ports as [number, number, number, number, number];
  const runDir = mkdtempSync(join(tmpdir(), 'ksr-kamailio-'));
  const dispatcherList = join(runDir, 'dispatcher.list');
  writeFileSync(dispatcherList, opts.dispatcherList ?? `1 sip:127.0.0.1:${mediaServer} 0 0\n`);

  const vars: Record<string, string | undefined> = {
    LOCAL_IP: localIp,
    PUBLIC_IP: '127.0.0.2',
    SIP_PORT: String(sip),
    PRIVATE_PORT: String(priv),
    WEBRTC_PORT: String(webrtc),
    RTPENGINE_NG: opts.rtpengineNg ?? `udp:127.0.0.1:${deadNg}`,
    DISPATCHER_LIST: dispatcherList,
    KEMI_BUNDLE: opts.bundle,
    RUN_DIR: runDir,
    ...opts.env,
  };
  if (opts.tls ?? true) {
    const pair = generateTlsPair(join(runDir, 'tls'), vars['SIP_DOMAIN'] ?? vars['PUBLIC_IP'] ?? 'kamailio');
    vars['TLS_CERT'] ??= pair.cert;
    vars['TLS_KEY'] ??= pair.key;
  }
  const dep = resolveDeployment(vars, PROJECT_DIR);
  const env = deploymentEnv(dep);
  // Media range variables are for rtpengine only.
  delete env['RTP_PORT_MIN'];
  delete env['RTP_PORT_MAX'];
  ensureDatabase(dep.DB_URL);
  for (const s of opts.subscribers ?? []) addSubscriber(dep.DB_URL, dep.SIP_DOMAIN, s.user, s.password);

  const ctl = `unix:${runDir}/kamailio_ctl`;
  const cleanup = (): void => {
    releasePorts(ports);
    rmSync(runDir, { recursive: true, force: true });
  };
  const artifacts = (label: string): void => {
    writeFileSync(join(runDir, 'env.txt'), Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    keepArtifacts(label, [join(runDir, 'kamailio.log'), join(runDir, 'env.txt'), dispatcherList]);
  };

  const daemon = spawnDaemon({
    name,
    command: 'kamailio',
    args: ['-f', opts.cfgFile ?? join(PROJECT_DIR, 'kamailio.cfg'), '-DD', '-E', '-P', join(runDir, 'kamailio.pid'), '-Y', runDir, ...(opts.extraArgs ?? [])],
    // Only the deployment variables (plus PATH, and PWD as a shell would set
    // it): nothing from the test runner's environment leaks into the cfg.
    env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', PWD: PROJECT_DIR, ...env },
    cwd: PROJECT_DIR,
    logFile: join(runDir, 'kamailio.log'),
  });

  const rpc = async (...args: string[]): Promise<string> =>
    (await execFileAsync('kamcmd', ['-s', ctl, ...args], { timeout: 5000 })).stdout;
  const ready = await waitUntil(async () => {
    if (!daemon.isRunning()) return true;
    try {
      await rpc('core.version');
      return true;
    } catch {
      return false;
    }
  }, START_TIMEOUT_MS, 100);
  // A bundle that fails to load takes Kamailio down right after the ctl
  // process came up: give the workers a moment before trusting it.
  if (ready && daemon.isRunning()) await new Promise((r) => setTimeout(r, 150));

  if (!ready || !daemon.isRunning()) {
    await stopDaemon(daemon);
    const log = daemon.log();
    artifacts(`${name}-start-failure`);
    cleanup();
    if (/Address already in use/.test(log)) throw new PortClash(`port clash starting Kamailio:\n${tail(log, 10)}`);
    throw new Error(`Kamailio did not start (${ready ? 'exited' : 'ctl socket never answered'}):\n${tail(log)}`);
  }

  return {
    daemon,
    runDir,
    ctl,
    env,
    localIp,
    publicIp: dep.PUBLIC_IP,
    sipDomain: dep.SIP_DOMAIN,
    dbUrl: dep.DB_URL,
    ports: { sip, private: priv, webrtc, mediaServer },
    rpc,
    async stop({ failed = false } = {}) {
      await stopDaemon(daemon);
      if (failed) artifacts(name);
      cleanup();
    },
  };
}
