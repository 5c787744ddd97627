/**
 * The two SIP parties of the health checks, over UDP on loopback:
 * - a media server (dispatcher set 1): answers the dispatcher's OPTIONS
 *   probes, an INVITE with 200 and SDP (488 when the offer is no SDP it can
 *   use, as FreeSWITCH would), ACK silently, BYE with 200; it keeps every
 *   message it received, so a test can prove something never reached it;
 * - a subscriber's phone: registers with digest and places a call.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { parseSipMessage, type SipMessage } from './sip-client.ts';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const rand = (): string => randomBytes(6).toString('hex');

export function offerSdp(ip: string, port: number): string {
  return ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
}

/** A reply to `req` as a UAS builds it (RFC 3261 8.2.6). */
export function replyTo(req: SipMessage, code: number, reason: string, extra: readonly string[] = [], body = ''): string {
  const copy = (name: string): string[] => req.headerValues(name).map((v) => `${name}: ${v}`);
  const to = req.header('to') ?? '';
  return [
    `SIP/2.0 ${code} ${reason}`,
    ...copy('Via'),
    ...copy('Record-Route'),
    ...copy('From'),
    `To: ${to}${/;tag=/.test(to) || code === 100 ? '' : `;tag=${rand()}`}`,
    ...copy('Call-ID'),
    ...copy('CSeq'),
    ...extra,
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** A UDP endpoint that keeps what it receives and lets a test wait for a message. */
class Endpoint {
  readonly received: SipMessage[] = [];
  /** Where each of `received` came from, `ip:port`, in the same order. */
  readonly receivedFrom: string[] = [];
  private waiters: Array<{ match: (m: SipMessage) => boolean; resolve: (m: SipMessage | null) => void }> = [];

  protected constructor(
    protected readonly socket: Socket,
    readonly ip: string,
    readonly port: number,
  ) {
    socket.on('message', (buf, rinfo) => {
      const m = parseSipMessage(buf.toString('latin1'));
      if (this.handle(m, rinfo.address, rinfo.port)) return;
      this.received.push(m);
      this.receivedFrom.push(`${rinfo.address}:${rinfo.port}`);
      const i = this.waiters.findIndex((w) => w.match(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    });
  }

  protected static async bind(ip: string, port: number): Promise<Socket> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: ip, port }, () => resolve());
    });
    return socket;
  }

  /** Messages handled by the endpoint itself (true: not recorded). */
  protected handle(_m: SipMessage, _ip: string, _port: number): boolean {
    return false;
  }

  send(raw: string, port: number, host = '127.0.0.1'): void {
    this.socket.send(raw, port, host);
  }

  /** The next message matching (already received or coming), or null after `ms`. */
  wait(match: (m: SipMessage) => boolean, ms = 2000): Promise<SipMessage | null> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const waiter = {
        match,
        resolve: (m: SipMessage | null) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(null);
      }, ms);
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.socket.close();
  }
}

export class MediaServer extends Endpoint {
  /** Every message received (probes included), raw, for "never reached the media server" checks. */
  readonly raw: string[] = [];
  /** Calls answered (INVITEs with a usable offer). */
  answered = 0;

  static async start(ip: string, port: number): Promise<MediaServer> {
    return new MediaServer(await Endpoint.bind(ip, port), ip, port);
  }

  protected override handle(m: SipMessage, ip: string, port: number): boolean {
    this.raw.push(m.raw);
    if (m.method === 'OPTIONS') {
      this.send(replyTo(m, 200, 'OK'), port, ip);
      return true;
    }
    if (m.method === 'INVITE') {
      const usable = /^m=audio \d+ /m.test(m.body) && /^c=IN IP4 /m.test(m.body);
      if (usable) {
        this.answered++;
        this.send(replyTo(m, 200, 'OK', [`Contact: <sip:ms@${this.ip}:${this.port}>`], offerSdp(this.ip, 30000)), port, ip);
      } else {
        this.send(replyTo(m, 488, 'Not Acceptable Here'), port, ip);
      }
    } else if (m.method === 'BYE') {
      this.send(replyTo(m, 200, 'OK'), port, ip);
    }
    return false;
  }

  /** Did anything carrying `token` arrive here? */
  saw(token: string): boolean {
    return this.raw.some((r) => r.includes(token));
  }
}

export interface Subscriber {
  readonly user: string;
  readonly password: string;
}

export interface ProxyAddress {
  readonly host: string;
  readonly sipPort: number;
  readonly domain: string;
}

/** A subscriber's phone on UDP: REGISTER with digest, then a call to the media servers. */
export class Phone extends Endpoint {
  static async open(ip: string): Promise<Phone> {
    const socket = await Endpoint.bind(ip, 0);
    return new Phone(socket, ip, socket.address().port);
  }

  private request(method: string, ruri: string, d: { from: string; to: string; callId: string; cseq: number; headers?: readonly string[]; body?: string }): string {
    const body = d.body ?? '';
    return [
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.ip}:${this.port};branch=z9hG4bK${rand()};rport`,
      'Max-Forwards: 70',
      `From: ${d.from}`,
      `To: ${d.to}`,
      `Call-ID: ${d.callId}`,
      `CSeq: ${d.cseq} ${method}`,
      `Contact: <sip:phone@${this.ip}:${this.port}>`,
      ...(d.headers ?? []),
      ...(body === '' ? [] : ['Content-Type: application/sdp']),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  private credentials(challenge: SipMessage | null, s: Subscriber, method: string, uri: string, realm: string, header: string): string {
    const nonce = /nonce="([^"]+)"/.exec(challenge?.header(header === 'Authorization' ? 'www-authenticate' : 'proxy-authenticate') ?? '')?.[1] ?? '';
    const response = md5(`${md5(`${s.user}:${realm}:${s.password}`)}:${nonce}:${md5(`${method}:${uri}`)}`);
    return `${header}: Digest username="${s.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
  }

  /** REGISTER, 401, REGISTER with credentials: the final status. */
  async register(proxy: ProxyAddress, s: Subscriber): Promise<number | undefined> {
    const ruri = `sip:${proxy.domain}:${proxy.sipPort}`;
    const d = { from: `<sip:${s.user}@${proxy.domain}>;tag=${rand()}`, to: `<sip:${s.user}@${proxy.domain}>`, callId: `reg-${rand()}` };
    this.send(this.request('REGISTER', ruri, { ...d, cseq: 1, headers: ['Expires: 300'] }), proxy.sipPort, proxy.host);
    const challenge = await this.wait((m) => m.header('call-id') === d.callId && (m.status ?? 0) >= 200);
    if (challenge?.status !== 401) return challenge?.status;
    const auth = this.credentials(challenge, s, 'REGISTER', ruri, proxy.domain, 'Authorization');
    this.send(this.request('REGISTER', ruri, { ...d, cseq: 2, headers: ['Expires: 300', auth] }), proxy.sipPort, proxy.host);
    return (await this.wait((m) => m.header('call-id') === d.callId && (m.status ?? 0) >= 200 && (m.header('cseq') ?? '').startsWith('2 ')))?.status;
  }

  /**
   * INVITE, 407, ACK, INVITE with credentials to a media server, 200 with
   * SDP, ACK and BYE along the Record-Route: what happened at each step.
   */
  async call(proxy: ProxyAddress, s: Subscriber, media: MediaServer): Promise<CallResult> {
    const { hangup, ...result } = await this.establish(proxy, s, media);
    return hangup ? { ...result, bye: await hangup() } : result;
  }

  /**
   * The call set up (INVITE, 407, ACK, INVITE with credentials, final
   * reply, ACK), with `hangup` (BYE along the route: its final status) when
   * it was answered 200. `ms`: from the authenticated INVITE to its final reply.
   */
  async establish(proxy: ProxyAddress, s: Subscriber, media: MediaServer, waitMs = 2000): Promise<CallResult & { ms?: number; hangup?: () => Promise<number | undefined> }> {
    const ruri = `sip:media@${proxy.domain}:${proxy.sipPort}`;
    const from = `<sip:${s.user}@${proxy.domain}>;tag=${rand()}`;
    const callId = `call-${rand()}`;
    const mine = (m: SipMessage): boolean => m.header('call-id') === callId;
    const offer = offerSdp(this.ip, 40000);
    this.send(this.request('INVITE', ruri, { from, to: `<${ruri}>`, callId, cseq: 1, body: offer }), proxy.sipPort, proxy.host);
    const challenge = await this.wait((m) => mine(m) && (m.status ?? 0) >= 200);
    const result: CallResult = { challenge: challenge?.status };
    if (challenge?.status !== 407) return result;
    this.send(this.request('ACK', ruri, { from, to: challenge.header('to') ?? '', callId, cseq: 1 }), proxy.sipPort, proxy.host);
    const auth = this.credentials(challenge, s, 'INVITE', ruri, proxy.domain, 'Proxy-Authorization');
    const sent = Date.now();
    this.send(this.request('INVITE', ruri, { from, to: `<${ruri}>`, callId, cseq: 2, headers: [auth], body: offer }), proxy.sipPort, proxy.host);
    let answeredAt = 0;
    const final = this.wait((m) => mine(m) && (m.status ?? 0) >= 200 && (m.header('cseq') ?? '').startsWith('2 '), waitMs).then((m) => {
      answeredAt = Date.now();
      return m;
    });
    const atMedia = await Promise.race([media.wait((m) => m.method === 'INVITE' && mine(m), waitMs), final.then(() => null)]);
    result.mediaServerOffer = atMedia ? /^c=IN IP4 (\S+)/m.exec(atMedia.body)?.[1] : undefined;
    const ok = await final;
    const ms = answeredAt - sent;
    result.answer = ok?.status;
    result.answerConnection = ok ? /^c=IN IP4 (\S+)/m.exec(ok.body)?.[1] : undefined;
    if (ok === null) return { ...result, ms };
    const toTag = ok.header('to') ?? '';
    if (ok.status !== 200) {
      this.send(this.request('ACK', ruri, { from, to: toTag, callId, cseq: 2 }), proxy.sipPort, proxy.host);
      return { ...result, ms };
    }
    const route = ok.headerValues('Record-Route').slice().reverse().map((v) => `Route: ${v}`);
    const target = /<([^>]+)>/.exec(ok.header('contact') ?? '')?.[1] ?? ruri;
    const dialog = { from, to: toTag, callId, headers: route };
    this.send(this.request('ACK', target, { ...dialog, cseq: 2 }), proxy.sipPort, proxy.host);
    result.ackReachedMediaServer = (await media.wait((m) => m.method === 'ACK' && mine(m) && (m.header('cseq') ?? '').startsWith('2 '))) !== null;
    const hangup = async (): Promise<number | undefined> => {
      this.send(this.request('BYE', target, { ...dialog, cseq: 3 }), proxy.sipPort, proxy.host);
      return (await this.wait((m) => mine(m) && (m.header('cseq') ?? '').includes('BYE') && (m.status ?? 0) >= 200, waitMs))?.status;
    };
    return { ...result, ms, hangup };
  }
}

export interface CallResult {
  challenge: number | undefined;
  /** c= address of the offer the media server received (rtpengine's, the private side). */
  mediaServerOffer?: string | undefined;
  answer?: number | undefined;
  /** c= address of the answer the phone received (rtpengine's, the public side). */
  answerConnection?: string | undefined;
  ackReachedMediaServer?: boolean;
  bye?: number | undefined;
}
