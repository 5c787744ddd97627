/**
 * A tiny SIP endpoint over UDP or TCP for engine and end-to-end tests: send
 * raw requests (or build simple ones), collect everything that comes back,
 * wait for a matching message. No transaction layer, no retransmissions:
 * loopback does not lose packets, and a test should see exactly what the
 * proxy sent.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';

export type Transport = 'udp' | 'tcp';

export interface SipMessage {
  /** First line, e.g. `SIP/2.0 200 OK` or `INVITE sip:bob@x SIP/2.0`. */
  readonly startLine: string;
  /** Set for replies. */
  readonly status?: number;
  readonly reason?: string;
  /** Set for requests. */
  readonly method?: string;
  readonly uri?: string;
  /** Header names as sent, in order (a header repeated = several entries). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
  readonly raw: string;
  /** First value of a header, case-insensitive; compact forms (v, f, t, i, m, l, ...) included. */
  header(name: string): string | undefined;
  /** Every value of a header, in order (comma-joined values are not split). */
  headerValues(name: string): string[];
}

const COMPACT: Readonly<Record<string, string>> = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type',
  k: 'supported', s: 'subject', e: 'content-encoding', o: 'event', r: 'refer-to', u: 'allow-events',
};
const canonical = (name: string): string => {
  const lower = name.toLowerCase();
  return COMPACT[lower] ?? lower;
};

export function parseSipMessage(raw: string): SipMessage {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : '';
  const [startLine = '', ...lines] = head.split('\r\n');
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      // Folded continuation line (obsolete, still legal).
      const last = headers[headers.length - 1]!;
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  const values = (name: string): string[] =>
    headers.filter(([n]) => canonical(n) === canonical(name)).map(([, v]) => v);
  const reply = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(startLine);
  return {
    startLine,
    ...(reply ? { status: Number(reply[1]), reason: reply[2] ?? '' } : {}),
    ...(request ? { method: request[1]!, uri: request[2]! } : {}),
    headers,
    body,
    raw,
    header: (name) => values(name)[0],
    headerValues: values,
  };
}

export const newTag = (): string => randomBytes(6).toString('hex');
export const newBranch = (): string => `z9hG4bK-${randomBytes(8).toString('hex')}`;

export interface RequestSpec {
  method: string;
  uri: string;
  /** Default `<sip:test@LOCAL>;tag=<random>`. */
  from?: string;
  /** Default `<uri>`. */
  to?: string;
  callId?: string;
  cseq?: number;
  /** Extra header lines, without CRLF (e.g. `Contact: <sip:a@127.0.0.3:5062>`). */
  headers?: readonly string[];
  body?: string;
  contentType?: string;
  maxForwards?: number;
}

export interface SipClientOptions {
  transport: Transport;
  /** Where the proxy listens (the client sends to the bound address, e.g. LOCAL_IP). */
  remoteAddress: string;
  remotePort: number;
  /** Source address: any 127.x.y.z works on Linux loopback; 127.0.0.3 plays the public client. */
  localAddress?: string;
  localPort?: number;
  /**
   * Bytes written first on a new TCP connection, e.g. a PROXY protocol v1
   * header `PROXY TCP4 <client> <proxy> <cport> <pport>\r\n` as HAProxy sends it.
   */
  tcpPreamble?: string;
}

/** Splits a TCP byte stream into SIP messages by Content-Length (keepalive CRLFs skipped). */
export class StreamFramer {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: string[] = [];
    for (;;) {
      while (this.buffer.length >= 2 && this.buffer[0] === 0x0d && this.buffer[1] === 0x0a) this.buffer = this.buffer.subarray(2);
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return out;
      const head = this.buffer.subarray(0, end).toString('latin1');
      const length = Number(/\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(`\r\n${head}`)?.[1] ?? '0');
      const total = end + 4 + length;
      if (this.buffer.length < total) return out;
      out.push(this.buffer.subarray(0, total).toString('utf8'));
      this.buffer = this.buffer.subarray(total);
    }
  }
}

export class SipClient {
  readonly transport: Transport;
  readonly localAddress: string;
  localPort = 0;
  /** Everything received, in order. */
  readonly received: SipMessage[] = [];
  private readonly waiters: Array<{ match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];
  private udp?: UdpSocket;
  private tcp?: TcpSocket;

  private constructor(private readonly opts: SipClientOptions) {
    this.transport = opts.transport;
    this.localAddress = opts.localAddress ?? '127.0.0.3';
  }

  static async open(opts: SipClientOptions): Promise<SipClient> {
    const client = new SipClient(opts);
    await (opts.transport === 'udp' ? client.openUdp() : client.openTcp());
    return client;
  }

  private deliver(raw: string): void {
    const message = parseSipMessage(raw);
    this.received.push(message);
    const index = this.waiters.findIndex((w) => w.match(message));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(message);
  }

  private openUdp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      this.udp = socket;
      socket.once('error', reject);
      socket.on('message', (msg) => this.deliver(msg.toString('utf8')));
      socket.bind({ address: this.localAddress, port: this.opts.localPort ?? 0 }, () => {
        this.localPort = socket.address().port;
        resolve();
      });
    });
  }

  private openTcp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const framer = new StreamFramer();
      const socket = connect({
        host: this.opts.remoteAddress,
        port: this.opts.remotePort,
        localAddress: this.localAddress,
        ...(this.opts.localPort !== undefined ? { localPort: this.opts.localPort } : {}),
      });
      this.tcp = socket;
      socket.once('error', reject);
      socket.on('data', (chunk) => framer.push(chunk).forEach((m) => this.deliver(m)));
      socket.once('connect', () => {
        this.localPort = socket.localPort ?? 0;
        if (this.opts.tcpPreamble !== undefined) socket.write(this.opts.tcpPreamble);
        resolve();
      });
    });
  }

  /** Sends raw bytes as one message (UDP datagram or TCP write). */
  send(raw: string): void {
    if (this.udp) this.udp.send(raw, this.opts.remotePort, this.opts.remoteAddress);
    else this.tcp!.write(raw);
  }

  /** A complete request with this client's Via (rport), From, To, Call-ID, CSeq, Max-Forwards, Content-Length. */
  buildRequest(spec: RequestSpec): { raw: string; branch: string; callId: string } {
    const branch = newBranch();
    const callId = spec.callId ?? `${randomBytes(8).toString('hex')}@${this.localAddress}`;
    const body = spec.body ?? '';
    const lines = [
      `${spec.method} ${spec.uri} SIP/2.0`,
      `Via: SIP/2.0/${this.transport.toUpperCase()} ${this.localAddress}:${this.localPort};branch=${branch};rport`,
      `Max-Forwards: ${spec.maxForwards ?? 70}`,
      `From: ${spec.from ?? `<sip:test@${this.localAddress}>;tag=${newTag()}`}`,
      `To: ${spec.to ?? `<${spec.uri}>`}`,
      `Call-ID: ${callId}`,
      `CSeq: ${spec.cseq ?? 1} ${spec.method}`,
      ...(spec.headers ?? []),
      ...(body !== '' ? [`Content-Type: ${spec.contentType ?? 'application/sdp'}`] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    return { raw: lines.join('\r\n'), branch, callId };
  }

  /** Next received message (already received or future) matching `match`. */
  waitFor(match: (m: SipMessage) => boolean, timeoutMs = 3000, what = 'a matching SIP message'): Promise<SipMessage> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: SipMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms; received:\n${this.received.map((m) => m.startLine).join('\n') || '(nothing)'}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * Sends a request and resolves with every reply to it (same Via branch) up
   * to and including the final one (>= 200).
   */
  async request(spec: RequestSpec, timeoutMs = 3000): Promise<SipMessage[]> {
    const { raw, branch } = this.buildRequest(spec);
    const mine = (m: SipMessage): boolean => m.status !== undefined && (m.header('via') ?? '').includes(`branch=${branch}`);
    const final = this.waitFor((m) => mine(m) && m.status! >= 200, timeoutMs, `final reply to ${spec.method}`);
    this.send(raw);
    await final;
    return this.received.filter(mine);
  }

  close(): void {
    this.udp?.close();
    this.tcp?.destroy();
  }
}

/** Opens a client, sends one request, returns its final reply, closes. */
export async function sendRequest(opts: SipClientOptions, spec: RequestSpec, timeoutMs = 3000): Promise<SipMessage> {
  const client = await SipClient.open(opts);
  try {
    const replies = await client.request(spec, timeoutMs);
    return replies[replies.length - 1]!;
  } finally {
    client.close();
  }
}
