/**
 * Loopback ports for tests that start real daemons. The project's tests stay
 * inside 25000-25999: 25000-25599 for SIP/control ports, 25600-25999 for
 * rtpengine media ranges. Ports are probed (TCP and UDP bind on 127.0.0.1)
 * and never handed out twice by one test process; the random start keeps
 * two concurrent test runs on this host from picking the same ones.
 */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

export const PORT_RANGE = { min: 25000, max: 25599 } as const;
export const MEDIA_RANGE = { min: 25600, max: 25999 } as const;

const handedOut = new Set<number>();

function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return (await tcpFree(port, host)) && (await udpFree(port, host));
}

/** `count` distinct ports, each free for both TCP and UDP on `host`. */
export async function allocatePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const size = PORT_RANGE.max - PORT_RANGE.min + 1;
  const start = Math.floor(Math.random() * size);
  const ports: number[] = [];
  for (let i = 0; i < size && ports.length < count; i++) {
    const port = PORT_RANGE.min + ((start + i) % size);
    if (handedOut.has(port)) continue;
    if (await isPortFree(port, host)) {
      handedOut.add(port);
      ports.push(port);
    }
  }
  if (ports.length < count) throw new Error(`only ${ports.length} of ${count} free ports in ${PORT_RANGE.min}-${PORT_RANGE.max}`);
  return ports;
}

/** A block of `size` consecutive media ports (for rtpengine's port-min/port-max). */
export async function allocateMediaRange(size = 100): Promise<{ min: number; max: number }> {
  const blocks = Math.floor((MEDIA_RANGE.max - MEDIA_RANGE.min + 1) / size);
  const first = Math.floor(Math.random() * blocks);
  for (let i = 0; i < blocks; i++) {
    const min = MEDIA_RANGE.min + ((first + i) % blocks) * size;
    if (handedOut.has(min)) continue;
    // rtpengine skips ports it cannot bind, so one probe per block is enough.
    if (await isPortFree(min)) {
      handedOut.add(min);
      return { min, max: min + size - 1 };
    }
  }
  throw new Error(`no free media block of ${size} ports in ${MEDIA_RANGE.min}-${MEDIA_RANGE.max}`);
}

/** Lets a later allocation hand these out again (after the daemon using them stopped). */
export function releasePorts(ports: readonly number[]): void {
  for (const port of ports) handedOut.delete(port);
}
