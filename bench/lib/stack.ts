/**
 * The system under test for `npm run bench`: rtpengine and Kamailio on
 * loopback, started from the project's own kamailio.cfg either with the
 * TypeScript bundle (app_jsdt) or with its native twin
 * (`-A WITH_NATIVE_ROUTING`, bench/native/routing.cfg), each pinned to a core
 * with taskset. Daemons are stopped by PID only (test/support/process.ts).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDatabase, runSql, sqlitePath } from '../../scripts/lib/db.ts';
import { PROJECT_DIR, deploymentEnv, resolveDeployment } from '../../scripts/lib/env.ts';
import { waitForNg, writeRtpengineConf } from '../../scripts/lib/rtpengine.ts';
import { digests } from '../../scripts/subscriber.ts';
import { allocatePorts, isPortFree, releasePorts } from '../../test/support/ports.ts';
import { spawnDaemon, stopDaemon, tail, waitUntil, type Daemon } from '../../test/support/process.ts';
import { sipPing } from './sip-ping.ts';

const execFileAsync = promisify(execFile);

export type Engine = 'native' | 'ts';

export const LOCAL_IP = '127.0.0.1';
export const PUBLIC_IP = '127.0.0.2';
/** The media server's address: dispatcher set 1 (matched by IP only). */
export const MEDIA_SERVER_IP = '127.0.0.1';
/** The client that is called (a registered UAS); never 127.0.0.1, which is the media server. */
export const CALLEE_IP = '127.0.0.3';

/**
 * rtpengine media ports for the benchmark: outside the tests' 25000-25999
 * (four ports per call; a few hundred calls are open at the highest rates)
 * and below the kernel's ephemeral range (32768-).
 */
export const BENCH_MEDIA = { min: 26000, max: 27999 } as const;

export interface Rtpengine {
  daemon: Daemon;
  ng: string;
  dir: string;
  stop(): Promise<void>;
}

/** rtpengine from the project's template, user space, pinned to `cpu`. */
export async function startRtpengine(cpu: number): Promise<Rtpengine> {
  const [ngPort] = (await allocatePorts(1)) as [number];
  if (!(await isPortFree(BENCH_MEDIA.min)) || !(await isPortFree(BENCH_MEDIA.max))) {
    throw new Error(`the bench's media ports ${BENCH_MEDIA.min}-${BENCH_MEDIA.max} are in use`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ksr-bench-rtpengine-'));
  const ng = `udp:${LOCAL_IP}:${ngPort}`;
  const dep = resolveDeployment({
    LOCAL_IP,
    PUBLIC_IP,
    RTPENGINE_NG: ng,
    RTP_PORT_MIN: String(BENCH_MEDIA.min),
    RTP_PORT_MAX: String(BENCH_MEDIA.max),
    RUN_DIR: dir,
  });
  const conf = join(dir, 'rtpengine.conf');
  writeRtpengineConf(dep, conf);
  const daemon = spawnDaemon({
    name: 'bench-rtpengine',
    command: 'taskset',
    // --config-file always (else /etc/rtpengine/rtpengine.conf is read too);
    // delete-delay 0 frees a finished call's ports at once; log-level 4
    // (warnings) keeps per-call INFO lines out of the measurement.
    args: ['-c', String(cpu), 'rtpengine', `--config-file=${conf}`, '--foreground', '--log-stderr', '--log-level=4',
      `--pidfile=${join(dir, 'rtpengine.pid')}`, '--delete-delay=0'],
    env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    cwd: dir,
    logFile: join(dir, 'rtpengine.log'),
  });
  if (!(await waitForNg(LOCAL_IP, ngPort, 10_000)) || !daemon.isRunning()) {
    await stopDaemon(daemon);
    const log = daemon.log();
    rmSync(dir, { recursive: true, force: true });
    releasePorts([ngPort]);
    throw new Error(`rtpengine did not answer on ${ng}:\n${tail(log)}`);
  }
  return {
    daemon,
    ng,
    dir,
    async stop() {
      await stopDaemon(daemon);
      rmSync(dir, { recursive: true, force: true });
      releasePorts([ngPort]);
    },
  };
}

export interface User {
  user: string;
  password: string;
  /** Source address of this user's requests (SIPp -t ui): pike counts per address. */
  ip: string;
}

/**
 * `count` subscribers, each with its own loopback source address
 * (127.0.<1..>.<1..250>), so that pike (16 requests per 2 s per address in
 * kamailio.cfg) sees a crowd of clients and not one flooding address.
 */
export function makeUsers(prefix: string, count: number, firstSubnet: number): User[] {
  const users: User[] = [];
  for (let i = 0; i < count; i++) {
    const ip = `127.0.${firstSubnet + Math.floor(i / 250)}.${(i % 250) + 1}`;
    users.push({ user: `${prefix}${String(i + 1).padStart(5, '0')}`, password: `pw-${prefix}-${i + 1}`, ip });
  }
  return users;
}

export interface KamailioOptions {
  engine: Engine;
  /** The TypeScript bundle (copied; the copy is what app_jsdt loads and what a reload rereads). */
  bundle: string;
  rtpengineNg: string;
  cpu: number;
  subscribers: readonly User[];
  /** Extra kamailio arguments (e.g. memory sizes). */
  extraArgs?: readonly string[];
  /** Another cfg (probes only); default the project's kamailio.cfg. */
  cfgFile?: string;
  /** Ready when the ctl socket answers instead of a keepalive (a probe routing that never replies). */
  readyByRpc?: boolean;
}

export interface Kamailio {
  readonly engine: Engine;
  readonly daemon: Daemon;
  readonly runDir: string;
  readonly logFile: string;
  /** KEMI_BUNDLE: the copy app_jsdt loaded. */
  readonly bundlePath: string;
  readonly ports: { sip: number; private: number; mediaServer: number; callee: number };
  readonly sipDomain: string;
  /** Milliseconds from spawn to the first answered OPTIONS keepalive. */
  readonly startMs: number;
  rpc(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Kamailio from the project's kamailio.cfg, from the project root as CONTRACT
 * says (plus `-A WITH_NATIVE_ROUTING` for the native twin), pinned to `cpu`.
 */
export async function startKamailio(opts: KamailioOptions): Promise<Kamailio> {
  const ports = await allocatePorts(4);
  const [sip, priv, mediaServer, callee] = ports as [number, number, number, number];
  // On tmpfs when there is one: the sqlite database (subscribers, and usrloc's
  // write-back every 60 s) must not wait on a disk another process keeps busy,
  // or auth_check fails with "database is locked" and the load step with it.
  const runDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `ksr-bench-${opts.engine}-`));
  const bundlePath = join(runDir, 'kamailio.js');
  copyFileSync(opts.bundle, bundlePath);
  const dispatcherList = join(runDir, 'dispatcher.list');
  writeFileSync(dispatcherList, `1 sip:${MEDIA_SERVER_IP}:${mediaServer} 0 0 duid=ms1\n`);
  const dep = resolveDeployment({
    LOCAL_IP,
    PUBLIC_IP,
    SIP_PORT: String(sip),
    PRIVATE_PORT: String(priv),
    RTPENGINE_NG: opts.rtpengineNg,
    DISPATCHER_LIST: dispatcherList,
    KEMI_BUNDLE: bundlePath,
    RUN_DIR: runDir,
  }, PROJECT_DIR);
  const env = deploymentEnv(dep);
  delete env['RTP_PORT_MIN'];
  delete env['RTP_PORT_MAX'];
  ensureDatabase(dep.DB_URL);
  // Write-ahead log (kept in the file): auth_db's reads in every worker do not
  // fail with "database is locked" while usrloc's timer writes the location
  // table back (db_mode 2). Same for both engines; the cfg is untouched.
  runSql(sqlitePath(dep.DB_URL), 'PRAGMA journal_mode=WAL;');
  addSubscribers(dep.DB_URL, dep.SIP_DOMAIN, opts.subscribers);

  const logFile = join(runDir, 'kamailio.log');
  const ctl = `unix:${runDir}/kamailio_ctl`;
  const started = performance.now();
  const daemon = spawnDaemon({
    name: `bench-kamailio-${opts.engine}`,
    command: 'taskset',
    args: [
      '-c', String(opts.cpu),
      'kamailio', '-f', opts.cfgFile ?? join(PROJECT_DIR, 'kamailio.cfg'), '-DD', '-E', '-P', join(runDir, 'kamailio.pid'), '-Y', runDir,
      ...(opts.engine === 'native' ? ['-A', 'WITH_NATIVE_ROUTING'] : []),
      ...(opts.extraArgs ?? []),
    ],
    env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', PWD: PROJECT_DIR, ...env },
    cwd: PROJECT_DIR,
    logFile,
  });
  const cleanup = (): void => {
    releasePorts(ports);
    rmSync(runDir, { recursive: true, force: true });
  };
  // Ready = the routing answered a keepalive (the bundle is loaded in the
  // worker that answered; every worker loads it in child_init, before the
  // UDP workers start reading).
  const rpcReady = async (): Promise<boolean> => {
    try {
      await execFileAsync('kamcmd', ['-s', ctl, 'core.version'], { timeout: 1000 });
      return true;
    } catch {
      return false;
    }
  };
  const ready = await waitUntil(
    async () => !daemon.isRunning() || (opts.readyByRpc === true ? await rpcReady() : (await sipPing(LOCAL_IP, sip, 200)) !== null),
    20_000,
    5,
  );
  const startMs = performance.now() - started;
  if (!ready || !daemon.isRunning()) {
    await stopDaemon(daemon);
    const log = daemon.log();
    cleanup();
    throw new Error(`Kamailio (${opts.engine}) did not start:\n${tail(log)}`);
  }
  const rpc = async (...args: string[]): Promise<string> =>
    (await execFileAsync('kamcmd', ['-s', ctl, ...args], { timeout: 5000 })).stdout;
  return {
    engine: opts.engine,
    daemon,
    runDir,
    logFile,
    bundlePath,
    ports: { sip, private: priv, mediaServer, callee },
    sipDomain: dep.SIP_DOMAIN,
    startMs,
    rpc,
    async stop() {
      await stopDaemon(daemon);
      cleanup();
    },
  };
}

/** The subscribers in one transaction (scripts/subscriber.ts, in bulk). */
function addSubscribers(dbUrl: string, realm: string, users: readonly User[]): void {
  if (users.length === 0) return;
  const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  const rows = users.map((u) => {
    const { ha1, ha1b } = digests(u.user, realm, u.password);
    return `(${lit(u.user)}, ${lit(realm)}, ${lit(u.password)}, ${lit(ha1)}, ${lit(ha1b)})`;
  });
  runSql(sqlitePath(dbUrl), `BEGIN; INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ${rows.join(',\n')}; COMMIT;`);
}

/** Registers `users` at `contact` through usrloc's RPC (set-up, not measured). */
export async function registerContacts(kam: Kamailio, users: readonly User[], contactHostPort: string): Promise<void> {
  // ul.add table AOR contact expires q path flags cflags methods; kamcmd
  // types its arguments: q must look like a double, path "." means none,
  // methods = every method (registrar's method_filtering is on).
  for (const u of users) {
    const out = await kam.rpc('ul.add', 'location', u.user, `sip:${u.user}@${contactHostPort}`, '3600', '1.0', 's:.', '0', '0', '2147483647');
    if (/error/i.test(out)) throw new Error(`ul.add ${u.user}: ${out}`);
  }
}

export function benchWorkDir(): string {
  const dir = join(PROJECT_DIR, 'bench', '.work');
  mkdirSync(dir, { recursive: true });
  return dir;
}
