/**
 * A real rtpengine for tests: userspace only, config rendered from the
 * project's template (config/rtpengine.conf) for loopback, ng port and media
 * ports from the test ranges. Start it before Kamailio.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDeployment } from '../../scripts/lib/env.ts';
import { waitForNg, writeRtpengineConf } from '../../scripts/lib/rtpengine.ts';
import { allocateMediaRange, allocatePorts, releasePorts } from './ports.ts';
import { keepArtifacts, spawnDaemon, stopDaemon, tail, type Daemon } from './process.ts';

export interface RtpengineOptions {
  /** Label for logs and artifacts. */
  name?: string;
  localIp?: string;
  publicIp?: string;
  /** Number of media ports (default 100, taken from 25600-25999). */
  mediaPorts?: number;
  /** The ng port to listen on (default: a free one), e.g. to restart on the port a Kamailio already uses. */
  ngPort?: number;
}

export interface RtpengineInstance {
  readonly daemon: Daemon;
  /** For Kamailio's RTPENGINE_NG: udp:IP:PORT. */
  readonly ng: string;
  readonly ngPort: number;
  readonly media: { min: number; max: number };
  readonly dir: string;
  /** Stops by PID; keeps config and log in .test-artifacts/ when `failed`. */
  stop(opts?: { failed?: boolean }): Promise<void>;
}

export async function startRtpengine(opts: RtpengineOptions = {}): Promise<RtpengineInstance> {
  const name = opts.name ?? 'rtpengine';
  const localIp = opts.localIp ?? '127.0.0.1';
  const ngPort = opts.ngPort ?? ((await allocatePorts(1, localIp)) as [number])[0];
  const media = await allocateMediaRange(opts.mediaPorts ?? 100);
  const dir = mkdtempSync(join(tmpdir(), 'ksr-rtpengine-'));
  const ng = `udp:${localIp}:${ngPort}`;
  const dep = resolveDeployment({
    LOCAL_IP: localIp,
    PUBLIC_IP: opts.publicIp ?? '127.0.0.2',
    RTPENGINE_NG: ng,
    RTP_PORT_MIN: String(media.min),
    RTP_PORT_MAX: String(media.max),
    RUN_DIR: dir,
  });
  const conf = join(dir, 'rtpengine.conf');
  writeRtpengineConf(dep, conf);
  const daemon = spawnDaemon({
    name,
    command: 'rtpengine',
    // --config-file always (or /etc/rtpengine/rtpengine.conf is read too);
    // delete-delay 0 frees the ports of a finished call at once.
    args: [`--config-file=${conf}`, '--foreground', '--log-stderr', `--pidfile=${join(dir, 'rtpengine.pid')}`, '--delete-delay=0'],
    env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    cwd: dir,
    logFile: join(dir, 'rtpengine.log'),
  });
  const cleanup = (): void => {
    releasePorts([ngPort, media.min]);
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = await waitForNg(localIp, ngPort, 10_000);
  if (!ready || !daemon.isRunning()) {
    await stopDaemon(daemon);
    const log = daemon.log();
    keepArtifacts(`${name}-start-failure`, [conf, daemon.logFile]);
    cleanup();
    throw new Error(`rtpengine did not answer the ng ping on ${ng}:\n${tail(log)}`);
  }
  return {
    daemon,
    ng,
    ngPort,
    media,
    dir,
    async stop({ failed = false } = {}) {
      await stopDaemon(daemon);
      if (failed) keepArtifacts(name, [conf, daemon.logFile]);
      cleanup();
    },
  };
}
