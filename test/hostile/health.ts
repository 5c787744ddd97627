/**
 * Is Kamailio still all right? Asked between corpus batches and at the end:
 * - a keepalive OPTIONS from a fresh address gets 200 with the build id;
 * - a subscriber registers and places an authenticated call through
 *   rtpengine to the media server (offer and answer both anchored), ACK and
 *   BYE along the route;
 * - every UDP and TCP worker answers a keepalive, naming itself
 *   (X-Routing-Worker: <pid>): no worker is stuck;
 * - the process list is the one Kamailio started with, every PID alive.
 */
import { performance } from 'node:perf_hooks';
import { confirmWorkers } from '../../build/reload/confirm.ts';
import type { KamailioRpc } from '../../build/reload/kamailio-rpc.ts';
import { MediaServer, Phone, type CallResult, type Subscriber } from '../support/sip-agents.ts';
import type { Proxy } from './corpus/index.ts';
import { sendUdp } from './wire.ts';

export interface Health {
  readonly after: string;
  readonly keepalive: { status: number | undefined; build: string | undefined; ms: number };
  readonly register: number | undefined;
  readonly call: CallResult;
  readonly workers: { answered: number; of: number; ms: number; silent: number[] };
  readonly processes: { same: boolean; alive: boolean; count: number };
}

export interface HealthEnv {
  readonly proxy: Proxy;
  readonly rpc: KamailioRpc;
  readonly media: MediaServer;
  readonly subscriber: Subscriber;
  readonly pids: readonly number[];
  nextIp(): string;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function checkHealth(env: HealthEnv, after: string): Promise<Health> {
  const { proxy } = env;
  const started = performance.now();
  const options = await sendUdp(
    { host: proxy.localIp, port: proxy.sipPort },
    (local) =>
      Buffer.from(
        [
          `OPTIONS sip:${proxy.publicIp}:${proxy.sipPort} SIP/2.0`,
          `Via: SIP/2.0/UDP ${local.ip}:${local.port};branch=z9hG4bK-health-${Date.now()};rport`,
          'Max-Forwards: 70',
          `From: <sip:health@${proxy.domain}>;tag=h${Date.now()}`,
          `To: <sip:${proxy.publicIp}:${proxy.sipPort}>`,
          `Call-ID: health-${Date.now()}-${Math.random()}`,
          'CSeq: 1 OPTIONS',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      ),
    { from: env.nextIp(), windowMs: 2000, done: (o) => o.statuses.length > 0 },
  );
  const keepalive = {
    status: options.statuses[0],
    build: options.messages[0]?.header('X-Routing-Build'),
    ms: Math.round(performance.now() - started),
  };

  const phone = await Phone.open(env.nextIp());
  const address = { host: proxy.localIp, sipPort: proxy.sipPort, domain: proxy.domain };
  let register: number | undefined;
  let call: CallResult;
  try {
    register = await phone.register(address, env.subscriber);
    call = await phone.call(address, env.subscriber, env.media);
  } finally {
    phone.close();
  }

  const workersStarted = performance.now();
  const confirmation = await confirmWorkers(env.rpc, { timeoutMs: 5000 });
  const workers = {
    answered: confirmation.workers.filter((w) => w.buildId !== undefined).length,
    of: confirmation.workers.length,
    ms: Math.round(performance.now() - workersStarted),
    silent: confirmation.workers.filter((w) => w.buildId === undefined).map((w) => w.process.pid),
  };

  const pids = (await env.rpc.processes()).map((p) => p.pid).sort((a, b) => a - b);
  const processes = {
    same: JSON.stringify(pids) === JSON.stringify([...env.pids].sort((a, b) => a - b)),
    alive: env.pids.every(alive),
    count: pids.length,
  };
  return { after, keepalive, register, call, workers, processes };
}

/** What a healthy Kamailio answers, for toEqual against checkHealth(). */
export function healthy(buildId: string, proxy: Proxy): Record<string, unknown> {
  return {
    keepalive: { status: 200, build: buildId },
    register: 200,
    call: {
      challenge: 407,
      // rtpengine anchored both sides: the media server sees LOCAL_IP, the phone PUBLIC_IP.
      mediaServerOffer: proxy.localIp,
      answer: 200,
      answerConnection: proxy.publicIp,
      ackReachedMediaServer: true,
      bye: 200,
    },
    workers: { silent: [] },
    processes: { same: true, alive: true },
  };
}
