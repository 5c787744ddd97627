/**
 * The running Kamailio as the reload tool sees it, over its binrpc ctl socket
 * (`kamcmd -s unix:$RUN_DIR/kamailio_ctl`): is it there, which KEMI API it
 * exports, which processes it runs and on which sockets it listens, and the
 * app_jsdt.reload call itself.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseApiList, type KemiApi } from '../kemi/api-list.ts';

const execFileAsync = promisify(execFile);

const RPC_TIMEOUT_MS = 5_000;

export class KamailioUnreachable extends Error {
  constructor(ctl: string, why: string) {
    super(
      `Kamailio is not reachable on ${ctl} (${why}). Is it running with this RUN_DIR? ` +
        '(npm start runs it; kamailio.cfg puts the ctl socket at $RUN_DIR/kamailio_ctl)',
    );
    this.name = 'KamailioUnreachable';
  }
}

/** Kamailio answered, with an error (an unknown command, a module not loaded). */
export class RpcFault extends Error {}

export interface KamailioProcess {
  readonly pid: number;
  readonly description: string;
  readonly role: ProcessRole;
}

/** What a process does, as far as routing goes. */
export type ProcessRole =
  | { readonly kind: 'udp'; readonly child: number; readonly socket: string }
  | { readonly kind: 'tcp'; readonly child: number }
  | { readonly kind: 'other' };

export interface ListenSocket {
  readonly proto: string;
  readonly address: string;
  readonly port: number;
  readonly name: string;
}

export class KamailioRpc {
  /** @param ctl binrpc address, e.g. unix:/run/kamailio/kamailio_ctl */
  constructor(
    readonly ctl: string,
    private readonly kamcmd = 'kamcmd',
  ) {}

  static forRunDir(runDir: string): KamailioRpc {
    return new KamailioRpc(`unix:${runDir}/kamailio_ctl`);
  }

  async call(...args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync(this.kamcmd, ['-s', this.ctl, ...args], { timeout: RPC_TIMEOUT_MS });
      // kamcmd exits 0 on an RPC fault and prints it instead.
      const fault = /^error: (\d+ - .*)$/m.exec(stdout);
      if (fault && stdout.trimStart().startsWith('error:')) throw new RpcFault(`Kamailio refused ${args.join(' ')}: ${fault[1]}`);
      return stdout;
    } catch (error) {
      if (error instanceof RpcFault) throw error;
      const err = error as NodeJS.ErrnoException & { stderr?: string; stdout?: string; killed?: boolean };
      if (err.code === 'ENOENT') {
        throw new KamailioUnreachable(this.ctl, `${this.kamcmd} is not installed (Debian package kamailio)`);
      }
      const said = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
      if (err.killed) throw new KamailioUnreachable(this.ctl, `no answer to ${args[0]} within ${RPC_TIMEOUT_MS} ms`);
      throw new KamailioUnreachable(this.ctl, said.split('\n')[0] || String(error));
    }
  }

  /** Throws KamailioUnreachable when nothing answers on the ctl socket. */
  async version(): Promise<string> {
    return (await this.call('core.version')).trim();
  }

  /** The KEMI functions this Kamailio exports to JavaScript (its loaded modules). */
  async apiList(): Promise<{ text: string; api: KemiApi }> {
    const text = await this.call('app_jsdt.api_list');
    return { text, api: parseApiList(text, `${this.ctl} app_jsdt.api_list`) };
  }

  /** Bumps app_jsdt's reload counter; every process re-reads the file before its next routing call. */
  async reload(): Promise<{ old: number; new: number }> {
    const out = await this.call('app_jsdt.reload');
    const field = (name: string): number => Number(new RegExp(`\\b${name}: (\\d+)`).exec(out)?.[1] ?? NaN);
    const counter = { old: field('old'), new: field('new') };
    if (Number.isNaN(counter.new)) throw new Error(`app_jsdt.reload answered ${JSON.stringify(out.trim())}, not {old, new}`);
    return counter;
  }

  async processes(): Promise<KamailioProcess[]> {
    return parseProcessList(await this.call('core.psx'));
  }

  async sockets(): Promise<ListenSocket[]> {
    return parseSocketList(await this.call('corex.list_sockets'));
  }
}

/** `kamcmd core.psx`: blocks of `IDX`, `PID`, `DSC`. */
export function parseProcessList(text: string): KamailioProcess[] {
  const out: KamailioProcess[] = [];
  for (const match of text.matchAll(/PID:\s*(\d+)\s*\n\s*DSC:\s*([^\n]*)/g)) {
    const description = match[2]!.trim();
    out.push({ pid: Number(match[1]), description, role: processRole(description) });
  }
  return out;
}

/**
 * `udp receiver child=0 sock=127.0.0.1:5060 (127.0.0.2:5060)` and
 * `tcp receiver (generic) child=1` are the SIP workers; every other process
 * (timers, ctl, main...) runs routing only for timer events.
 */
export function processRole(description: string): ProcessRole {
  const udp = /^udp receiver child=(\d+) sock=(\S+)/.exec(description);
  if (udp) return { kind: 'udp', child: Number(udp[1]), socket: udp[2]! };
  const tcp = /^tcp receiver \(generic\) child=(\d+)/.exec(description);
  if (tcp) return { kind: 'tcp', child: Number(tcp[1]) };
  return { kind: 'other' };
}

/** `kamcmd corex.list_sockets`: blocks of PROTO, NAME, ADDRLIST, PORT, ..., SOCKNAME. */
export function parseSocketList(text: string): ListenSocket[] {
  return text
    .split(/\n\}\s*(?=\{|$)/)
    .map((block) => {
      const field = (name: string): string => new RegExp(`\\b${name}: ([^\\n]*)`).exec(block)?.[1]?.trim() ?? '';
      return { proto: field('PROTO'), address: field('ADDR'), port: Number(field('PORT')), name: field('SOCKNAME') };
    })
    .filter((socket) => socket.proto !== '' && Number.isInteger(socket.port) && socket.port > 0);
}

/** `127.0.0.1:5060` or `[::1]:5060` -> host and port. */
export function splitHostPort(socket: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(socket);
  if (!match) throw new Error(`not an address:port: ${socket}`);
  return { host: match[1]!, port: Number(match[2]) };
}
