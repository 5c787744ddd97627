/**
 * SIPp on a host of the stack: run one scenario of stack/sipp/ inside a
 * namespace, keep its message trace (-trace_msg), and read the trace back as
 * parsed SIP messages in the order SIPp sent and received them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR } from '../scripts/lib/env.ts';
import { parseSipMessage, type SipMessage } from '../test/support/sip-client.ts';
import { SIPP_DIR } from './services.ts';

export interface TracedMessage {
  direction: 'sent' | 'received';
  transport: string;
  time: string;
  message: SipMessage;
}

/**
 * Parses a SIPp -trace_msg file: blocks of
 *   ----------------------------------------------- <date time>
 *   UDP message received [877] bytes :      (or: TCP message sent (324 bytes):)
 *   <blank line>
 *   <the SIP message>
 */
export function parseMessageLog(text: string): TracedMessage[] {
  const out: TracedMessage[] = [];
  for (const block of text.split(/^-{20,} /m).slice(1)) {
    const m = /^(\S+ \S+)\n(\w+) message (sent|received)[^\n]*\n\n([\s\S]*)$/.exec(block);
    if (!m) continue;
    const raw = m[4]!.replace(/\r?\n/g, '\r\n').replace(/(\r\n)+$/, '');
    const split = raw.indexOf('\r\n\r\n');
    // The trace adds blank lines after each message: keep the body's own length.
    const message = split < 0 ? `${raw}\r\n\r\n` : `${raw.slice(0, split)}\r\n\r\n${raw.slice(split + 4)}${raw.slice(split + 4) === '' ? '' : '\r\n'}`;
    out.push({ time: m[1]!, transport: m[2]!, direction: m[3] as 'sent' | 'received', message: parseSipMessage(message) });
  }
  return out;
}

export function readMessageLog(file: string): TracedMessage[] {
  return existsSync(file) ? parseMessageLog(readFileSync(file, 'utf8')) : [];
}

export interface SippRun {
  /** Label; also the name of the directory that keeps its files. */
  name: string;
  ns: string;
  scenario: string;
  /** host:port SIPp sends to. */
  remote: string;
  localIp: string;
  localPort: number;
  transport: 'udp' | 'tcp';
  /** Extra arguments (-s, -au, -ap, -key ..., -d ...). */
  args: readonly string[];
  /** Where traces go (a directory per run is made below it). */
  dir: string;
  timeoutS?: number;
}

export interface SippResult {
  code: number | null;
  command: string;
  messages: TracedMessage[];
  messageLog: string;
  dir: string;
  output: string;
}

export interface RunningSipp {
  /** The message trace so far (SIPp writes each message as it goes). */
  messages(): TracedMessage[];
  /**
   * Ends it now (SIGTERM: SIPp stops at once, exit code 0 unless a call
   * failed), e.g. a client holding its registration once its call is over.
   */
  stop(): void;
  done: Promise<SippResult>;
}

export function startSipp(run: SippRun): RunningSipp {
  const dir = join(run.dir, run.name.replace(/[^A-Za-z0-9._-]+/g, '_'));
  mkdirSync(dir, { recursive: true });
  const messageLog = join(dir, 'messages.log');
  const timeout = run.timeoutS ?? 15;
  const args = [
    run.remote,
    '-sf', join(SIPP_DIR, `${run.scenario}.xml`),
    '-i', run.localIp, '-p', String(run.localPort), '-t', run.transport === 'udp' ? 'u1' : 't1', '-bind_local',
    '-mi', run.localIp, '-mp', String(run.localPort + 1000), '-cp', String(run.localPort + 2000),
    '-nostdin', '-m', '1', '-timeout', `${timeout}s`, '-timeout_error',
    '-trace_msg', '-message_file', messageLog,
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    '-trace_screen', '-screen_file', join(dir, 'screen.log'),
    ...run.args,
  ];
  const command = ['ip', 'netns', 'exec', run.ns, 'sipp', ...args].join(' ');
  // How to run it again by hand, from the project root.
  writeFileSync(join(dir, 'command.sh'), `#!/bin/sh\ncd ${PROJECT_DIR}\n${command}\n`);
  const child = spawn('ip', ['netns', 'exec', run.ns, 'sipp', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), (timeout + 10) * 1000);
  const done = new Promise<SippResult>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(guard);
      writeFileSync(join(dir, 'output.log'), output);
      resolve({ code, command, messages: readMessageLog(messageLog), messageLog, dir, output });
    });
  });
  return { messages: () => readMessageLog(messageLog), stop: () => void child.kill('SIGTERM'), done };
}

export function runSipp(run: SippRun): Promise<SippResult> {
  return startSipp(run).done;
}

/** Start lines of a trace, `>` for sent, `<` for received: `> INVITE`, `< SIP/2.0 407 ...`. */
export function flow(messages: readonly TracedMessage[]): string[] {
  return messages.map((m) => `${m.direction === 'sent' ? '>' : '<'} ${m.message.method ?? m.message.status}`);
}
