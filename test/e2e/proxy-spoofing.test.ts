/**
 * A PROXY protocol header spoofing a media server, on the namespace stack
 * (npm run stack): the cloud's 1:1 NAT maps every port of PUBLIC_IP to the
 * vm, so a client on the internet (c1) can open TCP to PUBLIC_IP:5070, the
 * private port, and start the connection with
 * `PROXY TCP4 10.0.0.21 10.0.0.10 5090 5070`: Kamailio 5.6 takes $si from
 * it (tcp_accept_haproxy=yes). The routing compares it with the connection's
 * real peer (tcpops $tcp(c_si)): 403, nothing relayed. A media server on its
 * own TCP connection to 5070, without a header, is still trusted.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ofCall } from '../../stack/capture.ts';
import { ADDR, NS, PORT, SIP_DOMAIN } from '../../stack/topology.ts';
import { parseSipMessage, type SipMessage } from '../support/sip-client.ts';
import { CLIENTS, mediaServerTraces, useStack } from './support.ts';

const execFileAsync = promisify(execFile);
const ctx = useStack('proxy-spoofing');
const client = CLIENTS.c1;

/**
 * Run inside a namespace: opens TCP to host:port from `local`, writes the
 * preamble and the request, prints the first final reply (or "timeout").
 */
const TCP_EXCHANGE = `
const net = require('node:net');
const [host, port, local, preamble, request] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port), localAddress: local }, () => socket.write(preamble + request));
let data = '';
socket.on('data', (chunk) => {
  data += chunk.toString('utf8');
  for (const m of data.split('\\r\\n\\r\\n')) {
    const status = /^SIP\\/2\\.0 (\\d{3})/.exec(m.replace(/^(\\r\\n)+/, ''));
    if (status && Number(status[1]) >= 200) {
      process.stdout.write(m.replace(/^(\\r\\n)+/, '') + '\\r\\n\\r\\n');
      process.exit(0);
    }
  }
});
socket.on('error', (e) => { process.stdout.write('error ' + e.message); process.exit(0); });
setTimeout(() => { process.stdout.write('timeout'); process.exit(0); }, 4000);
`;

/** A media server's call for alice (not registered in this file's stack): a trusted one gets 480 from LOCATION. */
function inviteForAlice(via: string, callId: string): string {
  return [
    `INVITE sip:${client.user}@${SIP_DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/TCP ${via};branch=z9hG4bK-${randomBytes(6).toString('hex')};rport`,
    'Max-Forwards: 70',
    `From: <sip:9196@${SIP_DOMAIN}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${client.user}@${SIP_DOMAIN}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:9196@${via};transport=tcp>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function exchange(ns: string, local: string, host: string, preamble: string, request: string): Promise<SipMessage> {
  const { stdout } = await execFileAsync('ip', ['netns', 'exec', ns, process.execPath, '-e', TCP_EXCHANGE, host, String(PORT.PRIVATE), local, preamble, request], { timeout: 10_000 });
  if (!stdout.startsWith('SIP/2.0')) throw new Error(`no final reply from ${host}:${PORT.PRIVATE}: ${stdout}`);
  return parseSipMessage(stdout);
}

describe('PROXY protocol spoofing on the namespace stack', { timeout: 30_000 }, () => {
  it("from the internet to PUBLIC_IP:5070 over TCP, a PROXY header claiming media server ms1: 403, nothing relayed", async () => {
    const callId = `spoof-${randomBytes(6).toString('hex')}@${client.ip}`;
    const preamble = `PROXY TCP4 ${ADDR.ms1} ${ADDR.LOCAL_IP} ${PORT.UAS} ${PORT.PRIVATE}\r\n`;
    const reply = await exchange(client.ns, client.ip, ADDR.PUBLIC_IP, preamble, inviteForAlice(`${ADDR.ms1}:${PORT.UAS}`, callId));
    expect(reply.startLine).toBe('SIP/2.0 403 Forbidden');

    // On the vm's wire: the stream came from c1 (the NAT keeps its address), began with the header,
    // and the 403 back to it is all that left the vm for this call.
    const atVm = ofCall(ctx.wire('vm'), callId);
    expect(atVm.map((m) => `${m.transport} ${m.src} > ${m.dst}:${m.dport} ${m.message.status ?? m.message.method}`)).toEqual([
      `tcp ${client.ip} > ${ADDR.LOCAL_IP}:${PORT.PRIVATE} INVITE`,
      `tcp ${ADDR.LOCAL_IP} > ${client.ip}:${atVm[0]!.sport} 403`,
    ]);
    expect(atVm[0]!.proxyLine).toBe(preamble.trim());
    expect(mediaServerTraces(ctx.stack, callId)).toEqual([]);
    expect([...ofCall(ctx.wire('ms1'), callId), ...ofCall(ctx.wire('ms2'), callId)]).toEqual([]);
  });

  it('media server ms1 on its own TCP connection to 10.0.0.10:5070 (no header) is still trusted: its call reaches LOCATION', async () => {
    const callId = `direct-${randomBytes(6).toString('hex')}@${ADDR.ms1}`;
    const reply = await exchange(NS.ms1, ADDR.ms1, ADDR.LOCAL_IP, '', inviteForAlice(`${ADDR.ms1}:${PORT.UAS}`, callId));
    // alice is a subscriber with no binding in this file's stack.
    expect(reply.startLine).toBe('SIP/2.0 480 Temporarily Unavailable');
  });
});
