/**
 * The reload tool's pure parts (build/reload): reading kamcmd's output,
 * the probe's reply parsing, map rebasing, the reload lock, the per-worker
 * table. The whole flow against a real Kamailio is test/engine/reload.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatConfirmation, type Confirmation } from '../../build/reload/confirm.ts';
import { lockReload, rebaseMap, ReloadBusy, slotsFor } from '../../build/reload/install.ts';
import { KamailioRpc, KamailioUnreachable, parseProcessList, parseSocketList, RpcFault, splitHostPort } from '../../build/reload/kamailio-rpc.ts';
import { readProbeReply } from '../../build/reload/probe.ts';

const PSX = `{
	IDX: 0
	PID: 100
	DSC: main process - attendant
}
{
	IDX: 1
	PID: 101
	DSC: udp receiver child=0 sock=127.0.0.1:5060 (127.0.0.2:5060)
}
{
	IDX: 5
	PID: 105
	DSC: udp receiver child=1 sock=[::1]:5070
}
{
	IDX: 9
	PID: 109
	DSC: slow timer
}
{
	IDX: 18
	PID: 118
	DSC: tcp receiver (generic) child=3
}
`;

const SOCKETS = `{
	PROTO: udp
	NAME: 127.0.0.1
	ADDRLIST: {
		ADDR: 127.0.0.1
	}
	PORT: 5060
	SOCKNAME: public_socket
	ADVERTISE: 127.0.0.2
}
{
	PROTO: tcp
	NAME: 127.0.0.1
	ADDRLIST: {
		ADDR: 127.0.0.1
	}
	PORT: 5060
	SOCKNAME: public_tcp_socket
	ADVERTISE: 127.0.0.2
}
`;

describe('kamcmd output', () => {
  it('tells SIP workers (UDP per socket, TCP) from the other processes in core.psx', () => {
    expect(parseProcessList(PSX).map((p) => [p.pid, p.role])).toEqual([
      [100, { kind: 'other' }],
      [101, { kind: 'udp', child: 0, socket: '127.0.0.1:5060' }],
      [105, { kind: 'udp', child: 1, socket: '[::1]:5070' }],
      [109, { kind: 'other' }],
      [118, { kind: 'tcp', child: 3 }],
    ]);
  });

  it('reads corex.list_sockets', () => {
    expect(parseSocketList(SOCKETS)).toEqual([
      { proto: 'udp', address: '127.0.0.1', port: 5060, name: 'public_socket' },
      { proto: 'tcp', address: '127.0.0.1', port: 5060, name: 'public_tcp_socket' },
    ]);
  });

  it('splits IPv4 and IPv6 socket addresses', () => {
    expect(splitHostPort('127.0.0.1:5060')).toEqual({ host: '127.0.0.1', port: 5060 });
    expect(splitHostPort('[::1]:5070')).toEqual({ host: '::1', port: 5070 });
    expect(() => splitHostPort('nonsense')).toThrow(/not an address:port/);
  });
});

describe('kamcmd answers', () => {
  /** A stand-in for kamcmd that prints `stdout` and exits with `code`. */
  const fakeKamcmd = (stdout: string, code: number): KamailioRpc => {
    const path = join(mkdtempSync(join(tmpdir(), 'ksr-kamcmd-')), 'kamcmd');
    writeFileSync(path, `#!/bin/sh\nprintf '%s' '${stdout}'\nexit ${code}\n`, { mode: 0o755 });
    return new KamailioRpc('unix:/run/test/kamailio_ctl', path);
  };

  it('takes an RPC fault (kamcmd exits 0 and prints it) as Kamailio refusing, not as unreachable', async () => {
    const rpc = fakeKamcmd('error: 500 - command app_jsdt.api_list not found\n', 0);
    await expect(rpc.apiList()).rejects.toThrow(new RpcFault('Kamailio refused app_jsdt.api_list: 500 - command app_jsdt.api_list not found'));
  });

  it('says Kamailio is not reachable when kamcmd cannot connect', async () => {
    const rpc = fakeKamcmd('ERROR: connect_unix_sock: connect(/run/test/kamailio_ctl): No such file or directory [2]', 255);
    await expect(rpc.version()).rejects.toThrow(KamailioUnreachable);
    await expect(rpc.version()).rejects.toThrow(/not reachable on unix:\/run\/test\/kamailio_ctl \(ERROR: connect_unix_sock/);
  });

  it('reads the reload counter, and refuses an answer without it', async () => {
    expect(await fakeKamcmd('{\n\told: 3\n\tnew: 4\n}\n', 0).reload()).toEqual({ old: 3, new: 4 });
    await expect(fakeKamcmd('{}\n', 0).reload()).rejects.toThrow(/app_jsdt\.reload answered "\{\}", not \{old, new\}/);
  });
});

describe('probe replies', () => {
  it('reads status, reason, build id and worker pid', () => {
    const reply = 'SIP/2.0 200 Keepalive\r\nVia: x\r\nx-routing-build:  0123456789ab\r\nX-Routing-Worker: 4242\r\nContent-Length: 0\r\n\r\n';
    expect(readProbeReply(reply)).toEqual({ status: 200, reason: 'Keepalive', buildId: '0123456789ab', pid: 4242 });
  });

  it('keeps a reply without the routing headers (an older bundle, a refusal) apart', () => {
    expect(readProbeReply('SIP/2.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n')).toEqual({ status: 403, reason: 'Forbidden' });
    expect(readProbeReply('OPTIONS sip:x SIP/2.0\r\n\r\n')).toBeUndefined();
  });
});

describe('installing', () => {
  it('keeps the previous bundle in previous/ next to KEMI_BUNDLE', () => {
    expect(slotsFor('/srv/routing/kamailio.js')).toEqual({
      current: { bundle: '/srv/routing/kamailio.js', map: '/srv/routing/kamailio.js.map', info: '/srv/routing/build-info.json' },
      previous: {
        bundle: '/srv/routing/previous/kamailio.js',
        map: '/srv/routing/previous/kamailio.js.map',
        info: '/srv/routing/previous/build-info.json',
      },
    });
  });

  it('rebases source map paths so a moved map still points at the TypeScript files', () => {
    const map = JSON.stringify({ version: 3, sources: ['../../work/p/src/main.ts'], mappings: '' });
    const moved = JSON.parse(rebaseMap(map, '/tmp/stage', '/work/p/dist/previous')) as { sources: string[] };
    expect(moved.sources).toEqual(['../../src/main.ts']);
    expect(rebaseMap(map, '/tmp/stage', '/tmp/stage')).toBe(map);
  });

  it('lets one reload install at a time, and takes over the lock of a process that is gone', async () => {
    const bundle = join(mkdtempSync(join(tmpdir(), 'ksr-lock-')), 'kamailio.js');
    const release = lockReload(bundle);
    const lock = join(bundle, '..', '.reload.lock');
    expect(existsSync(lock)).toBe(true);
    release();
    expect(existsSync(lock)).toBe(false);

    // A live holder: another process.
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(lock, `${holder.pid}\n`);
      expect(() => lockReload(bundle)).toThrow(ReloadBusy);
      expect(() => lockReload(bundle)).toThrow(new RegExp(`another reload or rollback \\(pid ${holder.pid}\\)`));
    } finally {
      holder.kill();
    }
    await new Promise((r) => holder.once('exit', r));
    // The holder is gone: its lock is stale.
    lockReload(bundle)();
  });
});

describe('the per-worker table', () => {
  const processes = parseProcessList(PSX);
  const confirmation = (builds: Record<number, string | undefined>): Confirmation => ({
    expected: 'bbbbbbbbbbbb',
    workers: processes
      .filter((p) => p.role.kind !== 'other')
      .map((process) => ({
        process,
        buildId: builds[process.pid],
        reason: 'Keepalive',
        confirmedAfterMs: builds[process.pid] === 'bbbbbbbbbbbb' ? 42 : undefined,
      })),
    others: processes.filter((p) => p.role.kind === 'other'),
    strays: [],
    elapsedMs: 50,
    ok: false,
  });

  it('marks each worker confirmed, on the old build, or silent, and lists the processes it cannot ask', () => {
    const lines = formatConfirmation(confirmation({ 101: 'bbbbbbbbbbbb', 105: 'aaaaaaaaaaaa' }), 'aaaaaaaaaaaa');
    expect(lines).toEqual([
      '  pid     worker                               build',
      '  101     udp receiver child=0 127.0.0.1:5060  bbbbbbbbbbbb  ✓ 42 ms',
      '  105     udp receiver child=1 [::1]:5070      aaaaaaaaaaaa  ✗ still the old build',
      '  118     tcp receiver child=3                 -             ✗ no answer',
      '  + 2 other processes (main process - attendant, slow timer): they receive no SIP; ' +
        'app_jsdt makes each re-read the bundle before its next routing callback',
    ]);
  });
});
