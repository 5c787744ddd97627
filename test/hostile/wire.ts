/**
 * Raw bytes to a real Kamailio over UDP, TCP, TLS or secure WebSocket, from a
 * chosen loopback source address, and what came back within a window: the
 * SIP or HTTP messages (by status or method), whether the stream was closed,
 * and when the first answer arrived. No SIP logic here: the corpus decides
 * what to send and what it expects.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { StreamFramer, parseSipMessage, type SipMessage } from '../support/sip-client.ts';

export type Transport = 'udp' | 'tcp' | 'tls' | 'wss';

export interface Observation {
  /** Messages received, SIP or HTTP, in order (a WebSocket frame's payload counts as one). */
  readonly messages: SipMessage[];
  /** Status codes of the replies among them (SIP or HTTP). */
  readonly statuses: number[];
  /** The stream was closed (FIN, RST, a WebSocket close frame) by the server. */
  readonly closed: boolean;
  /** Milliseconds from the send to the first message, if any. */
  readonly firstAnswerMs: number | undefined;
  /** Bytes the server sent that were not a SIP/HTTP message: CRLF pongs, WebSocket control frames. */
  readonly other: string[];
  /** A connection or TLS error on our side before anything was sent. */
  readonly error?: string;
}

export interface Target {
  readonly host: string;
  readonly port: number;
}

export interface SendOptions {
  /** Source address (any 127.x.y.z on Linux loopback). */
  readonly from: string;
  /** How long to listen after the send; the send resolves earlier when `done` says so. */
  readonly windowMs: number;
  /** Ends the wait early (e.g. at the first final reply). */
  readonly done?: (o: Observation) => boolean;
}

/** The bytes to send, built once the source port is known (Via, Contact). */
export type Payload = (local: { ip: string; port: number }) => Buffer;

/** What any received buffer becomes: a parsed message, with its HTTP status too. */
function parse(raw: string): SipMessage {
  const message = parseSipMessage(raw);
  const http = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(message.startLine);
  return http ? { ...message, status: Number(http[1]), reason: http[2] ?? '' } : message;
}

class Collector {
  readonly messages: SipMessage[] = [];
  readonly other: string[] = [];
  closed = false;
  firstAnswerMs: number | undefined;
  error: string | undefined;
  private readonly started = performance.now();
  private wake: () => void = () => undefined;

  constructor(private readonly done?: (o: Observation) => boolean) {}

  add(raw: string): void {
    this.firstAnswerMs ??= performance.now() - this.started;
    this.messages.push(parse(raw));
    this.check();
  }

  note(text: string): void {
    this.other.push(text);
  }

  close(): void {
    this.closed = true;
    this.check();
  }

  observation(): Observation {
    return {
      messages: [...this.messages],
      statuses: this.messages.filter((m) => m.status !== undefined).map((m) => m.status!),
      closed: this.closed,
      firstAnswerMs: this.firstAnswerMs,
      other: [...this.other],
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
  }

  wait(windowMs: number): Promise<Observation> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.observation()), windowMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve(this.observation());
      };
      this.check();
    });
  }

  private check(): void {
    if (this.done?.(this.observation())) this.wake();
  }
}

export async function sendUdp(target: Target, payload: Payload, opts: SendOptions): Promise<Observation> {
  const socket = createSocket('udp4');
  const c = new Collector(opts.done);
  socket.on('message', (m) => c.add(m.toString('latin1')));
  socket.on('error', (e) => (c.error = e.message));
  await new Promise<void>((r) => socket.bind({ address: opts.from, port: 0 }, () => r()));
  const local = { ip: opts.from, port: socket.address().port };
  socket.send(payload(local), target.port, target.host);
  const seen = await c.wait(opts.windowMs);
  socket.close();
  return seen;
}

/** SIP over a byte stream: frames by Content-Length, CRLF pongs noted apart. */
function streamSip(c: Collector): (chunk: Buffer) => void {
  const framer = new StreamFramer();
  let http = '';
  return (chunk) => {
    const text = chunk.toString('latin1');
    if (/^\r\n$/.test(text)) {
      c.note('CRLF');
      return;
    }
    if (text.startsWith('HTTP/') || http !== '') {
      // An HTTP answer (xhttp on a stream socket): no Content-Length framing needed.
      http += text;
      if (http.includes('\r\n\r\n')) {
        c.add(http);
        http = '';
      }
      return;
    }
    for (const m of framer.push(chunk)) c.add(m);
  };
}

function watchStream(socket: Socket, c: Collector, onData: (chunk: Buffer) => void): void {
  socket.on('data', onData);
  socket.on('end', () => c.close());
  socket.on('close', () => c.close());
  socket.on('error', (e) => {
    if (c.messages.length === 0 && !c.closed && /ECONNREFUSED|EADDRNOTAVAIL/.test(e.message)) c.error = e.message;
    c.close();
  });
}

export interface StreamOptions extends SendOptions {
  /** Written in separate writes, `gapMs` apart (a message split over segments). */
  readonly chunks?: (local: { ip: string; port: number }) => Buffer[];
  readonly gapMs?: number;
}

export async function sendTcp(target: Target, payload: Payload, opts: StreamOptions): Promise<Observation> {
  const c = new Collector(opts.done);
  const socket = tcpConnect({ host: target.host, port: target.port, localAddress: opts.from });
  watchStream(socket, c, streamSip(c));
  const connected = await new Promise<boolean>((r) => {
    socket.once('connect', () => r(true));
    socket.once('error', () => r(false));
  });
  if (connected) await write(socket, { ip: opts.from, port: socket.localPort ?? 0 }, payload, opts);
  const seen = await c.wait(connected ? opts.windowMs : 0);
  socket.destroy();
  return seen;
}

async function write(socket: Socket, local: { ip: string; port: number }, payload: Payload, opts: StreamOptions): Promise<void> {
  const parts = opts.chunks ? opts.chunks(local) : [payload(local)];
  for (const [i, part] of parts.entries()) {
    if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
    if (!socket.destroyed) socket.write(part);
  }
}

function openTls(target: Target, from: string, c: Collector): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    // The TCP connection first: tls.connect() takes no source address itself.
    const tcp = tcpConnect({ host: target.host, port: target.port, localAddress: from });
    tcp.on('error', () => undefined);
    const socket = tlsConnect({ socket: tcp, rejectUnauthorized: false, servername: 'localhost' });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', (e) => {
      c.error = e.message;
      resolve(undefined);
    });
  });
}

export async function sendTls(target: Target, payload: Payload, opts: StreamOptions): Promise<Observation> {
  const c = new Collector(opts.done);
  const socket = await openTls(target, opts.from, c);
  if (!socket) return c.observation();
  watchStream(socket, c, streamSip(c));
  await write(socket, { ip: opts.from, port: socket.localPort ?? 0 }, payload, opts);
  const seen = await c.wait(opts.windowMs);
  socket.destroy();
  return seen;
}

// ---------------------------------------------------------------- WebSocket

/** One WebSocket frame as a client sends it (RFC 6455 §5.2: always masked). */
export function wsFrame(payload: Buffer | string, opts: { opcode?: number; fin?: boolean; mask?: boolean; declaredLength?: number } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const length = opts.declaredLength ?? data.length;
  const mask = opts.mask ?? true;
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | (opts.opcode ?? 0x1)];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

/** Server frames (unmasked) out of a byte stream. */
class FrameReader {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ opcode: number; payload: Buffer }> {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: Array<{ opcode: number; payload: Buffer }> = [];
    for (;;) {
      if (this.buffer.length < 2) return out;
      const opcode = this.buffer[0]! & 0x0f;
      let length = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return out;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return out;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return out;
      out.push({ opcode, payload: this.buffer.subarray(offset, offset + length) });
      this.buffer = this.buffer.subarray(offset + length);
    }
  }
}

export interface WssOptions extends SendOptions {
  /** The HTTP upgrade request (valid by default). */
  readonly host: string;
  readonly origin?: string;
  /**
   * The frames to send after the upgrade; default: the payload in one masked
   * text frame. Raw bytes are written as they are (garbage after the upgrade).
   */
  readonly frames?: (local: { ip: string; port: number }) => Buffer[];
}

export function upgradeRequest(host: string, origin: string | undefined, key = randomBytes(16).toString('base64')): string {
  return (
    `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n` +
    (origin !== undefined ? `Origin: ${origin}\r\n` : '') +
    '\r\n'
  );
}

/** A completed WebSocket upgrade, then the frames; SIP comes back in text frames. */
export async function sendWss(target: Target, payload: Payload, opts: WssOptions): Promise<Observation> {
  const c = new Collector(opts.done);
  const socket = await openTls(target, opts.from, c);
  if (!socket) return c.observation();
  const reader = new FrameReader();
  let upgraded = false;
  let head = '';
  const upgradedNow = new Promise<boolean>((resolve) => {
    watchStream(socket, c, (chunk) => {
      if (!upgraded) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = /^HTTP\/1\.1 101 /.test(head);
        resolve(upgraded);
        if (!upgraded) {
          c.add(head);
          return;
        }
        chunk = Buffer.from(head.slice(end + 4), 'latin1');
        if (chunk.length === 0) return;
      }
      for (const frame of reader.push(chunk)) {
        if (frame.opcode === 0x1 || frame.opcode === 0x2) c.add(frame.payload.toString('latin1'));
        else if (frame.opcode === 0x8) {
          c.note(`close ${frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : ''}`.trim());
          c.close();
        } else c.note(`opcode ${frame.opcode}`);
      }
    });
    socket.once('close', () => resolve(false));
  });
  socket.write(upgradeRequest(opts.host, opts.origin));
  const ok = await Promise.race([upgradedNow, new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
  if (!ok) {
    socket.destroy();
    return { ...c.observation(), error: c.error ?? 'WebSocket upgrade failed' };
  }
  const local = { ip: opts.from, port: socket.localPort ?? 0 };
  for (const frame of opts.frames ? opts.frames(local) : [wsFrame(payload(local))]) socket.write(frame);
  const seen = await c.wait(opts.windowMs);
  socket.destroy();
  return seen;
}
