/**
 * Reads the stack's captures (tcpdump on bridge ports, see services.ts) back
 * as SIP messages with the addresses they really travelled between. UDP
 * datagrams are one message each; TCP streams are put back together per
 * direction (a PROXY protocol line at the start of a stream is kept apart),
 * then split by Content-Length.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StreamFramer, parseSipMessage, type SipMessage } from '../test/support/sip-client.ts';

/** Where a captured packet or message travelled: frame, time, transport and both ends. */
export interface Travelled {
  frame: number;
  time: number;
  transport: 'udp' | 'tcp';
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

export interface WireMessage extends Travelled {
  /** The PROXY protocol v1 line that opened this TCP stream, if any. */
  proxyLine?: string;
  message: SipMessage;
}

const SIP_START = /^(?:[A-Z]+ \S+ SIP\/2\.0|SIP\/2\.0 \d{3})/;

interface Frame {
  frame: number;
  time: number;
  src: string;
  dst: string;
  transport: 'udp' | 'tcp';
  sport: number;
  dport: number;
  payload: Buffer;
}

function readFrames(pcap: string): Frame[] {
  if (!existsSync(pcap)) return [];
  const out = execFileSync(
    'tshark',
    [
      '-r', pcap, '-n', '-Y', '(udp || tcp) && !icmp', '-T', 'fields', '-E', 'separator=\t',
      '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ip.dst',
      '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'tcp.srcport', '-e', 'tcp.dstport',
      '-e', 'udp.payload', '-e', 'tcp.payload',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 },
  );
  const frames: Frame[] = [];
  for (const line of out.split('\n')) {
    const [frame, time, src, dst, usport, udport, tsport, tdport, upayload, tpayload] = line.split('\t');
    if (frame === undefined || frame === '' || src === undefined || dst === undefined) continue;
    const udp = usport !== undefined && usport !== '';
    const hex = (udp ? upayload : tpayload) ?? '';
    frames.push({
      frame: Number(frame),
      time: Number(time),
      src,
      dst,
      transport: udp ? 'udp' : 'tcp',
      sport: Number(udp ? usport : tsport),
      dport: Number(udp ? udport : tdport),
      payload: Buffer.from(hex.replace(/:/g, ''), 'hex'),
    });
  }
  return frames;
}

/** Every SIP message in a capture file, in capture order. */
export function readSip(pcap: string): WireMessage[] {
  const messages: WireMessage[] = [];
  const streams = new Map<string, { framer: StreamFramer; started: boolean; proxyLine?: string; pending: Buffer }>();
  for (const f of readFrames(pcap)) {
    const base = { frame: f.frame, time: f.time, transport: f.transport, src: f.src, sport: f.sport, dst: f.dst, dport: f.dport };
    if (f.transport === 'udp') {
      const text = f.payload.toString('utf8');
      if (SIP_START.test(text)) messages.push({ ...base, message: parseSipMessage(text) });
      continue;
    }
    if (f.payload.length === 0) continue;
    const key = `${f.src}:${f.sport}>${f.dst}:${f.dport}`;
    let s = streams.get(key);
    if (!s) {
      s = { framer: new StreamFramer(), started: false, pending: Buffer.alloc(0) };
      streams.set(key, s);
    }
    let data = f.payload;
    if (!s.started) {
      // A PROXY v1 header ends with CRLF and comes before any SIP.
      s.pending = Buffer.concat([s.pending, data]);
      const text = s.pending.toString('latin1');
      if (text.startsWith('PROXY ')) {
        const end = text.indexOf('\r\n');
        if (end < 0) continue;
        s.proxyLine = text.slice(0, end);
        data = s.pending.subarray(end + 2);
      } else {
        data = s.pending;
      }
      s.started = true;
    }
    for (const raw of s.framer.push(data)) {
      if (SIP_START.test(raw)) messages.push({ ...base, ...(s.proxyLine !== undefined ? { proxyLine: s.proxyLine } : {}), message: parseSipMessage(raw) });
    }
  }
  return messages;
}

/** The messages of one call (Call-ID). */
export function ofCall(messages: readonly WireMessage[], callId: string): WireMessage[] {
  return messages.filter((m) => m.message.header('call-id') === callId);
}

/** `src:sport > dst:dport METHOD|status` lines, for assertions and failure messages. */
export function describe(m: WireMessage): string {
  return `${m.transport} ${m.src}:${m.sport} > ${m.dst}:${m.dport} ${m.message.method ?? m.message.status}`;
}

/** One packet of a capture, without its payload: who talked to whom, and TCP's flags. */
export interface Packet extends Travelled {
  /** TCP only: a connection being opened (SYN without ACK). */
  syn: boolean;
}

/**
 * The UDP and TCP packets of a capture that match a tshark display filter
 * (`udp.port >= 20000`, `tcp.flags.syn == 1`, ...): media counted packet by
 * packet, connections seen being opened.
 */
export function readPackets(pcap: string, filter = 'udp || tcp'): Packet[] {
  if (!existsSync(pcap)) return [];
  const out = execFileSync(
    'tshark',
    [
      '-r', pcap, '-n', '-Y', `(${filter}) && !icmp`, '-T', 'fields', '-E', 'separator=\t',
      '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ip.dst',
      '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.flags.syn', '-e', 'tcp.flags.ack',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 },
  );
  const packets: Packet[] = [];
  for (const line of out.split('\n')) {
    const [frame, time, src, dst, usport, udport, tsport, tdport, syn, ack] = line.split('\t');
    if (frame === undefined || frame === '' || src === undefined || dst === undefined) continue;
    const udp = usport !== undefined && usport !== '';
    const flag = (f: string | undefined): boolean => f === '1' || f === 'True';
    packets.push({
      frame: Number(frame),
      time: Number(time),
      transport: udp ? 'udp' : 'tcp',
      src,
      sport: Number(udp ? usport : tsport),
      dst,
      dport: Number(udp ? udport : tdport),
      syn: !udp && flag(syn) && !flag(ack),
    });
  }
  return packets;
}
