/**
 * Sends corpus entries to a real Kamailio and judges what came back against
 * each entry's expectation; counts per category for the summary table.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CATEGORIES, SUBSCRIBER, type BuildContext, type Category, type Entry, type Expectation, type Proxy, type Transport } from './corpus/index.ts';
import { sendTcp, sendTls, sendUdp, sendWss, type Observation, type Payload } from './wire.ts';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

export type Verdict = 'answered' | 'silent' | 'unexpected';

export interface Result {
  readonly entry: string;
  readonly category: Category;
  readonly transport: Transport;
  readonly expected: Expectation;
  readonly verdict: Verdict;
  /** What came back: status codes, "closed", "nothing". */
  readonly got: string;
  readonly ms: number;
}

export interface RunEnv {
  readonly proxy: Proxy;
  /** A loopback source address not used before (pike and the auth counter are per address). */
  nextIp(): string;
  /** Waited after the send when silence is expected. */
  readonly silenceMs: number;
  /** Longest wait for an expected reply. */
  readonly replyMs: number;
  /** Did the media server receive anything carrying this token? */
  mediaServerSaw(token: string): boolean;
}

export const expectationOf = (entry: Entry, transport: Transport): Expectation => entry.expectOn?.[transport] ?? entry.expect;

function targetPort(entry: Entry, transport: Transport, proxy: Proxy): number {
  const port = entry.port ?? (transport === 'tls' || transport === 'wss' ? 'webrtc' : 'sip');
  return port === 'private' ? proxy.privatePort : port === 'webrtc' ? proxy.webrtcPort : proxy.sipPort;
}

/** A 407's nonce for `ip`, from an INVITE sent over UDP: the nonce is not bound to the port or transport. */
async function nonceFor(ip: string, proxy: Proxy): Promise<string> {
  const token = randomBytes(6).toString('hex');
  const seen = await sendUdp(
    { host: proxy.localIp, port: proxy.sipPort },
    (local) =>
      Buffer.from(
        [
          `INVITE sip:1000@${proxy.domain}:${proxy.sipPort} SIP/2.0`,
          `Via: SIP/2.0/UDP ${local.ip}:${local.port};branch=z9hG4bK-n${token};rport`,
          'Max-Forwards: 70',
          `From: <sip:${SUBSCRIBER.user}@${proxy.domain}>;tag=${token}`,
          `To: <sip:1000@${proxy.domain}>`,
          `Call-ID: nonce-${token}`,
          'CSeq: 1 INVITE',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      ),
    { from: ip, windowMs: 1500, done: (o) => o.statuses.length > 0 },
  );
  const challenge = seen.messages.find((m) => m.status === 407)?.header('proxy-authenticate') ?? '';
  return /nonce="([^"]+)"/.exec(challenge)?.[1] ?? 'no-nonce';
}

function judge(expected: Expectation, o: Observation): { verdict: Verdict; got: string } {
  const finals = o.statuses.filter((s) => s >= 200 || s === 101);
  const got = o.error !== undefined
    ? `error: ${o.error}`
    : o.messages.length > 0
      ? o.messages.map((m) => (m.status !== undefined ? String(m.status) : m.method ?? m.startLine.slice(0, 20))).join(',') + (o.closed ? ' +closed' : '')
      : o.closed
        ? 'closed'
        : 'nothing';
  if ('reply' in expected) {
    const codes = typeof expected.reply === 'number' ? [expected.reply] : expected.reply;
    return { verdict: finals.length > 0 && codes.includes(finals[0]!) ? 'answered' : 'unexpected', got };
  }
  if (o.messages.length > 0 || o.error !== undefined) return { verdict: 'unexpected', got };
  if ('closed' in expected && !o.closed) return { verdict: 'unexpected', got };
  return { verdict: 'silent', got };
}

export async function runEntry(entry: Entry, transport: Transport, env: RunEnv): Promise<Result> {
  const ip = env.nextIp();
  const token = `h${randomBytes(5).toString('hex')}`;
  const expected = expectationOf(entry, transport);
  const nonce = entry.auth === true ? await nonceFor(ip, env.proxy) : '';
  const port = targetPort(entry, transport, env.proxy);
  const context = (local: { ip: string; port: number }): BuildContext => ({
    proxy: env.proxy,
    transport,
    local,
    token,
    port,
    credentials(method, uri) {
      const realm = env.proxy.domain;
      const response = md5(`${md5(`${SUBSCRIBER.user}:${realm}:${SUBSCRIBER.password}`)}:${nonce}:${md5(`${method}:${uri}`)}`);
      return `Proxy-Authorization: Digest username="${SUBSCRIBER.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
    },
  });
  const bytes = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v, 'latin1') : v);
  const payload: Payload = (local) => bytes(entry.build(context(local)));
  const windowMs = 'reply' in expected ? env.replyMs : env.silenceMs;
  const done = (o: Observation): boolean =>
    'reply' in expected ? o.statuses.some((s) => s >= 200 || s === 101) : o.messages.length > 0 || ('closed' in expected && o.closed);
  const target = { host: env.proxy.localIp, port };
  const base = { from: ip, windowMs, done };
  const started = performance.now();
  let seen: Observation;
  switch (transport) {
    case 'udp':
      seen = await sendUdp(target, payload, base);
      break;
    case 'tcp':
      seen = await sendTcp(target, payload, { ...base, ...(entry.chunks ? { chunks: (l) => entry.chunks!(context(l)).map(bytes), gapMs: 50 } : {}) });
      break;
    case 'tls':
      seen = await sendTls(target, payload, base);
      break;
    case 'wss':
      seen = await sendWss(target, payload, {
        ...base,
        host: `${env.proxy.domain}:${env.proxy.webrtcPort}`,
        origin: `https://${env.proxy.domain}`,
        ...(entry.frames ? { frames: (l: { ip: string; port: number }) => entry.frames!(context(l)) } : {}),
      });
      break;
  }
  const ms = performance.now() - started;
  let { verdict, got } = judge(expected, seen);
  if (entry.mediaServerUntouched === true) {
    // Give a relayed copy time to arrive before saying it did not.
    await new Promise((r) => setTimeout(r, 100));
    if (env.mediaServerSaw(token)) {
      verdict = 'unexpected';
      got += ' +reached the media server';
    }
  }
  return { entry: entry.name, category: entry.category, transport, expected, verdict, got, ms };
}

/** Runs `jobs` with at most `limit` in flight. */
export async function pool<T>(jobs: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

export interface CategoryCount {
  sent: number;
  answeredAsExpected: number;
  silentAsExpected: number;
  unexpected: number;
}

export function summarize(results: readonly Result[]): Record<string, CategoryCount> {
  const table: Record<string, CategoryCount> = {};
  for (const category of Object.keys(CATEGORIES)) table[category] = { sent: 0, answeredAsExpected: 0, silentAsExpected: 0, unexpected: 0 };
  for (const r of results) {
    const row = table[r.category]!;
    row.sent++;
    if (r.verdict === 'answered') row.answeredAsExpected++;
    else if (r.verdict === 'silent') row.silentAsExpected++;
    else row.unexpected++;
  }
  const total: CategoryCount = { sent: 0, answeredAsExpected: 0, silentAsExpected: 0, unexpected: 0 };
  for (const row of Object.values(table)) {
    total.sent += row.sent;
    total.answeredAsExpected += row.answeredAsExpected;
    total.silentAsExpected += row.silentAsExpected;
    total.unexpected += row.unexpected;
  }
  for (const [k, v] of Object.entries(table)) if (v.sent === 0) delete table[k];
  table['total'] = total;
  return table;
}

export function formatTable(table: Record<string, CategoryCount>): string {
  const head = ['category', 'sent', 'answered as expected', 'silent as expected', 'unexpected'];
  const rows = Object.entries(table).map(([k, v]) => [k, String(v.sent), String(v.answeredAsExpected), String(v.silentAsExpected), String(v.unexpected)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
