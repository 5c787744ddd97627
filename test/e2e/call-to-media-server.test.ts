/**
 * Scenario 2 of issue #4, on the namespace stack (npm run stack): a client
 * calls a number on the media servers (dispatcher set 1, two SIPp UAS) over
 * UDP through the 1:1 NAT and over TCP through HAProxy, and the call is hung
 * up by the caller or by the media server. Asserted on the messages
 * exchanged: SIPp's traces at both ends and the captures of the client's
 * wire and of the vm's wire (after the NAT):
 *   - the INVITE reaches the media server from Kamailio's private port, with
 *     Via/Record-Route LOCAL_IP:PRIVATE_PORT, and SDP c=LOCAL_IP on an
 *     rtpengine port, without the client's ICE attributes;
 *   - the client sees Record-Route (and Via, on the media server's BYE) with
 *     PUBLIC_IP:SIP_PORT and SDP c=PUBLIC_IP, and only ever talks to the
 *     address it called;
 *   - ACK and BYE go the same ways, through the same sockets.
 */
import { describe, expect, it } from 'vitest';
import { describe as wireLine, ofCall, type WireMessage } from '../../stack/capture.ts';
import { uasMessageLog } from '../../stack/services.ts';
import { readMessageLog, type SippResult } from '../../stack/sipp.ts';
import { ADDR, MEDIA_SERVERS, PORT } from '../../stack/topology.ts';
import { CLIENTS, ENTRIES, hostPort, routeSet, sdp, topVia, traced, useStack, type Client, type Entry } from './support.ts';

const ctx = useStack('call-to-media-server');

type Hangup = 'caller' | 'callee';

const cases = (
  [
    [ENTRIES.udpNat, CLIENTS.c1, 'caller'],
    [ENTRIES.udpNat, CLIENTS.c2, 'caller'],
    [ENTRIES.udpNat, CLIENTS.c1, 'callee'],
    [ENTRIES.tcpLb, CLIENTS.c1, 'caller'],
    [ENTRIES.tcpLb, CLIENTS.c2, 'callee'],
    [ENTRIES.tcpNat, CLIENTS.c2, 'caller'],
  ] as Array<[Entry, Client, Hangup]>
).map(([entry, client, hangup]) => [`${entry.name}, from ${client.label}, the ${hangup} hangs up`, entry, client, hangup] as const);

const inRtpRange = (port: number): boolean => port >= PORT.RTP_MIN && port <= PORT.RTP_MAX;
const PUBLIC = `${ADDR.PUBLIC_IP}:${PORT.SIP}`;
const PRIVATE = `${ADDR.LOCAL_IP}:${PORT.PRIVATE}`;

/** The media server that got the call, and what it sent and received. */
function mediaServerSide(callId: string): { address: string; messages: ReturnType<typeof readMessageLog> } {
  const found = MEDIA_SERVERS.map((ms) => ({
    address: ms.address,
    messages: readMessageLog(uasMessageLog(ctx.stack.paths, ms.host)).filter((t) => t.message.header('call-id') === callId),
  })).filter((ms) => ms.messages.length > 0);
  expect(found.map((ms) => ms.address), 'exactly one media server got the call').toHaveLength(1);
  return found[0]!;
}

function flowOf(result: SippResult, callId: string): string[] {
  return result.messages
    .filter((t) => t.message.header('call-id') === callId && !(t.message.status !== undefined && t.message.status < 200))
    .map((t) => `${t.direction === 'sent' ? '>' : '<'} ${t.message.method ?? t.message.status}`);
}

const find = (wire: readonly WireMessage[], what: string, match: (m: WireMessage) => boolean): WireMessage => {
  const m = wire.find(match);
  if (!m) throw new Error(`no ${what} on the wire:\n${wire.map(wireLine).join('\n')}`);
  return m;
};
const isRequest = (method: string, cseq?: number) => (m: WireMessage): boolean =>
  m.message.method === method && (cseq === undefined || (m.message.header('cseq') ?? '').startsWith(`${cseq} `));
const isReply = (status: number, method: string) => (m: WireMessage): boolean =>
  m.message.status === status && (m.message.header('cseq') ?? '').endsWith(` ${method}`);

describe('calls from clients to the media servers on the namespace stack', { timeout: 30_000 }, () => {
  it.each(cases)('%s', async (_title, entry, client, hangup) => {
    const name = `call-${entry.transport}-${entry.balancer ? 'haproxy' : 'nat'}-${client.name}-${hangup}-bye`;
    const result = await ctx.sipp({
      name,
      client,
      entry,
      scenario: hangup === 'caller' ? 'uac-call-bye' : 'uac-call-callee-bye',
      args: ['-s', '9196', '-key', 'user', client.user, '-au', client.user, '-ap', client.password, '-d', '200'],
    });
    expect(result.code, `${result.command}\n${result.output}`).toBe(0);
    const [offer] = traced(result, 'sent', (m) => m.method === 'INVITE');
    const callId = offer!.header('call-id')!;
    const clientPort = Number(hostPort(offer!.header('contact')!).split(':')[1]);

    // The client: challenged once, then the call, the ACK and the hang-up.
    expect(flowOf(result, callId)).toEqual(
      hangup === 'caller'
        ? ['> INVITE', '< 407', '> ACK', '> INVITE', '< 200', '> ACK', '> BYE', '< 200']
        : ['> INVITE', '< 407', '> ACK', '> INVITE', '< 200', '> ACK', '< BYE', '> 200'],
    );
    expect(sdp(offer!).iceLines.length, 'the client offers ICE attributes').toBeGreaterThan(0);

    // The media server got the INVITE from Kamailio's private port.
    const ms = mediaServerSide(callId);
    const atMs = ms.messages.filter((t) => t.direction === 'received').map((t) => t.message);
    const invite = atMs.find((m) => m.method === 'INVITE')!;
    expect(topVia(invite)).toBe(`UDP ${PRIVATE}`);
    const rr = routeSet(invite);
    expect(rr.map(hostPort)).toEqual([PRIVATE, PUBLIC]);
    expect(rr[1]).toContain(entry.transport === 'tcp' ? ';transport=tcp' : ';r2=on');
    expect(invite.header('proxy-authorization'), 'credentials are for the proxy, not the media server').toBeUndefined();
    const msOffer = sdp(invite);
    expect(msOffer).toMatchObject({ connection: ADDR.LOCAL_IP, origin: ADDR.LOCAL_IP, iceLines: [] });
    expect(inRtpRange(msOffer.audioPort), `m=audio ${msOffer.audioPort} is an rtpengine port`).toBe(true);
    if (hangup === 'caller') {
      for (const method of ['ACK', 'BYE']) {
        expect(topVia(atMs.find((m) => m.method === method)!), `${method} at the media server`).toBe(`UDP ${PRIVATE}`);
      }
    } else {
      expect(atMs.find((m) => m.status === 200 && (m.header('cseq') ?? '').endsWith('BYE')), '200 for the media server BYE').toBeDefined();
    }

    // The client sees the public address: Record-Route, its route set, SDP.
    const [answer] = traced(result, 'received', (m) => m.status === 200 && (m.header('cseq') ?? '').endsWith('INVITE'));
    const clientRoutes = routeSet(answer!).reverse();
    expect(hostPort(clientRoutes[0]!), 'the first hop of the client route set').toBe(PUBLIC);
    expect(clientRoutes.map(hostPort)).toContain(PUBLIC);
    const clientAnswer = sdp(answer!);
    expect(clientAnswer).toMatchObject({ connection: ADDR.PUBLIC_IP, origin: ADDR.PUBLIC_IP, iceLines: [] });
    expect(inRtpRange(clientAnswer.audioPort), `m=audio ${clientAnswer.audioPort} is an rtpengine port`).toBe(true);
    if (hangup === 'callee') {
      const [bye] = traced(result, 'received', (m) => m.method === 'BYE');
      expect(topVia(bye!), 'the BYE from the media server reaches the client with the public Via').toBe(`${entry.transport.toUpperCase()} ${PUBLIC}`);
    }

    // The client's wire: only ever the address it called, both ways.
    const atClient = ofCall(ctx.wire(client.capture), callId);
    expect(atClient.length).toBeGreaterThanOrEqual(8);
    for (const m of atClient) {
      const ends = [`${m.src}:${m.sport}`, `${m.dst}:${m.dport}`].sort();
      expect(ends, wireLine(m)).toEqual([`${client.ip}:${clientPort}`, `${entry.address}:${entry.port}`].sort());
      expect(m.transport).toBe(entry.transport);
    }

    // The vm's wire (after the NAT): the client's leg on the public port, the
    // media server's leg on the private port, and every in-dialog request
    // leaving by the socket of its leg.
    const atVm = ofCall(ctx.wire('vm'), callId);
    const fromClient = find(atVm, 'authenticated INVITE from the client', isRequest('INVITE', 2));
    expect(`${fromClient.dst}:${fromClient.dport}`).toBe(`${ADDR.LOCAL_IP}:${PORT.SIP}`);
    const clientLeg = `${fromClient.src}:${fromClient.sport}`;
    if (entry.balancer) {
      expect(fromClient.src).toBe(ADDR.lbPrivate);
      expect(fromClient.proxyLine).toMatch(new RegExp(`^PROXY TCP4 ${client.seenAs.replace(/\./g, '\\.')} ${ADDR.lbPublic.replace(/\./g, '\\.')} \\d+ ${PORT.SIP}$`));
    } else {
      expect(fromClient.src).toBe(client.seenAs);
    }
    const msLeg = `${ms.address}:${PORT.UAS}`;
    const toMs = find(atVm, 'INVITE to the media server', (m) => isRequest('INVITE')(m) && m.dst === ms.address);
    expect(`${toMs.transport} ${toMs.src}:${toMs.sport} > ${toMs.dst}:${toMs.dport}`).toBe(`udp ${PRIVATE} > ${msLeg}`);
    const okToClient = find(atVm, '200 to the client', (m) => isReply(200, 'INVITE')(m) && m.dst === fromClient.src);
    expect(`${okToClient.src}:${okToClient.sport} > ${okToClient.dst}:${okToClient.dport}`).toBe(`${ADDR.LOCAL_IP}:${PORT.SIP} > ${clientLeg}`);

    const ackIn = find(atVm, 'ACK from the client', (m) => isRequest('ACK', 2)(m) && m.dport === PORT.SIP);
    expect(`${ackIn.src}:${ackIn.sport}`).toBe(clientLeg);
    const ackOut = find(atVm, 'ACK to the media server', (m) => isRequest('ACK', 2)(m) && m.dst === ms.address);
    expect(`${ackOut.src}:${ackOut.sport} > ${ackOut.dst}:${ackOut.dport}`).toBe(`${PRIVATE} > ${msLeg}`);

    const byes = atVm.filter((m) => isRequest('BYE')(m));
    const byeOks = atVm.filter((m) => isReply(200, 'BYE')(m));
    const lines = (ms: WireMessage[]): string[] => ms.map((m) => `${m.transport} ${m.src}:${m.sport} > ${m.dst}:${m.dport}`);
    if (hangup === 'caller') {
      expect(lines(byes)).toEqual([`${entry.transport} ${clientLeg} > ${ADDR.LOCAL_IP}:${PORT.SIP}`, `udp ${PRIVATE} > ${msLeg}`]);
      expect(lines(byeOks)).toEqual([`udp ${msLeg} > ${PRIVATE}`, `${entry.transport} ${ADDR.LOCAL_IP}:${PORT.SIP} > ${clientLeg}`]);
    } else {
      // Toward the client over the connection (or NAT binding) it came from:
      // through HAProxy that is the balancer's connection, never a new one.
      expect(lines(byes)).toEqual([`udp ${msLeg} > ${PRIVATE}`, `${entry.transport} ${ADDR.LOCAL_IP}:${PORT.SIP} > ${clientLeg}`]);
      expect(lines(byeOks)).toEqual([`${entry.transport} ${clientLeg} > ${ADDR.LOCAL_IP}:${PORT.SIP}`, `udp ${PRIVATE} > ${msLeg}`]);
    }
  });
});
