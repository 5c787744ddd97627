/**
 * Scenario 3 of issue #4, on the namespace stack (npm run stack): a media
 * server calls a registered client (the article's FreeSWITCH bridge to
 * Kamailio's private port 5070), the client registered over UDP or TCP
 * through the 1:1 NAT or over TCP through HAProxy, with its own public
 * address (c1) or behind a home NAT (c2). The client registers and waits
 * (uac-register-await-call.xml), answers the call that comes in
 * (uas-client-answer-call.xml, SIPp's out-of-call scenario on the same
 * socket), and the media server hangs up. Asserted on the messages exchanged:
 *   - the client gets the INVITE at the Contact it registered, through its
 *     NAT binding or down the TCP connection it opened (the capture shows no
 *     connection opened toward it, and none by the vm at all), with Via and
 *     the first Record-Route PUBLIC_IP:5060 and SDP c=PUBLIC_IP on an
 *     rtpengine port;
 *   - the media server gets the client's answer with SDP c=LOCAL_IP on an
 *     rtpengine port, and its ACK and BYE reach the client the same way.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describe as wireLine, ofCall, type WireMessage } from '../../stack/capture.ts';
import { SIPP_DIR } from '../../stack/services.ts';
import { ADDR, MEDIA_SERVERS, NS, PORT, SUBSCRIBERS } from '../../stack/topology.ts';
import { CLIENTS, ENTRIES, hostPort, routeSet, sdp, topVia, viaSet, useStack, waitFor, type Client, type Entry } from './support.ts';

const ctx = useStack('call-to-client');

const PUBLIC = `${ADDR.PUBLIC_IP}:${PORT.SIP}`;
const PRIVATE = `${ADDR.LOCAL_IP}:${PORT.PRIVATE}`;
const inRtpRange = (port: number): boolean => port >= PORT.RTP_MIN && port <= PORT.RTP_MAX;

const cases = (
  [
    [ENTRIES.udpNat, CLIENTS.c1, 'alice'],
    [ENTRIES.udpNat, CLIENTS.c2, 'bob'],
    [ENTRIES.tcpNat, CLIENTS.c1, 'carol'],
    [ENTRIES.tcpNat, CLIENTS.c2, 'dave'],
    [ENTRIES.tcpLb, CLIENTS.c2, 'alice'],
  ] as Array<[Entry, Client, string]>
).map(([entry, client, user], i) => [`${client.label} registered as ${user} ${entry.name}`, entry, client, user, MEDIA_SERVERS[i % 2]!] as const);

describe('calls from a media server to a registered client on the namespace stack', { timeout: 30_000 }, () => {
  it.each(cases)('%s: reached at its binding, PUBLIC_IP toward it, LOCAL_IP toward the media server', async (_title, entry, client, user, ms) => {
    const tag = `${entry.transport}-${entry.balancer ? 'haproxy' : 'nat'}-${client.name}`;
    const password = SUBSCRIBERS.find((s) => s.user === user)!.password;
    // No binding of an earlier test: this one registers its own, explicitly.
    await ctx.stack.rpc('ul.rm', 'location', user).catch(() => '');

    // The client registers, then holds its registration (and connection)
    // until its call is over (at most 15 s).
    const callee = ctx.startSipp({
      name: `callee-${tag}`,
      client,
      entry,
      scenario: 'uac-register-await-call',
      args: ['-oocsf', join(SIPP_DIR, 'uas-client-answer-call.xml'), '-s', user, '-au', user, '-ap', password, '-d', '15000'],
    });
    const registered = await waitFor('200 to the REGISTER', () =>
      callee.messages().find((t) => t.direction === 'received' && t.message.status === 200),
    );
    const registerCallId = registered.message.header('call-id')!;

    // The media server calls the subscriber through the private port.
    const caller = await ctx.startSippFrom({
      name: `ms-calls-${tag}`,
      ns: NS[ms.host],
      ip: ms.address,
      remote: PRIVATE,
      transport: 'udp',
      scenario: 'uac-media-server-call-bye',
      args: ['-s', user, '-d', '300'],
    }).done;
    expect(caller.code, `${caller.command}\n${caller.output}`).toBe(0);
    await waitFor('the client answering the BYE', () =>
      callee.messages().find((t) => t.direction === 'sent' && t.message.status === 200 && t.message.header('cseq')!.endsWith('BYE')),
    );
    callee.stop();
    const called = await callee.done;
    expect(called.code, `${called.command}\n${called.output}`).toBe(0);

    const offer = caller.messages.find((t) => t.direction === 'sent' && t.message.method === 'INVITE')!.message;
    const callId = offer.header('call-id')!;
    const atClient = called.messages.filter((t) => t.message.header('call-id') === callId);
    expect(atClient.map((t) => `${t.direction === 'sent' ? '>' : '<'} ${t.message.method ?? t.message.status}`)).toEqual([
      '< INVITE',
      '> 180',
      '> 200',
      '< ACK',
      '< BYE',
      '> 200',
    ]);

    // The INVITE the client got: to the Contact it registered, with the
    // public address in Via and first in the route set, SDP toward PUBLIC_IP.
    const sentRegister = called.messages.filter((t) => t.direction === 'sent' && t.message.method === 'REGISTER').at(-1)!.message;
    const clientPort = Number(hostPort(sentRegister.header('contact')!).split(':')[1]);
    const invite = atClient[0]!.message;
    expect(invite.startLine).toBe(`INVITE sip:${user}@${client.ip}:${clientPort};transport=${entry.transport.toUpperCase()} SIP/2.0`);
    expect(topVia(invite)).toBe(`${entry.transport.toUpperCase()} ${PUBLIC}`);
    expect(viaSet(invite)).toHaveLength(2);
    const rr = routeSet(invite);
    expect(rr.map(hostPort)).toEqual([PUBLIC, PRIVATE]);
    if (entry.transport === 'tcp') expect(rr[0]).toContain(';transport=tcp');
    const clientOffer = sdp(invite);
    expect(clientOffer).toMatchObject({ connection: ADDR.PUBLIC_IP, origin: ADDR.PUBLIC_IP });
    expect(inRtpRange(clientOffer.audioPort), `m=audio ${clientOffer.audioPort} is an rtpengine port`).toBe(true);
    for (const t of atClient.filter((t) => t.direction === 'received')) {
      expect(topVia(t.message), `${t.message.method} reaches the client from the public socket`).toBe(`${entry.transport.toUpperCase()} ${PUBLIC}`);
    }

    // The media server's side: its answer came back rewritten toward LOCAL_IP.
    const answer = caller.messages.find((t) => t.direction === 'received' && t.message.status === 200 && t.message.header('cseq')!.endsWith('INVITE'))!.message;
    const msAnswer = sdp(answer);
    expect(msAnswer).toMatchObject({ connection: ADDR.LOCAL_IP, origin: ADDR.LOCAL_IP });
    expect(inRtpRange(msAnswer.audioPort), `m=audio ${msAnswer.audioPort} is an rtpengine port`).toBe(true);
    expect(msAnswer.audioPort).not.toBe(clientOffer.audioPort);
    expect(routeSet(answer).map(hostPort)).toEqual([PUBLIC, PRIVATE]);
    expect(sdp(offer).connection, 'the media server offered its own address').toBe(ms.address);

    // The client's wire: the call came in on the socket it registered from;
    // over TCP on the very connection (same ports both ends), never a new one.
    const registerOnClientWire = ofCall(ctx.wire(client.capture), registerCallId).filter((m) => m.message.method === 'REGISTER');
    const clientLeg = [`${client.ip}:${clientPort}`, `${entry.address}:${entry.port}`].sort();
    for (const m of [...registerOnClientWire, ...ofCall(ctx.wire(client.capture), callId)]) {
      expect([`${m.src}:${m.sport}`, `${m.dst}:${m.dport}`].sort(), wireLine(m)).toEqual(clientLeg);
      expect(m.transport).toBe(entry.transport);
    }
    if (entry.transport === 'tcp') {
      const opened = ctx.packets(client.capture, 'tcp.flags.syn == 1 && tcp.flags.ack == 0');
      expect(opened.filter((p) => p.dst === client.ip).map((p) => `${p.src}:${p.sport} > ${p.dst}:${p.dport}`), 'connections opened toward the client').toEqual([]);
      expect(
        opened.filter((p) => p.sport === clientPort).map((p) => `${p.src}:${p.sport} > ${p.dst}:${p.dport}`),
        'the one connection from its port: the one it opened to register',
      ).toEqual([`${client.ip}:${clientPort} > ${entry.address}:${entry.port}`]);
    }

    // The vm's wire: in from the media server on the private port, out of the
    // public port to where the REGISTER came from (NAT binding, connection,
    // or the balancer's connection); the vm opens no connection meanwhile.
    const atVm = ofCall(ctx.wire('vm'), callId);
    const registerLeg = legOf(ofCall(ctx.wire('vm'), registerCallId).filter((m) => m.message.method === 'REGISTER').at(-1)!);
    const find = (what: string, match: (m: WireMessage) => boolean): WireMessage => {
      const m = atVm.find(match);
      if (!m) throw new Error(`no ${what} on the vm's wire:\n${atVm.map(wireLine).join('\n')}`);
      return m;
    };
    const inviteIn = find('INVITE from the media server', (m) => m.message.method === 'INVITE' && m.dport === PORT.PRIVATE);
    expect(`udp ${inviteIn.src} > ${inviteIn.dst}:${inviteIn.dport}`).toBe(`udp ${ms.address} > ${PRIVATE}`);
    const toClient = (method: string) => find(`${method} to the client`, (m) => m.message.method === method && m.sport === PORT.SIP);
    for (const method of ['INVITE', 'ACK', 'BYE']) {
      const m = toClient(method);
      expect(`${m.transport} ${m.src}:${m.sport} > ${m.dst}:${m.dport}`, `${method} toward the client`).toBe(
        `${entry.transport} ${ADDR.LOCAL_IP}:${PORT.SIP} > ${registerLeg}`,
      );
    }
    const okIn = find('200 from the client', (m) => m.message.status === 200 && m.message.header('cseq')!.endsWith('INVITE') && m.dport === PORT.SIP);
    expect(`${okIn.src}:${okIn.sport}`).toBe(registerLeg);
    const okOut = find('200 to the media server', (m) => m.message.status === 200 && m.message.header('cseq')!.endsWith('INVITE') && m.dst === ms.address);
    expect(`${okOut.src}:${okOut.sport}`).toBe(PRIVATE);
    const vmOpened = ctx.packets('vm', `tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == ${ADDR.LOCAL_IP}`);
    expect(vmOpened.map((p) => `${p.dst}:${p.dport}`), 'the vm never opens a connection (toward a client or the balancer)').toEqual([]);
  });
});

function legOf(m: WireMessage): string {
  return `${m.src}:${m.sport}`;
}
