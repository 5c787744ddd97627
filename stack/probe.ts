/**
 * Readiness probes, run INSIDE a namespace by the stack (`ip netns exec NS
 * tsx stack/probe.ts ...`), since the daemons are reachable only from there:
 *
 *   ng=HOST:PORT                      rtpengine answers an ng ping
 *   options=udp|tcp:HOST:PORT[/URI]   SIP OPTIONS (R-URI default sip:HOST:PORT) gets 200
 *   --from ADDR                       the namespace's own address (Via, source)
 *
 * Each probe is retried until it succeeds or --timeout (ms) has passed. Prints
 * one line per probe (`ok`/`FAIL`, what answered) and exits 1 when any failed.
 */
import { ngPing } from '../scripts/lib/rtpengine.ts';
import { SipClient } from '../test/support/sip-client.ts';

export interface ProbeResult {
  probe: string;
  ok: boolean;
  detail: string;
}

async function once(probe: string, from: string): Promise<{ ok: boolean; detail: string }> {
  const ng = /^ng=([^:]+):(\d+)$/.exec(probe);
  if (ng) {
    const ok = await ngPing(ng[1]!, Number(ng[2]), 300);
    return { ok, detail: ok ? 'pong' : 'no pong' };
  }
  const options = /^options=(udp|tcp):([^:/]+):(\d+)(?:\/(.+))?$/.exec(probe);
  if (options) {
    const [, transport, host, port, uri] = options as unknown as [string, 'udp' | 'tcp', string, string, string | undefined];
    const client = await SipClient.open({ transport, remoteAddress: host, remotePort: Number(port), localAddress: from });
    try {
      const replies = await client.request({ method: 'OPTIONS', uri: uri ?? `sip:${host}:${port}` }, 500);
      const final = replies[replies.length - 1]!;
      const build = final.header('X-Routing-Build');
      return { ok: final.status === 200, detail: `${final.startLine}${build === undefined ? '' : ` (X-Routing-Build ${build})`}` };
    } finally {
      client.close();
    }
  }
  throw new Error(`unknown probe "${probe}"`);
}

export async function probe(spec: string, from: string, timeoutMs: number): Promise<ProbeResult> {
  const deadline = Date.now() + timeoutMs;
  let detail = 'not tried';
  for (;;) {
    try {
      const r = await once(spec, from);
      if (r.ok) return { probe: spec, ok: true, detail: r.detail };
      detail = r.detail;
    } catch (err) {
      detail = (err as Error).message.split('\n')[0] ?? String(err);
    }
    if (Date.now() >= deadline) return { probe: spec, ok: false, detail };
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(args: string[]): Promise<number> {
  let timeoutMs = 10_000;
  let from = '0.0.0.0';
  const specs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--timeout') timeoutMs = Number(args[++i]);
    else if (args[i] === '--from') from = args[++i]!;
    else specs.push(args[i]!);
  }
  const results = await Promise.all(specs.map((s) => probe(s, from, timeoutMs)));
  for (const r of results) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.probe}: ${r.detail}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
