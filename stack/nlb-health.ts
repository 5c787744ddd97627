/**
 * The health checker of the two-node stack's UDP balancer, run inside the
 * balancer's namespace (stack/scale.ts), as a cloud NLB checks its targets:
 *
 *   ip netns exec <prefix>router tsx stack/nlb-health.ts \
 *     --from 10.0.0.1 --uri sip:198.51.100.10:5060 --interval 500 --fall 2 --rise 2 \
 *     10.0.0.10:5060 10.0.0.11:5060
 *
 * Every interval it sends each node a SIP OPTIONS over UDP; a node that left
 * `fall` probes in a row without a 200 is taken out of the flow hash, one
 * that answered `rise` in a row is put back, by rewriting the nft chain
 * `sip_pick` in one transaction. Each change is logged with its time:
 *   <ISO time> node 10.0.0.10 DOWN (2 probes unanswered); balancing over 10.0.0.11
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { sipPickUpdate } from './scale.ts';

interface Options {
  from: string;
  uri: string;
  intervalMs: number;
  fall: number;
  rise: number;
  nodes: Array<{ host: string; port: number }>;
}

function parseArgs(args: string[]): Options {
  const opts: Options = { from: '0.0.0.0', uri: '', intervalMs: 500, fall: 2, rise: 2, nodes: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--from') opts.from = args[++i]!;
    else if (a === '--uri') opts.uri = args[++i]!;
    else if (a === '--interval') opts.intervalMs = Number(args[++i]);
    else if (a === '--fall') opts.fall = Number(args[++i]);
    else if (a === '--rise') opts.rise = Number(args[++i]);
    else {
      const m = /^([\d.]+):(\d+)$/.exec(a);
      if (!m) throw new Error(`nlb-health: "${a}" is not HOST:PORT of a node`);
      opts.nodes.push({ host: m[1]!, port: Number(m[2]) });
    }
  }
  if (opts.nodes.length === 0 || opts.uri === '') throw new Error('nlb-health: needs --uri and at least one node HOST:PORT');
  if (!(opts.intervalMs > 0 && opts.fall > 0 && opts.rise > 0)) throw new Error('nlb-health: --interval, --fall and --rise must be positive');
  return opts;
}

const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);

function main(opts: Options): void {
  const socket = createSocket('udp4');
  socket.bind(0, opts.from);
  const state = opts.nodes.map((n) => ({ ...n, healthy: true, misses: 0, hits: 0, pending: undefined as string | undefined }));
  const apply = (why: string): void => {
    const healthy = state.filter((n) => n.healthy).map((n) => n.host);
    try {
      execFileSync('nft', ['-f', '-'], { input: sipPickUpdate(healthy), stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      // Keep checking: the next change writes the whole rule again.
      log(`${why}; FAILED to rewrite the nft rule: ${String((err as { stderr?: unknown }).stderr ?? err).trim()}`);
      return;
    }
    log(`${why}; balancing over ${healthy.length > 0 ? healthy.join(' ') : `all (none healthy: fail open)`}`);
  };

  socket.on('message', (msg) => {
    const text = msg.toString('latin1');
    const callId = /\r\nCall-ID:\s*(\S+)/i.exec(text)?.[1];
    const node = state.find((n) => n.pending !== undefined && n.pending === callId);
    if (!node || !text.startsWith('SIP/2.0 200')) return;
    node.pending = undefined;
    node.misses = 0;
    node.hits++;
    if (!node.healthy && node.hits >= opts.rise) {
      node.healthy = true;
      apply(`node ${node.host} UP (${node.hits} probes answered)`);
    }
  });

  const probe = (): void => {
    for (const node of state) {
      if (node.pending !== undefined) {
        // The last probe went unanswered.
        node.hits = 0;
        node.misses++;
        if (node.healthy && node.misses >= opts.fall) {
          node.healthy = false;
          apply(`node ${node.host} DOWN (${node.misses} probes unanswered)`);
        }
      }
      const callId = `nlb-${randomBytes(6).toString('hex')}`;
      node.pending = callId;
      const { port } = socket.address();
      const request =
        `OPTIONS ${opts.uri} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP ${opts.from}:${port};branch=z9hG4bK-${randomBytes(6).toString('hex')};rport\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:nlb@${opts.from}>;tag=nlb\r\nTo: <${opts.uri}>\r\n` +
        `Call-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
      socket.send(request, node.port, node.host);
    }
  };
  socket.on('listening', () => {
    log(`checking ${state.map((n) => `${n.host}:${n.port}`).join(' ')} every ${opts.intervalMs} ms (fall ${opts.fall}, rise ${opts.rise})`);
    probe();
    setInterval(probe, opts.intervalMs);
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
}

main(parseArgs(process.argv.slice(2)));
