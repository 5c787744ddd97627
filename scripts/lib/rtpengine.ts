/**
 * rtpengine helpers shared by scripts/start.sh and the tests: render
 * config/rtpengine.conf for a deployment, and the ng-protocol ping that tells
 * when rtpengine is ready (Kamailio must start after it: a failed first ping
 * disables rtpengine in Kamailio for rtpengine_disable_tout seconds).
 *
 * Run as a script (values from the environment, see env.ts):
 *   tsx scripts/lib/rtpengine.ts render <out-file>
 *   tsx scripts/lib/rtpengine.ts wait [timeout-ms]    exit 0 once rtpengine answers
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_DIR, parseNgSocket, resolveDeployment, type Deployment } from './env.ts';

export const RTPENGINE_TEMPLATE = join(PROJECT_DIR, 'config', 'rtpengine.conf');

/** Fills the ${NAME} placeholders of the template; an unknown name is an error, not an empty value. */
export function renderRtpengineConf(dep: Deployment, template: string = readFileSync(RTPENGINE_TEMPLATE, 'utf8')): string {
  const ng = parseNgSocket(dep.RTPENGINE_NG);
  const values: Record<string, string> = {
    LOCAL_IP: dep.LOCAL_IP,
    PUBLIC_IP: dep.PUBLIC_IP,
    RTPENGINE_NG_ADDR: ng.host.includes(':') ? `[${ng.host}]:${ng.port}` : `${ng.host}:${ng.port}`,
    RTP_PORT_MIN: String(dep.RTP_PORT_MIN),
    RTP_PORT_MAX: String(dep.RTP_PORT_MAX),
  };
  // Placeholders in comment lines are documentation, not values.
  return template
    .split('\n')
    .map((line) =>
      /^\s*[#;]/.test(line)
        ? line
        : line.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
            const value = values[name];
            if (value === undefined) throw new Error(`rtpengine.conf: unknown placeholder \${${name}}`);
            return value;
          }),
    )
    .join('\n');
}

export function writeRtpengineConf(dep: Deployment, outFile: string): void {
  writeFileSync(outFile, renderRtpengineConf(dep));
}

/**
 * One ng "ping" (`<cookie> d7:command4:pinge` -> `<cookie> d6:result4:ponge`).
 * The cookie is unique per request: rtpengine replays its cached answer for a
 * repeated cookie.
 */
export function ngPing(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const cookie = randomBytes(6).toString('hex');
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolvePing(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('message', (msg) => {
      const text = msg.toString('latin1');
      if (text.startsWith(`${cookie} `)) finish(text.includes('4:pong'));
    });
    socket.send(`${cookie} d7:command4:pinge`, port, host);
  });
}

/** Pings until rtpengine answers or `totalMs` has passed. */
export async function waitForNg(host: string, port: number, totalMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + totalMs;
  while (Date.now() < deadline) {
    if (await ngPing(host, port, Math.min(500, Math.max(50, deadline - Date.now())))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [command, arg] = process.argv.slice(2);
  try {
    const dep = resolveDeployment();
    if (command === 'render' && arg !== undefined) {
      writeRtpengineConf(dep, arg);
    } else if (command === 'wait') {
      const { host, port } = parseNgSocket(dep.RTPENGINE_NG);
      const ok = await waitForNg(host, port, arg === undefined ? 10_000 : Number(arg));
      if (!ok) {
        process.stderr.write(`rtpengine: no answer to ng ping on ${dep.RTPENGINE_NG}\n`);
        process.exitCode = 1;
      }
    } else {
      process.stderr.write('usage: tsx scripts/lib/rtpengine.ts render <out-file> | wait [timeout-ms]\n');
      process.exitCode = 2;
    }
  } catch (err) {
    process.stderr.write(`rtpengine: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
