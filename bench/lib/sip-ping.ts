/**
 * One OPTIONS keepalive to the proxy itself over UDP (the routing answers it
 * with 200 and the X-Routing-Build / X-Routing-Worker headers), for start-up
 * and reload timing. Sent from LOCAL_IP, so neither pike nor the private-port
 * check of REQINIT is involved.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

export interface PingReply {
  status: number;
  build: string | null;
  worker: string | null;
  rttMs: number;
}

export function sipPing(host: string, port: number, timeoutMs = 500, from = host): Promise<PingReply | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const branch = `z9hG4bK-${randomBytes(6).toString('hex')}`;
    let done = false;
    let sentAt = 0;
    const finish = (reply: PingReply | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('error', () => finish(null));
    socket.on('message', (msg) => {
      const text = msg.toString('latin1');
      if (!text.includes(branch)) return;
      const header = (name: string): string | null => new RegExp(`^${name}:\\s*(.*?)\\r?$`, 'mi').exec(text)?.[1] ?? null;
      finish({
        status: Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0),
        build: header('X-Routing-Build'),
        worker: header('X-Routing-Worker'),
        rttMs: performance.now() - sentAt,
      });
    });
    socket.bind({ address: from, port: 0 }, () => {
      const local = socket.address();
      const callId = randomBytes(8).toString('hex');
      const raw = [
        `OPTIONS sip:${host}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${local.address}:${local.port};branch=${branch};rport`,
        'Max-Forwards: 70',
        `From: <sip:bench@${local.address}>;tag=${callId.slice(0, 8)}`,
        `To: <sip:${host}:${port}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      sentAt = performance.now();
      socket.send(raw, port, host);
    });
  });
}
