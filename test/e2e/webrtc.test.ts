/**
 * WebRTC on the namespace stack, with a client nobody here wrote: Debian's
 * Chromium, headless, on the public client host (c1), loads a page with
 * JsSIP (npm) served as https://phone.example.test (the one origin the
 * stack's Kamailio accepts, WEBRTC_ORIGINS) and uses the article's third
 * socket: SIP over secure WebSocket to PUBLIC_IP:WEBRTC_PORT through the 1:1
 * NAT, media as ICE + DTLS-SRTP that rtpengine bridges to plain RTP toward
 * the media servers (here SIPp UAS that answer RTP/AVP and send a tone).
 * Asserted on what each end saw: the browser's own events and getStats(),
 * the SDP and RTP at the media server, the vm's wire, usrloc and rtpengine.
 * On failure .test-artifacts/e2e-webrtc/ keeps screenshots, the browser
 * console and the phone's log with every SDP, SIPp traces, captures, logs.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { readPackets } from '../../stack/capture.ts';
import { capturePath, uasMessageLog } from '../../stack/services.ts';
import { readMessageLog, startSipp } from '../../stack/sipp.ts';
import { down, up, type Stack } from '../../stack/stack.ts';
import { stackDir } from '../../stack/state.ts';
import { ADDR, MEDIA_SERVERS, NS, PORT, SIP_DOMAIN, SUBSCRIBERS } from '../../stack/topology.ts';
import { launchIn, type BrowserHost, type Phone, type PhoneState, type PhoneStats, type PhoneWindow } from '../../stack/webrtc/browser.ts';
import { MEDIA_SERVER_WITH_RTP, PAGE_ORIGIN, RTP_TONE, WSS_URL } from '../../stack/webrtc/config.ts';
import { ARTIFACTS_DIR } from '../support/process.ts';

const execFileAsync = promisify(execFile);
const TSX = join(PROJECT_DIR, 'node_modules', '.bin', 'tsx');
const LABEL = 'webrtc';

let stack: Stack | undefined;
let host: BrowserHost | undefined;
let failed = false;
const phones: Phone[] = [];

beforeAll(async () => {
  // Fails with the reason (root, netns, chromium missing), never skipped.
  stack = await up({ teardownOnExit: true, mediaServers: MEDIA_SERVER_WITH_RTP });
  host = await launchIn(NS.c1);
}, 60_000);
afterEach(({ task }) => {
  if (task.result?.state === 'fail') failed = true;
});
afterAll(async () => {
  const dir = join(stackDir(), 'browser');
  for (const phone of phones) {
    if (failed) await phone.keep(dir).catch(() => undefined);
  }
  await host?.close().catch(() => undefined);
  const report = down({ keepLogs: true });
  if (failed || stack === undefined) keep(stackDir());
  if (report.killed.length > 0) process.stderr.write(`e2e: had to SIGKILL ${report.killed.join(', ')}\n`);
}, 30_000);

function keep(dir: string): void {
  if (!existsSync(dir)) return;
  const target = join(ARTIFACTS_DIR, `e2e-${LABEL}`);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const sub of ['logs', 'capture', 'sipp', 'conf', 'browser']) {
    if (existsSync(join(dir, sub))) cpSync(join(dir, sub), join(target, sub), { recursive: true });
  }
  process.stderr.write(`e2e: kept the screenshots, browser consoles, traces, captures and logs in ${target}\n`);
}

const password = (user: string): string => SUBSCRIBERS.find((s) => s.user === user)!.password;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() >= deadline) throw new Error(`${what}: not after ${timeoutMs} ms; last seen:\n${JSON.stringify(value, null, 2)}`);
    await sleep(100);
  }
}

/** The page's phone API, called in the browser. */
const api = {
  state: (p: Phone): Promise<PhoneState> => p.page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.state),
  stats: async (p: Phone): Promise<PhoneStats> => {
    const stats = await p.page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.stats());
    if (stats === null) throw new Error(`${p.label}: no RTCPeerConnection`);
    return stats;
  },
  start: (p: Phone, user: string): Promise<boolean> =>
    p.page.evaluate((o) => (globalThis as unknown as PhoneWindow).phone.start(o), { wsUri: WSS_URL, sipUri: `sip:${user}@${SIP_DOMAIN}`, password: password(user) }),
  register: (p: Phone): Promise<boolean> => p.page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.register()),
  call: (p: Phone, target: string): Promise<boolean> => p.page.evaluate((t) => (globalThis as unknown as PhoneWindow).phone.call(t), target),
  hangup: (p: Phone): Promise<boolean> => p.page.evaluate(() => (globalThis as unknown as PhoneWindow).phone.hangup()),
};

const events = (s: PhoneState): string[] => s.log.map((l) => l.what);
const sdpOf = (s: PhoneState, originator: 'local' | 'remote'): string => String(s.log.find((l) => l.what === 'sdp' && l.originator === originator)?.['sdp'] ?? '');

/** A browser tab of `user`, its WebSocket connected and registered. */
async function registeredPhone(user: string): Promise<Phone> {
  const phone = await host!.openPhone(user);
  phones.push(phone);
  await api.start(phone, user);
  await until('the WebSocket connects', () => api.state(phone), (s) => events(s).includes('ws connected') || events(s).includes('ws disconnected'), 5000);
  await api.register(phone);
  await until(`${user} registers`, () => api.state(phone), (s) => s.registered || events(s).includes('registration failed'), 5000);
  return phone;
}

async function rpc(...args: string[]): Promise<string> {
  return stack!.rpc(...args);
}

/** rtpengine's calls (ng `list`, from inside the vm). */
async function rtpengineCalls(): Promise<string[]> {
  const { stdout } = await execFileAsync('ip', ['netns', 'exec', NS.vm, TSX, join(PROJECT_DIR, 'stack', 'ng.ts'), '{"command":"list"}', `127.0.0.1:${PORT.NG}`], {
    cwd: PROJECT_DIR,
    timeout: 10_000,
  });
  return ((JSON.parse(stdout) as { calls?: string[] }).calls ?? []).map(String);
}

/** A WebSocket upgrade over TLS from c1 to the NAT's public address: the status line. */
async function handshake(opts: { host?: string; origin?: string; path?: string }): Promise<string> {
  const args = [join(PROJECT_DIR, 'stack', 'webrtc', 'handshake.ts'), `${ADDR.PUBLIC_IP}:${PORT.WEBRTC}`];
  if (opts.host !== undefined) args.push('--host', opts.host);
  args.push('--origin', opts.origin ?? 'none', '--path', opts.path ?? '/');
  const { stdout } = await execFileAsync('ip', ['netns', 'exec', NS.c1, TSX, ...args], { cwd: PROJECT_DIR, timeout: 10_000 });
  return stdout.trim();
}

/** One OPTIONS from a media server to USER@SIP_DOMAIN through Kamailio's private port: the final status line. */
async function optionsFromMediaServer(user: string): Promise<string> {
  const probe = `options=udp:${ADDR.LOCAL_IP}:${PORT.PRIVATE}/sip:${user}@${SIP_DOMAIN}`;
  const out = await execFileAsync('ip', ['netns', 'exec', NS.ms1, TSX, join(PROJECT_DIR, 'stack', 'probe.ts'), '--timeout', '0', '--from', ADDR.ms1, probe], {
    cwd: PROJECT_DIR,
    timeout: 10_000,
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return /: (SIP\/2\.0 \d{3}[^\n]*)/.exec(out.stdout)?.[1] ?? out.stdout.trim();
}

/** Media packets on a captured wire from one address:port to another. */
function rtpOnWire(port: 'vm' | 'ms1' | 'ms2', src: string, dst: string): number {
  const [sip, sport] = src.split(':');
  const [dip, dport] = dst.split(':');
  return readPackets(capturePath(stack!.paths, port), `ip.src == ${sip} && udp.srcport == ${sport} && ip.dst == ${dip} && udp.dstport == ${dport}`).length;
}

/** One line of figures per call in the test output (the README quotes them). */
function figures(what: string, s: PhoneStats): void {
  process.stdout.write(
    `webrtc: ${what}: pc ${s.connectionState}, ICE ${s.iceConnectionState} (${s.pair?.local} <-> ${s.pair?.remote}), DTLS ${s.dtlsState}, ` +
      `received ${s.inbound?.packetsReceived} (${s.inbound?.codec}), sent ${s.outbound?.packetsSent} (${s.outbound?.codec})\n`,
  );
}

const attr = (sdp: string, name: string): string[] => sdp.split(/\r?\n/).filter((l) => l.startsWith(`a=${name}`)).map((l) => l.trim());
const line = (sdp: string, prefix: string): string => sdp.split(/\r?\n/).find((l) => l.startsWith(prefix))?.trim() ?? '';
const inRtpRange = (port: number): boolean => port >= PORT.RTP_MIN && port <= PORT.RTP_MAX;
const mediaPort = (sdp: string): number => Number(/^m=audio (\d+)/m.exec(sdp)?.[1] ?? NaN);

describe('a browser (headless Chromium + JsSIP) over secure WebSocket through the 1:1 NAT', { timeout: 30_000 }, () => {
  it('registers with digest auth (401, then 200), bound to its WebSocket connection', async () => {
    const phone = await registeredPhone('carol');
    const state = await api.state(phone);
    expect(state.registered).toBe(true);
    expect(state.registerResponses).toEqual([401, 200]);
    const binding = await rpc('ul.lookup', 'location', 'carol');
    // Reached over the connection it opened: its address as the NAT shows it, the WebRTC socket.
    expect(binding).toMatch(new RegExp(`Received: sip:${ADDR.c1.replace(/\./g, '\\.')}:\\d+;transport=ws`));
    expect(binding).toContain(`Socket: tls:${ADDR.LOCAL_IP}:${PORT.WEBRTC}`);
    expect(binding).toContain('User-Agent: ksr-webrtc-test JsSIP/');
  });

  it('calls a media server: answered, ICE and DTLS connected through the NAT, RTP both ways, plain RTP/AVP at the media server, nothing left after its BYE', async () => {
    const phone = await registeredPhone('alice');
    await api.call(phone, `sip:9196@${SIP_DOMAIN}`);
    await until('the call is answered', () => api.state(phone), (s) => s.sessionEvents.includes('confirmed') || s.sessionEvents.includes('failed'), 10_000);
    expect((await api.state(phone)).sessionEvents).toEqual(['progress', 'accepted', 'confirmed']);
    // A second of audio each way, through rtpengine.
    const stats = await until(
      'RTP flows both ways',
      () => api.stats(phone),
      (s) => (s.inbound?.packetsReceived ?? 0) >= 50 && (s.outbound?.packetsSent ?? 0) >= 50,
      8000,
    );
    expect(stats).toMatchObject({ connectionState: 'connected', iceConnectionState: 'connected', dtlsState: 'connected' });
    figures('browser calls 9196', stats);
    expect(stats.inbound?.codec).toBe('audio/PCMU/8000 pt 0');
    // The browser's only candidate pair: itself (public) and rtpengine at PUBLIC_IP.
    expect(stats.pair?.state).toBe('succeeded');
    expect(stats.pair?.remote).toMatch(new RegExp(`^host ${ADDR.PUBLIC_IP.replace(/\./g, '\\.')}:\\d+$`));
    expect(inRtpRange(Number(stats.pair!.remote!.split(':')[1]))).toBe(true);

    // What the browser was answered: DTLS-SRTP from rtpengine at PUBLIC_IP, one muxed port, no SDES.
    const state = await api.state(phone);
    const answer = sdpOf(state, 'remote');
    expect(line(answer, 'm=audio')).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
    expect(line(answer, 'c=')).toBe(`c=IN IP4 ${ADDR.PUBLIC_IP}`);
    expect(line(answer, 'o=')).toMatch(new RegExp(`IN IP4 ${ADDR.PUBLIC_IP.replace(/\./g, '\\.')}$`));
    expect(attr(answer, 'candidate').map((c) => c.split(' ').slice(4, 6).join(':'))).toEqual([`${ADDR.PUBLIC_IP}:${mediaPort(answer)}`]);
    expect(attr(answer, 'rtcp-mux')).toEqual(['a=rtcp-mux']);
    expect(attr(answer, 'fingerprint')).toHaveLength(1);
    expect(attr(answer, 'crypto')).toEqual([]);

    // The media server got plain RTP/AVP from rtpengine on LOCAL_IP: no ICE, no DTLS, RTCP apart.
    const callId = await callIdAtMediaServer('alice');
    const ms = mediaServerOf(callId);
    const invite = ms.messages.find((t) => t.direction === 'received' && t.message.method === 'INVITE')!.message;
    const msOffer = invite.body;
    expect(line(msOffer, 'm=audio')).toMatch(/^m=audio \d+ RTP\/AVP /);
    expect(line(msOffer, 'c=')).toBe(`c=IN IP4 ${ADDR.LOCAL_IP}`);
    expect(line(msOffer, 'o=')).toMatch(new RegExp(`IN IP4 ${ADDR.LOCAL_IP.replace(/\./g, '\\.')}$`));
    expect([...attr(msOffer, 'candidate'), ...attr(msOffer, 'ice-'), ...attr(msOffer, 'fingerprint'), ...attr(msOffer, 'setup'), ...attr(msOffer, 'rtcp-mux')]).toEqual([]);
    expect(attr(msOffer, 'rtcp:')).toEqual([`a=rtcp:${mediaPort(msOffer) + 1}`]);
    const rtpengineLeg = `${ADDR.LOCAL_IP}:${mediaPort(msOffer)}`;
    const msMedia = `${ms.address}:${PORT.UAS_MEDIA}`;
    const [toMs, fromMs] = [rtpOnWire(ms.host, rtpengineLeg, msMedia), rtpOnWire(ms.host, msMedia, rtpengineLeg)];
    process.stdout.write(`webrtc: browser calls 9196: on ${ms.host}'s wire so far ${toMs} RTP/AVP packets from rtpengine, ${fromMs} to it\n`);
    expect(toMs, 'RTP from rtpengine to the media server').toBeGreaterThanOrEqual(40);
    expect(fromMs, 'RTP from the media server to rtpengine').toBeGreaterThanOrEqual(40);
    expect(await rtpengineCalls()).toContain(callId);

    // The browser hangs up: the media server gets the BYE, rtpengine forgets the call.
    await api.hangup(phone);
    await until('the call ends', () => api.state(phone), (s) => s.ended === true, 5000);
    await until('the media server gets the BYE', async () => mediaServerOf(callId).messages.some((t) => t.direction === 'received' && t.message.method === 'BYE'), (v) => v, 5000);
    expect(await until('rtpengine holds no session', rtpengineCalls, (calls) => !calls.includes(callId), 5000)).not.toContain(callId);
  });

  it('is called by a media server: the browser answers, ICE + DTLS-SRTP toward it and plain RTP toward the media server, media both ways', async () => {
    const phone = await registeredPhone('bob');
    const msPort = 5191;
    const sipp = startSipp({
      name: 'media-server-calls-browser',
      ns: NS.ms1,
      scenario: '../webrtc/sipp/uac-call-browser',
      remote: `${ADDR.LOCAL_IP}:${PORT.PRIVATE}`,
      localIp: ADDR.ms1,
      localPort: msPort,
      transport: 'udp',
      args: ['-s', 'bob', '-key', 'domain', SIP_DOMAIN, '-key', 'rtp_tone', RTP_TONE, '-d', '2500'],
      dir: join(stack!.dir, 'sipp', LABEL),
    });
    await until('the browser answers', () => api.state(phone), (s) => s.sessionEvents.includes('confirmed') || s.sessionEvents.includes('failed'), 10_000);
    const stats = await until(
      'RTP flows both ways',
      () => api.stats(phone),
      (s) => (s.inbound?.packetsReceived ?? 0) >= 50 && (s.outbound?.packetsSent ?? 0) >= 50,
      8000,
    );
    expect(stats).toMatchObject({ connectionState: 'connected', iceConnectionState: 'connected', dtlsState: 'connected' });
    figures('media server calls the browser', stats);
    const result = await sipp.done;
    expect(result.code, `${result.command}\n${result.output}`).toBe(0);
    const state = await api.state(phone);
    expect(state.sessionEvents).toEqual(['progress', 'accepted', 'confirmed', 'ended']);

    // The offer the browser got: the article's WebRTC flags.
    const offer = sdpOf(state, 'remote');
    expect(line(offer, 'm=audio')).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 8 0$/);
    expect(line(offer, 'c=')).toBe(`c=IN IP4 ${ADDR.PUBLIC_IP}`);
    expect(attr(offer, 'rtpmap').map((a) => a.split(' ')[1])).toEqual(['PCMA/8000', 'PCMU/8000']);
    expect(attr(offer, 'candidate').map((c) => c.split(' ').slice(4, 6).join(':'))).toEqual([`${ADDR.PUBLIC_IP}:${mediaPort(offer)}`]);
    expect(attr(offer, 'rtcp-mux')).toEqual(['a=rtcp-mux']);
    expect(attr(offer, 'setup')).toEqual(['a=setup:actpass']);
    // generate-mid: the media server's SDP has no a=mid, rtpengine adds one.
    expect(attr(offer, 'mid')).toHaveLength(1);
    expect(attr(offer, 'mid')[0]).toMatch(/^a=mid:\S+$/);
    expect(attr(offer, 'crypto')).toEqual([]);

    // The media server's side: answered with plain RTP/AVP from rtpengine on LOCAL_IP, media both ways on the vm's wire.
    const ok = result.messages.find((t) => t.direction === 'received' && t.message.status === 200 && (t.message.header('cseq') ?? '').endsWith('INVITE'))!.message;
    expect(line(ok.body, 'm=audio')).toMatch(/^m=audio \d+ RTP\/AVP /);
    expect(line(ok.body, 'c=')).toBe(`c=IN IP4 ${ADDR.LOCAL_IP}`);
    expect([...attr(ok.body, 'candidate'), ...attr(ok.body, 'ice-'), ...attr(ok.body, 'fingerprint'), ...attr(ok.body, 'rtcp-mux')]).toEqual([]);
    const rtpengineLeg = `${ADDR.LOCAL_IP}:${mediaPort(ok.body)}`;
    const msMedia = `${ADDR.ms1}:${msPort + 1000}`;
    const [toMs, fromMs] = [rtpOnWire('vm', rtpengineLeg, msMedia), rtpOnWire('vm', msMedia, rtpengineLeg)];
    process.stdout.write(`webrtc: media server calls the browser: on the vm's wire over the whole call ${toMs} RTP/AVP packets to the media server, ${fromMs} from it\n`);
    expect(toMs, 'RTP from the browser, via rtpengine, to the media server').toBeGreaterThanOrEqual(40);
    expect(fromMs, 'RTP from the media server to rtpengine').toBeGreaterThanOrEqual(40);
    // The media server's BYE reached the browser over its WebSocket (Contact alias), and nothing is left.
    const callId = ok.header('call-id')!;
    expect(await until('rtpengine holds no session', rtpengineCalls, (calls) => !calls.includes(callId), 5000)).not.toContain(callId);
  });

  it.each([
    ['the test page (WEBRTC_ORIGINS)', { host: `${SIP_DOMAIN}:${PORT.WEBRTC}`, origin: PAGE_ORIGIN }, '101'],
    ['a client that sends no Origin, by the public address', { host: `${ADDR.PUBLIC_IP}:${PORT.WEBRTC}` }, '101'],
    ['a page of another site', { host: `${SIP_DOMAIN}:${PORT.WEBRTC}`, origin: 'https://evil.example' }, '403'],
    ['a page of the SIP domain itself, not in WEBRTC_ORIGINS', { host: `${SIP_DOMAIN}:${PORT.WEBRTC}`, origin: `https://${SIP_DOMAIN}` }, '403'],
    ['another Host (DNS rebinding)', { host: 'attacker.example:7777', origin: PAGE_ORIGIN }, '403'],
    ['no Host', { origin: PAGE_ORIGIN }, '403'],
    ['another path', { host: `${SIP_DOMAIN}:${PORT.WEBRTC}`, origin: PAGE_ORIGIN, path: '/admin' }, '403'],
  ])('answers a WebSocket upgrade from %s with %s', async (_what, opts, status) => {
    expect(await handshake(opts)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  });

  it('refuses the WebSocket to a page of another origin in the browser itself', async () => {
    const phone = await host!.openPhone('foreign', `https://evil.${SIP_DOMAIN}`);
    phones.push(phone);
    await api.start(phone, 'dave');
    const state = await until('the WebSocket gives up', () => api.state(phone), (s) => events(s).includes('ws disconnected'), 5000);
    expect(events(state)).not.toContain('ws connected');
  });

  it('reaches a browser from a media server while its WebSocket is open, and drops its registration when the tab goes away', async () => {
    const phone = await registeredPhone('dave');
    // The binding is reachable again for the media servers: over the browser's own connection.
    expect(await optionsFromMediaServer('dave')).toBe('SIP/2.0 200 OK');
    await phone.close();
    // At once: lookup skips the contact of a closed connection (registrar lookup_filter_mode 2).
    expect(await until('the media server is told dave is away', () => optionsFromMediaServer('dave'), (s) => s.startsWith('SIP/2.0 480'), 3000)).toMatch(
      /^SIP\/2\.0 480 /,
    );
    // Then usrloc deletes it (handle_lost_tcp, on its 10 s timer).
    const gone = await until('usrloc drops the binding', () => rpc('ul.lookup', 'location', 'dave').catch((err: Error) => err.message), (s) => !s.includes('Contact:'), 15_000);
    expect(gone).not.toContain('Contact:');
  });
});

/** The Call-ID of the user's INVITE as the media server received it. */
async function callIdAtMediaServer(user: string): Promise<string> {
  for (const ms of MEDIA_SERVERS) {
    const invites = readMessageLog(uasMessageLog(stack!.paths, ms.host)).filter(
      (t) => t.direction === 'received' && t.message.method === 'INVITE' && (t.message.header('from') ?? '').includes(`sip:${user}@`),
    );
    if (invites.length > 0) return invites[invites.length - 1]!.message.header('call-id')!;
  }
  throw new Error(`no INVITE from ${user} at any media server`);
}

function mediaServerOf(callId: string): { host: 'ms1' | 'ms2'; address: string; messages: ReturnType<typeof readMessageLog> } {
  const found = MEDIA_SERVERS.map((ms) => ({
    host: ms.host,
    address: ms.address,
    messages: readMessageLog(uasMessageLog(stack!.paths, ms.host)).filter((t) => t.message.header('call-id') === callId),
  })).filter((ms) => ms.messages.length > 0);
  if (found.length !== 1) throw new Error(`call ${callId}: ${found.length} media servers have it`);
  return found[0]!;
}
