/**
 * The deployment's environment variables and their defaults, for the node
 * side (start script, subscriber CLI, tests). kamailio.cfg carries the same
 * defaults in its preprocessor section; test/engine/kamailio.test.ts checks
 * that the two agree.
 *
 * Run as a script it prints `export NAME='value'` lines for scripts/start.sh:
 *   eval "$(tsx scripts/lib/env.ts)"
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The project root (where kamailio.cfg is), whatever the current directory. */
export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Deployment {
  LOCAL_IP: string;
  PUBLIC_IP: string;
  SIP_PORT: number;
  PRIVATE_PORT: number;
  WEBRTC_PORT: number;
  /** rtpengine ng control socket, as Kamailio's rtpengine_sock: udp:IP:PORT */
  RTPENGINE_NG: string;
  DISPATCHER_LIST: string;
  KEMI_BUNDLE: string;
  RUN_DIR: string;
  SIP_DOMAIN: string;
  DB_URL: string;
  /** Unset: Kamailio runs without its TLS (WebRTC) socket; start.sh generates a pair. */
  TLS_CERT: string | undefined;
  TLS_KEY: string | undefined;
  /** Origins (scheme://host[:port], space or comma separated) of the pages
   * allowed to open the SIP WebSocket; unset: an https page of the host the
   * browser connected to (src/routing/websocket.ts). */
  WEBRTC_ORIGINS: string | undefined;
  /** Addresses of the load balancers allowed to send PROXY protocol headers
   * (space or comma separated); unset: any peer's header on the public TCP/TLS
   * port is accepted (src/routing/source.ts). */
  PROXY_SOURCES: string | undefined;
  /** This node's number among the nodes sharing registrations (core
   * server_id); unset: 0, a single node (README "More than one node"). */
  NODE_ID: number | undefined;
  /** A SIP URI of another node's private socket: set, the nodes share
   * registrations over DMQ (kamailio.cfg WITH_DMQ); unset: one node. */
  DMQ_NOTIFICATION_ADDRESS: string | undefined;
  /** This node's own DMQ URI; derived as sip:LOCAL_IP:PRIVATE_PORT when
   * DMQ_NOTIFICATION_ADDRESS is set (the cfg cannot derive it itself). */
  DMQ_SERVER_ADDRESS: string | undefined;
  /** rtpengine's media port range (start script and tests only, not Kamailio). */
  RTP_PORT_MIN: number;
  RTP_PORT_MAX: number;
}

/** Defaults of the values that do not depend on other values. */
export const DEFAULTS = {
  LOCAL_IP: '127.0.0.1',
  PUBLIC_IP: '127.0.0.2',
  SIP_PORT: 5060,
  PRIVATE_PORT: 5070,
  WEBRTC_PORT: 7777,
  RTPENGINE_NG: 'udp:127.0.0.1:2223',
  RTP_PORT_MIN: 10000,
  RTP_PORT_MAX: 40000,
} as const;

type Env = Record<string, string | undefined>;

/** An empty variable counts as unset (Kamailio's preprocessor would choke on it). */
function get(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function port(env: Env, name: string, fallback: number): number {
  const raw = get(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name}=${raw} is not a port number (1-65535)`);
  }
  return value;
}

/**
 * Resolves every deployment value from `env`, filling in the defaults.
 * Relative paths are made absolute against `baseDir` (the project root):
 * Kamailio changes its working directory to "/" before loading modules, so
 * it must only ever see absolute paths.
 */
export function resolveDeployment(env: Env = process.env, baseDir: string = PROJECT_DIR): Deployment {
  const path = (name: string, fallback: string): string => resolve(baseDir, get(env, name) ?? fallback);
  const PUBLIC_IP = get(env, 'PUBLIC_IP') ?? DEFAULTS.PUBLIC_IP;
  const RUN_DIR = path('RUN_DIR', 'run');
  const tlsCert = get(env, 'TLS_CERT');
  const tlsKey = get(env, 'TLS_KEY');
  const TLS_CERT = tlsCert === undefined ? undefined : resolve(baseDir, tlsCert);
  const TLS_KEY = tlsKey === undefined ? TLS_CERT : resolve(baseDir, tlsKey);
  const LOCAL_IP = get(env, 'LOCAL_IP') ?? DEFAULTS.LOCAL_IP;
  const PRIVATE_PORT = port(env, 'PRIVATE_PORT', DEFAULTS.PRIVATE_PORT);
  const DMQ_NOTIFICATION_ADDRESS = get(env, 'DMQ_NOTIFICATION_ADDRESS');
  const nodeId = get(env, 'NODE_ID');
  if (nodeId !== undefined && !/^\d{1,9}$/.test(nodeId)) throw new Error(`NODE_ID=${nodeId} is not a number`);
  const dep: Deployment = {
    LOCAL_IP,
    PUBLIC_IP,
    SIP_PORT: port(env, 'SIP_PORT', DEFAULTS.SIP_PORT),
    PRIVATE_PORT,
    WEBRTC_PORT: port(env, 'WEBRTC_PORT', DEFAULTS.WEBRTC_PORT),
    RTPENGINE_NG: get(env, 'RTPENGINE_NG') ?? DEFAULTS.RTPENGINE_NG,
    DISPATCHER_LIST: path('DISPATCHER_LIST', 'config/dispatcher.list'),
    KEMI_BUNDLE: path('KEMI_BUNDLE', 'dist/kamailio.js'),
    RUN_DIR,
    SIP_DOMAIN: get(env, 'SIP_DOMAIN') ?? PUBLIC_IP,
    DB_URL: get(env, 'DB_URL') ?? `sqlite://${RUN_DIR}/kamailio.sqlite`,
    TLS_CERT,
    TLS_KEY,
    WEBRTC_ORIGINS: get(env, 'WEBRTC_ORIGINS'),
    PROXY_SOURCES: get(env, 'PROXY_SOURCES'),
    NODE_ID: nodeId === undefined ? undefined : Number(nodeId),
    DMQ_NOTIFICATION_ADDRESS,
    DMQ_SERVER_ADDRESS:
      DMQ_NOTIFICATION_ADDRESS === undefined
        ? undefined
        : (get(env, 'DMQ_SERVER_ADDRESS') ?? `sip:${LOCAL_IP.includes(':') ? `[${LOCAL_IP}]` : LOCAL_IP}:${PRIVATE_PORT}`),
    RTP_PORT_MIN: port(env, 'RTP_PORT_MIN', DEFAULTS.RTP_PORT_MIN),
    RTP_PORT_MAX: port(env, 'RTP_PORT_MAX', DEFAULTS.RTP_PORT_MAX),
  };
  if (dep.RTP_PORT_MIN > dep.RTP_PORT_MAX) {
    throw new Error(`RTP_PORT_MIN (${dep.RTP_PORT_MIN}) is above RTP_PORT_MAX (${dep.RTP_PORT_MAX})`);
  }
  return dep;
}

/** The environment block for a Kamailio/rtpengine process: every set value as a string. */
export function deploymentEnv(dep: Deployment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(dep)) {
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}

/** `udp:127.0.0.1:2223` -> { host: '127.0.0.1', port: 2223 } (the form rtpengine's listen-ng takes). */
export function parseNgSocket(ng: string): { host: string; port: number } {
  const match = /^(?:udp:)?\[?([^\]]+?)\]?:(\d+)$/.exec(ng);
  if (!match || match[1] === undefined || match[2] === undefined) {
    throw new Error(`RTPENGINE_NG=${ng} is not of the form udp:IP:PORT`);
  }
  return { host: match[1], port: Number(match[2]) };
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const env = deploymentEnv(resolveDeployment());
    for (const [name, value] of Object.entries(env)) process.stdout.write(`export ${name}=${shellQuote(value)}\n`);
  } catch (err) {
    process.stderr.write(`env: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
