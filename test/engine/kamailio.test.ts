/**
 * The real Kamailio 5.6.3, started from the project's kamailio.cfg as
 * CONTRACT.md says, with the built bundle (dist/kamailio.js): sockets,
 * runtime files, TLS, PROXY protocol, and replies produced by the TypeScript
 * routing. Loopback only, ports 25000-25999.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, PROJECT_DIR } from '../../scripts/lib/env.ts';
import { projectBundle, type ProjectBundle } from '../support/bundle.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { startRtpengine, type RtpengineInstance } from '../support/rtpengine.ts';
import { SipClient, sendRequest, type SipClientOptions } from '../support/sip-client.ts';

const CFG = join(PROJECT_DIR, 'kamailio.cfg');

/** `corex.list_sockets` as sorted "proto:addr:port name [advertise]" lines. */
async function sockets(kam: KamailioInstance): Promise<string[]> {
  const out = await kam.rpc('corex.list_sockets');
  return out
    .split(/\n\}\s*(?=\{|$)/)
    .map((block) => {
      const field = (name: string): string => new RegExp(`\\b${name}: ([^\\n]*)`).exec(block)?.[1]?.trim() ?? '';
      const advertise = field('ADVERTISE');
      return [`${field('PROTO')}:${field('ADDR')}:${field('PORT')}`, field('SOCKNAME'), advertise === '-' ? '' : advertise]
        .join(' ')
        .trim();
    })
    .filter((line) => /^(udp|tcp|tls):/.test(line))
    .sort();
}

function tlsHandshake(port: number): Promise<{ subject: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'example.test' }, () => {
      const subject = socket.getPeerCertificate().subject?.CN ?? '';
      socket.destroy();
      resolve({ subject: String(subject) });
    });
    socket.once('error', reject);
  });
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('Kamailio with kamailio.cfg and dist/kamailio.js', () => {
  let bundle: ProjectBundle;
  let rtp: RtpengineInstance;
  let kam: KamailioInstance;
  let failed = false;
  const client = (transport: 'udp' | 'tcp', extra: Partial<SipClientOptions> = {}): SipClientOptions => ({
    transport,
    remoteAddress: kam.localIp,
    remotePort: kam.ports.sip,
    localAddress: '127.0.0.3',
    ...extra,
  });

  beforeAll(async () => {
    bundle = projectBundle();
    rtp = await startRtpengine({ name: 'engine-rtpengine' });
    kam = await startKamailio({
      name: 'engine-kamailio',
      bundle: bundle.path,
      env: { SIP_DOMAIN: 'example.test' },
      rtpengineNg: rtp.ng,
      subscribers: [{ user: 'alice', password: 'secret' }],
    });
  });
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    await kam?.stop({ failed });
    await rtp?.stop({ failed });
  });

  it('answers an OPTIONS keepalive over UDP with the reply of the TypeScript routing', async () => {
    const reply = await sendRequest(client('udp'), { method: 'OPTIONS', uri: `sip:${kam.publicIp}:${kam.ports.sip}` });
    expect(reply.status).toBe(200);
    // Only the routing adds this header, carrying the id stamped into this bundle.
    expect(reply.header('X-Routing-Build')).toBe(bundle.buildId);
  });

  it('answers an OPTIONS to the SIP domain over TCP the same way', async () => {
    const reply = await sendRequest(client('tcp'), { method: 'OPTIONS', uri: `sip:example.test:${kam.ports.sip};transport=tcp` });
    expect(reply.status).toBe(200);
    expect(reply.header('X-Routing-Build')).toBe(bundle.buildId);
  });

  it('takes the client address from a PROXY v1 header on the public TCP port', async () => {
    // What HAProxy's send-proxy writes first: the real client is 127.0.0.9:40123.
    const preamble = `PROXY TCP4 127.0.0.9 ${kam.publicIp} 40123 ${kam.ports.sip}\r\n`;
    const reply = await sendRequest(client('tcp', { tcpPreamble: preamble }), {
      method: 'OPTIONS',
      uri: `sip:${kam.publicIp}:${kam.ports.sip};transport=tcp`,
    });
    expect(reply.status).toBe(200);
    expect(reply.header('via')).toMatch(/;rport=40123;received=127\.0\.0\.9/);
  });

  it('listens on the sockets of CONTRACT.md: one name per protocol, PUBLIC_IP advertised on the public side', async () => {
    const { sip, private: priv, webrtc } = kam.ports;
    expect(await sockets(kam)).toEqual(
      [
        `udp:127.0.0.1:${sip} public_socket 127.0.0.2`,
        `tcp:127.0.0.1:${sip} public_tcp_socket 127.0.0.2`,
        `udp:127.0.0.1:${priv} private_socket`,
        `tcp:127.0.0.1:${priv} private_tcp_socket`,
        `tls:127.0.0.1:${webrtc} public_webrtc_socket 127.0.0.2`,
      ].sort(),
    );
  });

  it('keeps its control sockets and pid file in RUN_DIR', () => {
    for (const file of ['kamailio_ctl', 'kamailio_rpc.fifo', 'kamailio_rpc.sock', 'kamailio.pid']) {
      expect(existsSync(join(kam.runDir, file)), file).toBe(true);
    }
    expect(readFileSync(join(kam.runDir, 'kamailio.pid'), 'utf8').trim()).toBe(String(kam.daemon.pid));
  });

  it('serves TLS on WEBRTC_PORT with the configured certificate', async () => {
    expect(await tlsHandshake(kam.ports.webrtc)).toEqual({ subject: 'example.test' });
  });

  it('hands a WebSocket upgrade on WEBRTC_PORT to ksr_xhttp_event, which completes the handshake', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: kam.ports.webrtc, rejectUnauthorized: false }, () => {
        socket.write(
          `GET / HTTP/1.1\r\nHost: example.test:${kam.ports.webrtc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n' +
            'Origin: https://example.test\r\n\r\n',
        );
      });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString('latin1'));
      });
      socket.once('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 101 /);
    expect(reply).toMatch(/\r\nSec-WebSocket-Protocol: sip\r\n/);
    // RFC 6455's example key and its accept value.
    expect(reply).toMatch(/\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
  });

  it('reaches rtpengine on RTPENGINE_NG', async () => {
    const show = await kam.rpc('rtpengine.show', 'all');
    expect(show).toContain(`url: ${rtp.ng}`);
    expect(show).toMatch(/disabled: 0/);
  });

  it('checks REGISTER digests against the ha1/ha1b columns written by the subscriber CLI', async () => {
    const c = await SipClient.open(client('udp'));
    try {
      const register = async (digestUser: string, password: string): Promise<number> => {
        const uri = 'sip:example.test';
        const base = {
          method: 'REGISTER',
          uri,
          from: `<sip:alice@example.test>;tag=${digestUser.length}`,
          to: '<sip:alice@example.test>',
          callId: `reg-${digestUser}-${password}@127.0.0.3`,
          headers: [`Contact: <sip:alice@127.0.0.3:${c.localPort}>`, 'Expires: 60'],
        };
        const challenge = (await c.request({ ...base, cseq: 1 })).pop()!;
        expect(challenge.status).toBe(401);
        const auth = challenge.header('WWW-Authenticate') ?? '';
        expect(auth).toMatch(/realm="example\.test"/);
        const nonce = /nonce="([^"]+)"/.exec(auth)?.[1] ?? '';
        // ha1 of "alice" is md5(alice:realm:pw); a phone sending "alice@example.test"
        // is checked against ha1b = md5(alice@example.test:realm:pw).
        const response = md5(`${md5(`${digestUser}:example.test:${password}`)}:${nonce}:${md5(`REGISTER:${uri}`)}`);
        const authorization =
          `Authorization: Digest username="${digestUser}", realm="example.test", nonce="${nonce}", ` +
          `uri="${uri}", response="${response}", algorithm=MD5`;
        return (await c.request({ ...base, cseq: 2, headers: [...base.headers, authorization] })).pop()!.status!;
      };
      expect(await register('alice', 'secret')).toBe(200);
      expect(await register('alice@example.test', 'secret')).toBe(200);
      expect(await register('alice', 'wrong')).not.toBe(200);
    } finally {
      c.close();
    }
  });
});

describe('Kamailio without TLS_CERT', () => {
  it('starts without the WebRTC socket instead of failing on a missing certificate', async () => {
    const kam = await startKamailio({ name: 'engine-kamailio-no-tls', bundle: projectBundle().path, tls: false });
    let ok = false;
    try {
      const list = await sockets(kam);
      expect(list.map((s) => s.split(' ')[1]).sort()).toEqual(['private_socket', 'private_tcp_socket', 'public_socket', 'public_tcp_socket']);
      await expect(tlsHandshake(kam.ports.webrtc)).rejects.toThrow(/ECONNREFUSED/);
      ok = true;
    } finally {
      await kam.stop({ failed: !ok });
    }
  });
});

describe('kamailio.cfg defaults (CONTRACT.md start with no variables set)', () => {
  const cfg = readFileSync(CFG, 'utf8');
  const fallback = (name: string): string | undefined =>
    new RegExp(`#!ifndef ${name}\\n#!define ${name} (.*)\\n#!endif`).exec(cfg)?.[1];

  it('are the same loopback defaults as scripts/lib/env.ts', () => {
    for (const [name, value] of Object.entries(DEFAULTS)) {
      if (name.startsWith('RTP_PORT')) continue; // rtpengine only
      const expected = name === 'RTPENGINE_NG' ? `"${value}"` : String(value);
      expect(fallback(name), name).toBe(expected);
    }
    expect(fallback('RUN_DIR')).toBe('KSR_START_DIR "/run"');
    expect(fallback('DISPATCHER_LIST')).toBe('KSR_START_DIR "/config/dispatcher.list"');
    expect(fallback('KEMI_BUNDLE')).toBe('KSR_START_DIR "/dist/kamailio.js"');
  });

  it('give the article sockets on loopback, paths under the start directory', () => {
    // -c parses and resolves the cfg without binding or loading the bundle.
    // (The verdict goes to stderr, the socket list to stdout.)
    const out = execFileSync('sh', ['-c', `kamailio -f '${CFG}' -c 2>&1`], {
      cwd: PROJECT_DIR,
      env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin', PWD: PROJECT_DIR },
      encoding: 'utf8',
    });
    expect(out).toContain('config file ok');
    expect(out).toMatch(/udp: 127\.0\.0\.1 \[127\.0\.0\.1\]:5060 name public_socket advertise 127\.0\.0\.2:5060/);
    expect(out).toMatch(/tcp: 127\.0\.0\.1 \[127\.0\.0\.1\]:5070 name private_tcp_socket/);
    // Without TLS_CERT there is no TLS socket (see the test above).
    expect(out).not.toMatch(/tls: /);
  });
});
