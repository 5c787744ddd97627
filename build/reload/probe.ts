/**
 * Asks every SIP worker of a running Kamailio which build it runs.
 *
 * app_jsdt has no per-worker RPC: each process re-reads the bundle lazily,
 * before it routes its next message. So the probe IS that next message: an
 * OPTIONS keepalive to the proxy itself, which the routing answers with
 * `X-Routing-Build: <build id>` and `X-Routing-Worker: <pid>`
 * (src/routing/reqinit.ts). An answer sent after app_jsdt.reload therefore
 * comes from a worker that has already (re)loaded the file: the build id it
 * reports is the code that worker runs now.
 *
 * Reaching every worker:
 * - UDP: each UDP socket has its own `children` workers blocked on the same
 *   socket; the kernel hands a burst of datagrams to whichever are free, so
 *   bursts are repeated until every worker of the socket has answered.
 * - TCP: tcp_main gives each new connection to the least busy TCP worker;
 *   several connections opened at once and held during the round land on
 *   different workers.
 * The probes leave from the socket's own address, which the routing never
 * screens for keepalives (no pike ban, also on the private port).
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIPv6, type Socket } from 'node:net';

export interface WorkerAnswer {
  readonly pid: number;
  readonly buildId: string;
  /** The reply's reason phrase (`Keepalive` from the project's routing). */
  readonly reason: string;
  readonly transport: 'udp' | 'tcp';
  /** The socket probed, host:port. */
  readonly socket: string;
}

/** A reply that does not name its worker (a bundle older than X-Routing-Worker) or is no keepalive answer. */
export interface StrayAnswer {
  readonly status: number;
  readonly buildId: string | undefined;
  readonly transport: 'udp' | 'tcp';
  readonly socket: string;
}

export interface ProbeRoundResult {
  readonly answers: WorkerAnswer[];
  readonly strays: StrayAnswer[];
}

const UDP_WINDOW_MS = 150;
const TCP_WINDOW_MS = 400;

function uriHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/** Tests ask about something else than the build by putting a user in the R-URI. */
export interface ProbeOptions {
  readonly user?: string;
}

function keepalive(host: string, port: number, transport: 'udp' | 'tcp', localPort: number, options: ProbeOptions): string {
  const tag = randomBytes(6).toString('hex');
  const user = options.user === undefined ? '' : `${options.user}@`;
  const uri = `sip:${user}${uriHost(host)}:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
  return [
    `OPTIONS ${uri} SIP/2.0`,
    `Via: SIP/2.0/${transport.toUpperCase()} ${uriHost(host)}:${localPort};branch=z9hG4bK-ksr-probe-${tag};rport`,
    'Max-Forwards: 70',
    `From: <sip:reload-probe@${uriHost(host)}>;tag=${tag}`,
    `To: <${uri}>`,
    `Call-ID: ksr-probe-${tag}`,
    'CSeq: 1 OPTIONS',
    'User-Agent: ksr-reload-probe',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Status code and the two routing headers of a reply, or undefined for anything else. */
export function readProbeReply(raw: string): { status: number; reason: string; buildId?: string; pid?: number } | undefined {
  const status = /^SIP\/2\.0 (\d{3}) ?([^\r\n]*)/.exec(raw);
  if (!status) return undefined;
  const head = raw.split('\r\n\r\n')[0] ?? '';
  const header = (name: string): string | undefined =>
    new RegExp(`\\r\\n${name}[ \\t]*:[ \\t]*([^\\r\\n]*)`, 'i').exec(head)?.[1]?.trim();
  const build = header('X-Routing-Build');
  const pid = header('X-Routing-Worker');
  return {
    status: Number(status[1]),
    reason: status[2] ?? '',
    ...(build !== undefined ? { buildId: build } : {}),
    ...(pid !== undefined && /^\d+$/.test(pid) ? { pid: Number(pid) } : {}),
  };
}

function collect(
  raw: string,
  transport: 'udp' | 'tcp',
  socket: string,
  into: { answers: WorkerAnswer[]; strays: StrayAnswer[] },
): void {
  const reply = readProbeReply(raw);
  if (!reply) return;
  if (reply.status === 200 && reply.pid !== undefined && reply.buildId !== undefined) {
    into.answers.push({ pid: reply.pid, buildId: reply.buildId, reason: reply.reason, transport, socket });
  } else {
    into.strays.push({ status: reply.status, buildId: reply.buildId, transport, socket });
  }
}

/** One burst of `count` keepalives to a UDP socket, answers collected for UDP_WINDOW_MS. */
export function probeUdp(
  host: string,
  port: number,
  count: number,
  options: ProbeOptions = {},
  windowMs = UDP_WINDOW_MS,
): Promise<ProbeRoundResult> {
  const result = { answers: [] as WorkerAnswer[], strays: [] as StrayAnswer[] };
  const target = `${uriHost(host)}:${port}`;
  return new Promise((resolve) => {
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      socket.close();
      resolve(result);
    };
    let received = 0;
    socket.on('message', (message) => {
      collect(message.toString('utf8'), 'udp', target, result);
      if (++received >= count) finish();
    });
    socket.once('error', finish);
    // Bound to the socket's own address: the proxy's keepalives are never screened.
    socket.bind({ address: host, port: 0 }, () => {
      const localPort = socket.address().port;
      for (let i = 0; i < count; i++) socket.send(keepalive(host, port, 'udp', localPort, options), port, host);
      setTimeout(finish, windowMs).unref();
    });
  });
}

/** `connections` TCP connections opened at once, one keepalive on each, held for TCP_WINDOW_MS. */
export function probeTcp(
  host: string,
  port: number,
  connections: number,
  options: ProbeOptions = {},
  windowMs = TCP_WINDOW_MS,
): Promise<ProbeRoundResult> {
  const result = { answers: [] as WorkerAnswer[], strays: [] as StrayAnswer[] };
  const target = `${uriHost(host)}:${port}`;
  const sockets: Socket[] = [];
  return new Promise((resolve) => {
    let finished = false;
    let answered = 0;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      for (const socket of sockets) socket.destroy();
      resolve(result);
    };
    for (let i = 0; i < connections; i++) {
      const socket = connect({ host, port, localAddress: host });
      sockets.push(socket);
      let buffer = '';
      socket.setEncoding('utf8');
      socket.on('error', () => {
        socket.destroy();
        if (++answered >= connections) finish();
      });
      socket.on('connect', () => socket.write(keepalive(host, port, 'tcp', socket.localPort ?? 0, options)));
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        for (;;) {
          buffer = buffer.replace(/^(\r\n)+/, '');
          const end = buffer.indexOf('\r\n\r\n');
          if (end < 0) return;
          const length = Number(/\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(`\r\n${buffer.slice(0, end)}`)?.[1] ?? '0');
          if (buffer.length < end + 4 + length) return;
          collect(buffer.slice(0, end + 4 + length), 'tcp', target, result);
          buffer = buffer.slice(end + 4 + length);
          // Every connection is held until all have answered: a closed one
          // frees its worker, and the next connection could land there again.
          if (++answered >= connections) finish();
        }
      });
    }
    setTimeout(finish, windowMs).unref();
  });
}
