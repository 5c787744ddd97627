/**
 * rtpengine's ng control protocol from inside the vm's namespace, where its
 * socket is (127.0.0.1:NG on the vm's loopback): the tests ask rtpengine
 * itself which calls it holds (`list`) and what it relayed for one of them
 * (`query`: packets per stream and in total), as rtpengine-ctl would, without
 * needing its CLI socket.
 *
 *   ip netns exec ksr-vm tsx stack/ng.ts '{"command":"list"}'
 *   ip netns exec ksr-vm tsx stack/ng.ts '{"command":"query","call-id":"..."}'
 *
 * prints rtpengine's answer as JSON (bencoded strings as text, integers as
 * numbers) and exits 1 when rtpengine does not answer. With `--serve` it
 * reads one JSON command per line on stdin and writes one answer per line
 * (`{"error": ...}` when rtpengine did not answer), so a test file starts
 * node once instead of once per question.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { pathToFileURL } from 'node:url';

export type Bencoded = number | string | Bencoded[] | { [key: string]: Bencoded };

export function bencode(value: Bencoded): Buffer {
  if (typeof value === 'number') return Buffer.from(`i${Math.trunc(value)}e`);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')]);
  // Dictionary keys in sorted (raw byte) order, as bencode requires.
  const keys = Object.keys(value).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(value[k]!)]), Buffer.from('e')]);
}

export function bdecode(data: Buffer): Bencoded {
  let pos = 0;
  const next = (): Bencoded => {
    const c = String.fromCharCode(data[pos]!);
    if (c === 'i') {
      const end = data.indexOf(0x65, pos);
      const n = Number(data.toString('latin1', pos + 1, end));
      pos = end + 1;
      return n;
    }
    if (c === 'l') {
      pos++;
      const list: Bencoded[] = [];
      while (data[pos] !== 0x65) list.push(next());
      pos++;
      return list;
    }
    if (c === 'd') {
      pos++;
      const dict: Record<string, Bencoded> = {};
      while (data[pos] !== 0x65) {
        const key = next();
        dict[String(key)] = next();
      }
      pos++;
      return dict;
    }
    if (c >= '0' && c <= '9') {
      const colon = data.indexOf(0x3a, pos);
      const len = Number(data.toString('latin1', pos, colon));
      const s = data.toString('utf8', colon + 1, colon + 1 + len);
      pos = colon + 1 + len;
      return s;
    }
    throw new Error(`bencode: unexpected "${c}" at ${pos}`);
  };
  return next();
}

/** One ng command (`<cookie> <bencoded dict>` over UDP); a unique cookie each time. */
export function ngCommand(host: string, port: number, command: Record<string, Bencoded>, timeoutMs = 2000): Promise<Record<string, Bencoded>> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const cookie = randomBytes(8).toString('hex');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`rtpengine ${host}:${port}: no answer to ${String(command['command'])} in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('message', (msg) => {
      if (!msg.toString('latin1').startsWith(`${cookie} `)) return;
      clearTimeout(timer);
      socket.close();
      resolve(bdecode(msg.subarray(cookie.length + 1)) as Record<string, Bencoded>);
    });
    socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(command)]), port, host);
  });
}

async function serve(host: string, port: number): Promise<void> {
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    const answer = await ngCommand(host, port, JSON.parse(line) as Record<string, Bencoded>).catch((err: Error) => ({ error: err.message }));
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [json, address = '127.0.0.1:2223'] = process.argv.slice(2);
  const [host, port] = address.split(':');
  if (json === '--serve') {
    await serve(host!, Number(port));
    process.exit(0);
  }
  try {
    const answer = await ngCommand(host!, Number(port), JSON.parse(json ?? '{"command":"ping"}') as Record<string, Bencoded>);
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
