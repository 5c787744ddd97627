/**
 * What runs on each host: the commands and their rendered configuration.
 * Kamailio and rtpengine on the vm exactly as CONTRACT.md starts them
 * (configured only by the deployment's environment variables), HAProxy on the
 * balancer, a SIPp UAS on each media server, tcpdump on the switch.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDatabase } from '../scripts/lib/db.ts';
import { PROJECT_DIR, deploymentEnv, resolveDeployment, type Deployment } from '../scripts/lib/env.ts';
import { writeRtpengineConf } from '../scripts/lib/rtpengine.ts';
import { addSubscriber } from '../scripts/subscriber.ts';
import { generateTlsPair } from '../test/support/kamailio.ts';
import { renderHaproxyCfg } from './haproxy.ts';
import { startProcess } from './processes.ts';
import type { ProcessRecord } from './state.ts';
import { PAGE_ORIGIN } from './webrtc/config.ts';
import { ADDR, MEDIA_SERVERS, NS, PORT, SIP_DOMAIN, SUBSCRIBERS, dispatcherList, type CapturePort } from './topology.ts';

export const SIPP_DIR = join(PROJECT_DIR, 'stack', 'sipp');

export interface Paths {
  dir: string;
  conf: string;
  logs: string;
  run: string;
  capture: string;
}

export function paths(dir: string): Paths {
  return { dir, conf: join(dir, 'conf'), logs: join(dir, 'logs'), run: join(dir, 'run'), capture: join(dir, 'capture') };
}

/** The vm's deployment: the same variables an operator sets (README, CONTRACT.md). */
export function vmDeployment(p: Paths, bundle: string): Deployment {
  const tls = generateTlsPair(join(p.run, 'tls'), SIP_DOMAIN);
  return resolveDeployment(
    {
      LOCAL_IP: ADDR.LOCAL_IP,
      PUBLIC_IP: ADDR.PUBLIC_IP,
      SIP_PORT: String(PORT.SIP),
      PRIVATE_PORT: String(PORT.PRIVATE),
      WEBRTC_PORT: String(PORT.WEBRTC),
      RTPENGINE_NG: `udp:127.0.0.1:${PORT.NG}`,
      DISPATCHER_LIST: join(p.conf, 'dispatcher.list'),
      KEMI_BUNDLE: bundle,
      RUN_DIR: p.run,
      SIP_DOMAIN,
      DB_URL: `sqlite://${join(p.run, 'kamailio.sqlite')}`,
      TLS_CERT: tls.cert,
      TLS_KEY: tls.key,
      // The WebRTC tests' page (stack/webrtc/): the only origin allowed to open the SIP WebSocket.
      WEBRTC_ORIGINS: PAGE_ORIGIN,
      RTP_PORT_MIN: String(PORT.RTP_MIN),
      RTP_PORT_MAX: String(PORT.RTP_MAX),
    },
    PROJECT_DIR,
  );
}

/** Everything written before any daemon starts: configs, dispatcher list, database with subscribers. */
export function renderConfigs(p: Paths, dep: Deployment): void {
  for (const d of [p.conf, p.logs, p.run, p.capture]) mkdirSync(d, { recursive: true });
  writeFileSync(dep.DISPATCHER_LIST, dispatcherList());
  writeRtpengineConf(dep, join(p.conf, 'rtpengine.conf'));
  writeFileSync(join(p.conf, 'haproxy.cfg'), renderHaproxyCfg());
  ensureDatabase(dep.DB_URL);
  for (const s of SUBSCRIBERS) addSubscriber(dep.DB_URL, dep.SIP_DOMAIN, s.user, s.password);
  writeFileSync(
    join(p.conf, 'kamailio.env'),
    Object.entries(kamailioEnv(dep))
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
}

function kamailioEnv(dep: Deployment): Record<string, string> {
  const env = deploymentEnv(dep);
  // The media range is rtpengine's, not Kamailio's.
  delete env['RTP_PORT_MIN'];
  delete env['RTP_PORT_MAX'];
  return env;
}

export function startRtpengine(p: Paths, ns: string = NS.vm, name = 'rtpengine'): ProcessRecord {
  return startProcess({
    name,
    ns,
    command: 'rtpengine',
    // Always --config-file (else /etc/rtpengine/rtpengine.conf is read too),
    // --foreground --log-stderr (no daemonising, no syslog here).
    args: [`--config-file=${join(p.conf, 'rtpengine.conf')}`, '--foreground', '--log-stderr', `--pidfile=${join(p.run, 'rtpengine.pid')}`, '--delete-delay=0'],
    log: join(p.logs, 'rtpengine.log'),
  });
}

/** `kamailio -f kamailio.cfg -DD -E -P $RUN_DIR/kamailio.pid -Y $RUN_DIR` from the project root (CONTRACT.md). */
export function startKamailio(p: Paths, dep: Deployment, ns: string = NS.vm, name = 'kamailio'): ProcessRecord {
  return startProcess({
    name,
    ns,
    command: 'kamailio',
    args: ['-f', join(PROJECT_DIR, 'kamailio.cfg'), '-DD', '-E', '-P', join(p.run, 'kamailio.pid'), '-Y', p.run],
    env: { PWD: PROJECT_DIR, ...kamailioEnv(dep) },
    cwd: PROJECT_DIR,
    log: join(p.logs, 'kamailio.log'),
  });
}

export function startHaproxy(p: Paths): ProcessRecord {
  return startProcess({
    name: 'haproxy',
    ns: NS.lb,
    command: 'haproxy',
    // -W -db: master-worker in the foreground; -p: the master's PID (the one we stop).
    args: ['-W', '-db', '-f', join(p.conf, 'haproxy.cfg'), '-p', join(p.run, 'haproxy.pid')],
    log: join(p.logs, 'haproxy.log'),
  });
}

export const uasMessageLog = (p: Paths, host: string): string => join(p.logs, `uas-${host}.messages.log`);

/** What the media servers run: stack/sipp/uas-answer-call.xml, or another UAS scenario (the WebRTC tests' sends RTP). */
export interface MediaServerScenario {
  scenario: string;
  args: readonly string[];
}

export function startMediaServers(p: Paths, uas: MediaServerScenario = { scenario: join(SIPP_DIR, 'uas-answer-call.xml'), args: [] }): ProcessRecord[] {
  return MEDIA_SERVERS.map((ms) =>
    startProcess({
      name: `uas-${ms.host}`,
      ns: NS[ms.host],
      command: 'sipp',
      args: [
        '-sf', uas.scenario, ...uas.args,
        '-i', ms.address, '-p', String(PORT.UAS), '-t', 'u1', '-bind_local',
        '-mi', ms.address, '-mp', String(PORT.UAS_MEDIA), '-cp', '8888',
        '-nostdin', '-aa',
        '-trace_msg', '-message_file', uasMessageLog(p, ms.host),
        '-trace_err', '-error_file', join(p.logs, `uas-${ms.host}.errors.log`),
      ],
      log: join(p.logs, `uas-${ms.host}.log`),
    }),
  );
}

export const capturePath = (p: Paths, port: CapturePort): string => join(p.capture, `${port}.pcap`);

/**
 * tcpdump on bridge ports of the switch: the vm's wire (what Kamailio and
 * rtpengine send and receive, after the NAT) and each client's own wire.
 * --immediate-mode -U: every packet is in the file at once, so a test reads
 * what happened right after it happened.
 */
export function startCaptures(p: Paths, ports: readonly CapturePort[]): ProcessRecord[] {
  return ports.map((port) =>
    startProcess({
      name: `capture-${port}`,
      ns: NS.switch,
      command: 'tcpdump',
      args: ['-i', port, '-n', '-s', '0', '--immediate-mode', '-U', '-Z', 'root', '-w', capturePath(p, port)],
      log: join(p.logs, `capture-${port}.log`),
    }),
  );
}
