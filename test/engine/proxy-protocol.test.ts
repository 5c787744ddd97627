/**
 * PROXY protocol headers (tcp_accept_haproxy=yes) on a real Kamailio 5.6.3
 * started from the project's kamailio.cfg, loopback only:
 *
 * 1. What tcpops' $tcp(c_si)/$tcp(c_sp) return, measured with a probe bundle
 *    that answers every request with the PVs it read: the mock
 *    (mocks/pv/read.ts, transport options proxiedBy/outboundConnection)
 *    follows these results.
 * 2. The routing (dist/kamailio.js): a PROXY header on the private TCP port
 *    claiming a media server's address gets 403 and nothing is relayed,
 *    while the media server itself is still trusted there; with PROXY_SOURCES
 *    set, a PROXY header on the public TCP port from any other peer gets 403,
 *    and a request on a connection Kamailio opened (no peer recorded) passes
 *    the check without tcpops' CRITICAL log line.
 */
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { projectBundle, writeBundle } from '../support/bundle.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { allocatePorts, releasePorts } from '../support/ports.ts';
import { SipClient, StreamFramer, newBranch, newTag, parseSipMessage, sendRequest, type SipClientOptions, type SipMessage } from '../support/sip-client.ts';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** Answers every request with the values it read: X-PV: <name>=<type>:<value>. */
const PROBE_BUNDLE = `
function show(v) { return (v === null ? 'null' : typeof v) + ':' + String(v); }
function ksr_request_route() {
  var relay = KSR.hdr.get('X-Relay-To');
  if (relay !== null) {
    // Makes Kamailio open a TCP connection to the test's listener.
    KSR.pv.sets('$du', String(relay));
    KSR.corex.set_send_socket_name('private_tcp_socket');
    KSR.tm.t_relay();
    KSR.x.exit();
  }
  var names = ['$tcp(c_si)', '$tcp(c_sp)', '$si', '$sp', '$Rn'];
  for (var i = 0; i < names.length; i++) {
    KSR.hdr.append_to_reply('X-PV: ' + names[i] + '=' + show(KSR.pv.get(names[i])) + '\\r\\n');
  }
  KSR.sl.sl_send_reply(200, 'Probe');
}
function ksr_xhttp_event(e) {}
function ksr_websocket_event(e) {}
`;

/** The X-PV values of a probe reply, by PV name. */
function pvs(reply: SipMessage): Record<string, string> {
  return Object.fromEntries(reply.headerValues('X-PV').map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]));
}

function request(method: string, uri: string, via: string, extra: readonly string[] = []): string {
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/${via};branch=${newBranch()};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.3>;tag=${newTag()}`,
    `To: <${uri}>`,
    `Call-ID: ${newTag()}@127.0.0.3`,
    `CSeq: 1 ${method}`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function replyTo(req: SipMessage, code: number, reason: string): string {
  const to = req.header('to') ?? '';
  return [
    `SIP/2.0 ${code} ${reason}`,
    ...req.headerValues('via').map((v) => `Via: ${v}`),
    `From: ${req.header('from')}`,
    `To: ${/;tag=/.test(to) ? to : `${to};tag=${newTag()}`}`,
    `Call-ID: ${req.header('call-id')}`,
    `CSeq: ${req.header('cseq')}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Sends raw bytes on a new TCP (or TLS) connection and resolves with the first SIP message back. */
function exchange(opts: { port: number; localAddress: string; preamble?: string | Buffer; tls?: boolean; message: (localPort: number) => string }): Promise<SipMessage> {
  return new Promise((resolve, reject) => {
    const raw = connect({ host: '127.0.0.1', port: opts.port, localAddress: opts.localAddress }, () => {
      if (opts.preamble !== undefined) raw.write(opts.preamble);
      const stream: Socket = opts.tls ? tlsConnect({ socket: raw, rejectUnauthorized: false }) : raw;
      const framer = new StreamFramer();
      stream.on('data', (chunk: Buffer) => {
        const [first] = framer.push(chunk);
        if (first !== undefined) {
          stream.destroy();
          resolve(parseSipMessage(first));
        }
      });
      stream.once('error', reject);
      const send = (): void => void stream.write(opts.message(raw.localPort!));
      if (opts.tls) stream.once('secureConnect', send);
      else send();
    });
    raw.once('error', reject);
    raw.setTimeout(3000, () => {
      raw.destroy();
      reject(new Error('no reply within 3 s'));
    });
  });
}

describe('tcpops $tcp(c_si)/$tcp(c_sp) on Kamailio 5.6.3 with tcp_accept_haproxy=yes', () => {
  let kam: KamailioInstance;
  let failed = false;
  beforeAll(async () => {
    kam = await startKamailio({ name: 'tcpops-probe', bundle: writeBundle(PROBE_BUNDLE) });
  });
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    await kam?.stop({ failed });
  });
  const options = (transport: 'udp' | 'tcp', port: number, tcpPreamble?: string): SipClientOptions => ({
    transport,
    remoteAddress: '127.0.0.1',
    remotePort: port,
    localAddress: '127.0.0.3',
    ...(tcpPreamble !== undefined ? { tcpPreamble } : {}),
  });
  const probe = async (transport: 'udp' | 'tcp', port: number, tcpPreamble?: string): Promise<Record<string, string>> => {
    const uri = `sip:127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    return pvs(await sendRequest(options(transport, port, tcpPreamble), { method: 'OPTIONS', uri }));
  };

  it('UDP: null (tcpconn_get finds no connection for conid 0), without a log line', async () => {
    const got = await probe('udp', kam.ports.private);
    expect(got).toMatchObject({ '$tcp(c_si)': 'null:null', '$tcp(c_sp)': 'null:null', '$si': 'string:127.0.0.3' });
  });

  it('TCP without a PROXY header: the connection peer, equal to $si/$sp ($tcp(c_sp) a number)', async () => {
    const got = await probe('tcp', kam.ports.private);
    expect(got['$tcp(c_si)']).toBe('string:127.0.0.3');
    expect(got['$tcp(c_sp)']).toMatch(/^number:\d+$/);
    expect(got['$tcp(c_sp)']).toBe(got['$sp']);
    expect(got['$si']).toBe('string:127.0.0.3');
  });

  it('TCP with a PROXY v1 header: the real peer, while $si/$sp are what the header claimed', async () => {
    const got = await probe('tcp', kam.ports.private, `PROXY TCP4 10.0.0.21 10.0.0.10 5090 ${kam.ports.private}\r\n`);
    expect(got).toMatchObject({ '$tcp(c_si)': 'string:127.0.0.3', '$si': 'string:10.0.0.21', '$sp': 'number:5090', '$Rn': 'string:private_tcp_socket' });
    expect(got['$tcp(c_sp)']).not.toBe('number:5090');
    // A header claiming the sender's own address differs in the port only.
    const own = await probe('tcp', kam.ports.private, `PROXY TCP4 127.0.0.3 127.0.0.1 40000 ${kam.ports.private}\r\n`);
    expect(own).toMatchObject({ '$tcp(c_si)': 'string:127.0.0.3', '$si': 'string:127.0.0.3', '$sp': 'number:40000' });
    expect(own['$tcp(c_sp)']).not.toBe('number:40000');
    // PROXY UNKNOWN keeps the connection's own addresses.
    const unknown = await probe('tcp', kam.ports.private, 'PROXY UNKNOWN\r\n');
    expect(unknown['$tcp(c_si)']).toBe(unknown['$si']);
    expect(unknown['$tcp(c_sp)']).toBe(unknown['$sp']);
  });

  it('TCP with a PROXY v2 header: the real peer too (and 5.6.3 byte-swaps the claimed port)', async () => {
    const v2 = Buffer.alloc(28);
    Buffer.from('0d0a0d0a000d0a515549540a', 'hex').copy(v2, 0);
    v2[12] = 0x21; // version 2, PROXY
    v2[13] = 0x11; // TCP over IPv4
    v2.writeUInt16BE(12, 14);
    Buffer.from([10, 0, 0, 21, 10, 0, 0, 10]).copy(v2, 16);
    v2.writeUInt16BE(5090, 24);
    v2.writeUInt16BE(kam.ports.private, 26);
    const reply = await exchange({ port: kam.ports.private, localAddress: '127.0.0.3', preamble: v2, message: (p) => request('OPTIONS', `sip:127.0.0.1:${kam.ports.private};transport=tcp`, `TCP 127.0.0.3:${p}`) });
    expect(pvs(reply)).toMatchObject({ '$tcp(c_si)': 'string:127.0.0.3', '$si': 'string:10.0.0.21', '$sp': `number:${((5090 & 0xff) << 8) | (5090 >> 8)}` });
  });

  it('TLS with a PROXY v1 header before the handshake: the real peer as well', async () => {
    const reply = await exchange({
      port: kam.ports.webrtc,
      localAddress: '127.0.0.3',
      preamble: `PROXY TCP4 203.0.113.8 127.0.0.2 42000 ${kam.ports.webrtc}\r\n`,
      tls: true,
      message: (p) => request('OPTIONS', `sip:127.0.0.1:${kam.ports.webrtc};transport=tls`, `TLS 127.0.0.3:${p}`),
    });
    expect(pvs(reply)).toMatchObject({ '$tcp(c_si)': 'string:127.0.0.3', '$si': 'string:203.0.113.8', '$sp': 'number:42000', '$Rn': 'string:public_webrtc_socket' });
  });

  it('a connection Kamailio opened: $tcp(c_sp) 0, $tcp(c_si) "" and a CRITICAL line per read (no peer was recorded); $Rn the first TCP socket', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.5', () => r()));
    const port = (server.address() as { port: number }).port;
    const answered = new Promise<SipMessage>((resolve) => {
      server.on('connection', (socket: Socket) => {
        const framer = new StreamFramer();
        socket.on('data', (chunk: Buffer) => {
          for (const raw of framer.push(chunk)) {
            const m = parseSipMessage(raw);
            if (m.method !== undefined) {
              // Kamailio's relayed request: send one back on its connection.
              socket.write(replyTo(m, 200, 'OK'));
              socket.write(request('OPTIONS', `sip:127.0.0.1:${kam.ports.private};transport=tcp`, `TCP 127.0.0.5:${port}`));
            } else if (m.startLine.endsWith('Probe')) resolve(m);
          }
        });
      });
    });
    const trigger = await SipClient.open(options('udp', kam.ports.private));
    try {
      trigger.send(trigger.buildRequest({ method: 'OPTIONS', uri: `sip:127.0.0.1:${kam.ports.private}`, headers: [`X-Relay-To: sip:127.0.0.5:${port};transport=tcp`] }).raw);
      const got = pvs(await answered);
      // Sent from private_tcp_socket, yet bound to find_si(LOCAL_IP, 0): the first TCP socket of the address.
      expect(got).toMatchObject({ '$tcp(c_si)': 'string:', '$tcp(c_sp)': 'number:0', '$si': 'string:127.0.0.5', '$Rn': 'string:public_tcp_socket' });
      expect(kam.daemon.log()).toMatch(/CRITICAL: .*ip_addr2sbuf\(\): unknown address family 0/);
    } finally {
      trigger.close();
      server.close();
    }
  });
});

/** A TCP media server: answers OPTIONS probes 200 and INVITEs 486, records what it receives, can send on its connections. */
class TcpMediaServer {
  readonly received: SipMessage[] = [];
  readonly connections: Socket[] = [];
  private constructor(private readonly server: Server, readonly ip: string, readonly port: number) {
    server.on('connection', (socket: Socket) => {
      this.connections.push(socket);
      const framer = new StreamFramer();
      socket.on('data', (chunk: Buffer) => {
        for (const raw of framer.push(chunk)) {
          const m = parseSipMessage(raw);
          this.received.push(m);
          if (m.method === 'OPTIONS') socket.write(replyTo(m, 200, 'OK'));
          if (m.method === 'INVITE') socket.write(replyTo(m, 486, 'Busy Here'));
        }
      });
    });
  }
  static async listen(ip: string, port: number): Promise<TcpMediaServer> {
    const server = createServer();
    await new Promise<void>((r, j) => server.once('error', j).listen(port, ip, () => r()));
    return new TcpMediaServer(server, ip, port);
  }
  close(): void {
    this.connections.forEach((c) => c.destroy());
    this.server.close();
  }
}

describe('the routing refuses sources claimed by a PROXY header where it trusts addresses', () => {
  const MEDIA_SERVER = '127.0.0.4';
  const BALANCER = '127.0.0.6';
  let kam: KamailioInstance;
  let mediaServer: TcpMediaServer;
  let alice: SipClient;
  let msPort: number;
  let failed = false;

  /** The request with digest credentials after the challenge (401/407) to the same request. */
  async function withCredentials(c: SipClient, spec: Parameters<SipClient['request']>[0]): Promise<SipMessage> {
    const challenge = (await c.request({ ...spec, cseq: 1 })).pop()!;
    const proxy = challenge.status === 407;
    expect([401, 407]).toContain(challenge.status);
    const nonce = /nonce="([^"]+)"/.exec(challenge.header(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate') ?? '')?.[1] ?? '';
    const response = md5(`${md5('alice:example.test:secret')}:${nonce}:${md5(`${spec.method}:${spec.uri}`)}`);
    const credentials =
      `${proxy ? 'Proxy-Authorization' : 'Authorization'}: Digest username="alice", realm="example.test", nonce="${nonce}", ` +
      `uri="${spec.uri}", response="${response}", algorithm=MD5`;
    return (await c.request({ ...spec, cseq: 2, headers: [...(spec.headers ?? []), credentials] })).pop()!;
  }

  /** An INVITE from the media server for alice, over `socket` (a TCP connection to the private port). */
  function inviteForAlice(localPort: number, callId: string): string {
    return [
      'INVITE sip:alice@example.test SIP/2.0',
      `Via: SIP/2.0/TCP ${MEDIA_SERVER}:${localPort};branch=${newBranch()};rport`,
      'Max-Forwards: 70',
      `From: <sip:9196@example.test>;tag=${newTag()}`,
      'To: <sip:alice@example.test>',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:9196@${MEDIA_SERVER}:${localPort};transport=tcp>`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  /** Alice's next INVITE of this call, answered 486; null when none comes within `ms`. */
  async function aliceGets(callId: string, ms = 1500): Promise<SipMessage | null> {
    try {
      const invite = await alice.waitFor((m) => m.method === 'INVITE' && m.header('call-id') === callId, ms);
      alice.send(replyTo(invite, 486, 'Busy Here'));
      return invite;
    } catch {
      return null;
    }
  }

  beforeAll(async () => {
    [msPort] = (await allocatePorts(1, MEDIA_SERVER)) as [number];
    mediaServer = await TcpMediaServer.listen(MEDIA_SERVER, msPort);
    kam = await startKamailio({
      name: 'proxy-protocol-routing',
      bundle: projectBundle().path,
      env: { SIP_DOMAIN: 'example.test', PROXY_SOURCES: `${BALANCER}, 127.0.0.7` },
      dispatcherList: `1 sip:${MEDIA_SERVER}:${msPort};transport=tcp 0 0\n`,
      subscribers: [{ user: 'alice', password: 'secret' }],
    });
    alice = await SipClient.open({ transport: 'udp', remoteAddress: '127.0.0.1', remotePort: kam.ports.sip, localAddress: '127.0.0.3' });
    const registered = await withCredentials(alice, {
      method: 'REGISTER',
      uri: 'sip:example.test',
      from: `<sip:alice@example.test>;tag=${newTag()}`,
      to: '<sip:alice@example.test>',
      headers: [`Contact: <sip:alice@127.0.0.3:${alice.localPort}>`, 'Expires: 300'],
    });
    expect(registered.status).toBe(200);
  });
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    alice?.close();
    mediaServer?.close();
    await kam?.stop({ failed });
    if (msPort !== undefined) releasePorts([msPort]);
  });

  it("a PROXY header on the private TCP port claiming the media server's address: 403, nothing relayed", async () => {
    const callId = `spoof-${newTag()}`;
    const reply = await exchange({
      port: kam.ports.private,
      localAddress: '127.0.0.3',
      preamble: `PROXY TCP4 ${MEDIA_SERVER} 127.0.0.1 5090 ${kam.ports.private}\r\n`,
      message: () => inviteForAlice(5090, callId),
    });
    expect(reply.startLine).toBe('SIP/2.0 403 Forbidden');
    expect(await aliceGets(callId, 1000)).toBeNull();
  });

  it('the media server itself on the private TCP port (its own connection, no PROXY header): trusted, the call reaches alice', async () => {
    const callId = `direct-${newTag()}`;
    const reply = exchange({ port: kam.ports.private, localAddress: MEDIA_SERVER, message: (p) => inviteForAlice(p, callId) });
    expect((await aliceGets(callId))?.header('from')).toMatch(/^<sip:9196@example\.test>/);
    expect((await reply).status).toBe(100);
  });

  it('a request on the connection Kamailio opened to the media server (public_tcp_socket in 5.6.3): past the PROXY check, and tcpops logs nothing', async () => {
    const invite = await withCredentials(alice, {
      method: 'INVITE',
      uri: 'sip:9196@example.test',
      from: `<sip:alice@example.test>;tag=${newTag()}`,
      headers: [`Contact: <sip:alice@127.0.0.3:${alice.localPort}>`],
    });
    expect(invite.status).toBe(486); // the media server's answer, relayed
    const outbound = mediaServer.connections.find((c) => !c.destroyed);
    expect(outbound, 'Kamailio connected to the media server').toBeDefined();
    const callId = `outbound-${newTag()}`;
    const answer = new Promise<SipMessage>((resolve) => {
      const framer = new StreamFramer();
      outbound!.on('data', (chunk: Buffer) => {
        for (const raw of framer.push(chunk)) {
          const m = parseSipMessage(raw);
          if (m.header('call-id') === callId && m.status !== undefined && m.status >= 200) resolve(m);
        }
      });
    });
    outbound!.write(inviteForAlice(msPort, callId));
    // Kamailio 5.6.3 shows it on public_tcp_socket (the connection's first-socket binding, see above),
    // where a media server's address proves nothing: a client's INVITE, challenged, not refused as forged.
    expect((await answer).status).toBe(407);
    expect(kam.daemon.log()).not.toMatch(/unknown address family/);
  });

  it('PROXY_SOURCES set: a PROXY header on the public TCP port from another peer gets 403, from a listed balancer it is honoured', async () => {
    const keepalive = (from: string, preamble?: string): Promise<SipMessage> =>
      exchange({
        port: kam.ports.sip,
        localAddress: from,
        ...(preamble !== undefined ? { preamble } : {}),
        message: (p) => request('OPTIONS', `sip:127.0.0.2:${kam.ports.sip};transport=tcp`, `TCP ${from}:${p}`),
      });
    const claim = `PROXY TCP4 203.0.113.7 127.0.0.2 41000 ${kam.ports.sip}\r\n`;
    expect((await keepalive('127.0.0.3', claim)).startLine).toBe('SIP/2.0 403 Forbidden');
    const viaBalancer = await keepalive(BALANCER, claim);
    expect(viaBalancer.status).toBe(200);
    expect(viaBalancer.header('via')).toMatch(/;rport=41000;received=203\.0\.113\.7/);
    // A client connecting directly, without a header, is served as before.
    expect((await keepalive('127.0.0.3')).status).toBe(200);
  });
});
