/**
 * Scenario 5 of issue #4, on the namespace stack (npm run stack): what
 * happens inside and around a call once it exists. Asserted on the SIPp
 * traces at both ends, the vm's wire, and rtpengine's own list of calls:
 *   - CANCEL of a ringing call: the media server rings and never answers,
 *     the client cancels; the CANCEL reaches the media server (same branch
 *     as its INVITE, from the private port), the 487 comes back to the
 *     client, and rtpengine, which held the call while it rang, deletes it;
 *   - re-INVITEs in the dialog, first from the client, then from the media
 *     server: each relayed along the route set by the socket of its leg, the
 *     SDP rewritten each way (c=LOCAL_IP toward the media server, PUBLIC_IP
 *     toward the client) on the ports rtpengine gave the call at its start;
 *   - ACKs that match no transaction and no dialog are absorbed: nothing
 *     leaves the vm for them, toward a media server or back to the client.
 */
import { describe, expect, it } from 'vitest';
import { describe as wireLine, ofCall, type WireMessage } from '../../stack/capture.ts';
import type { SippResult, TracedMessage } from '../../stack/sipp.ts';
import { ADDR, PORT } from '../../stack/topology.ts';
import { CLIENTS, ENTRIES, mediaServerTraces, sdp, topVia, traced, useStack, waitFor, type Client, type Entry } from './support.ts';

const ctx = useStack('cancel-reinvite-ack');

const PUBLIC = `${ADDR.PUBLIC_IP}:${PORT.SIP}`;
const PRIVATE = `${ADDR.LOCAL_IP}:${PORT.PRIVATE}`;
const inRtpRange = (port: number): boolean => port >= PORT.RTP_MIN && port <= PORT.RTP_MAX;

const auth = (client: Client): string[] => ['-s', '9196', '-key', 'user', client.user, '-au', client.user, '-ap', client.password];
const flow = (messages: readonly TracedMessage[], finalsOnly = false): string[] =>
  messages
    .filter((t) => !(finalsOnly && t.message.status !== undefined && t.message.status < 200))
    .map((t) => `${t.direction === 'sent' ? '>' : '<'} ${t.message.method ?? t.message.status}`);
const callIdOf = (r: SippResult): string => traced(r, 'sent', (m) => m.method === 'INVITE')[0]!.header('call-id')!;
const cseqIs = (m: { header(n: string): string | undefined }, cseq: string): boolean => m.header('cseq') === cseq;
const branch = (m: { header(n: string): string | undefined }): string => /branch=([^;,\s]+)/.exec(m.header('via')!)![1]!;

function onlyMediaServer(callId: string): { host: string; address: string; messages: TracedMessage[] } {
  const traces = mediaServerTraces(ctx.stack, callId);
  expect(traces.map((t) => t.host), 'exactly one media server got the call').toHaveLength(1);
  return traces[0]!;
}

const cases = (
  [
    [ENTRIES.udpNat, CLIENTS.c2],
    [ENTRIES.tcpLb, CLIENTS.c1],
  ] as Array<[Entry, Client]>
).map(([entry, client]) => [`${entry.name}, from ${client.label}`, entry, client] as const);

describe('CANCEL, re-INVITE and stray ACKs on the namespace stack', { timeout: 30_000 }, () => {
  it.each(cases)('CANCEL of a ringing call (%s): reaches the media server, 487 to the client, rtpengine session deleted', async (_title, entry, client) => {
    // Rings for 2.5 s: time to see rtpengine holding the call meanwhile.
    const run = ctx.startSipp({ name: `cancel-${entry.transport}-${client.name}`, client, entry, scenario: 'uac-call-cancel', args: [...auth(client), '-d', '2500'] });
    const ringing = await waitFor('180 at the client', () => run.messages().find((t) => t.direction === 'received' && t.message.status === 180));
    const callId = ringing.message.header('call-id')!;
    const whileRinging = await ctx.ng({ command: 'list' });
    const r = await run.done;
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    expect(whileRinging['calls'] as string[], 'rtpengine holds the call while it rings').toContain(callId);
    expect((await ctx.ng({ command: 'list' }))['calls'] as string[], 'and deletes it once cancelled').not.toContain(callId);
    expect((await ctx.ng({ command: 'query', 'call-id': callId }))['error-reason']).toBe('Unknown call-id');

    expect(flow(r.messages).filter((l) => l !== '< 100')).toEqual(['> INVITE', '< 407', '> ACK', '> INVITE', '< 180', '> CANCEL', '< 200', '< 487', '> ACK']);
    const ms = onlyMediaServer(callId);
    expect(flow(ms.messages)).toEqual(['< INVITE', '> 100', '> 180', '< CANCEL', '> 200', '> 487', '< ACK']);
    const msInvite = ms.messages.find((t) => t.message.method === 'INVITE')!.message;
    const msCancel = ms.messages.find((t) => t.message.method === 'CANCEL')!.message;
    expect(topVia(msCancel)).toBe(`UDP ${PRIVATE}`);
    expect(branch(msCancel), 'the CANCEL names the branch of the INVITE it cancels').toBe(branch(msInvite));
    expect(msCancel.header('cseq')).toBe(`${msInvite.header('cseq')!.split(' ')[0]} CANCEL`);

    // The vm's wire: the client's CANCEL in on the public port, the media
    // server's out of the private one; the client's ACK for the 487 stays at
    // the proxy, which sends the media server its own.
    const atVm = ofCall(ctx.wire('vm'), callId);
    const lines = (match: (m: WireMessage) => boolean): string[] => atVm.filter(match).map((m) => `${m.transport} ${m.src}:${m.sport} > ${m.dst}:${m.dport}`);
    const fromClient = atVm.find((m) => m.message.method === 'CANCEL' && m.dport === PORT.SIP)!;
    const clientLeg = `${fromClient.src}:${fromClient.sport}`;
    const msLeg = `${ms.address}:${PORT.UAS}`;
    expect(lines((m) => m.message.method === 'CANCEL')).toEqual([`${entry.transport} ${clientLeg} > ${ADDR.LOCAL_IP}:${PORT.SIP}`, `udp ${PRIVATE} > ${msLeg}`]);
    expect(lines((m) => m.message.status === 487)).toEqual([`udp ${msLeg} > ${PRIVATE}`, `${entry.transport} ${ADDR.LOCAL_IP}:${PORT.SIP} > ${clientLeg}`]);
    expect(lines((m) => m.message.method === 'ACK' && cseqIs(m.message, '2 ACK')).sort(), 'one ACK each side, none relayed').toEqual(
      [`udp ${PRIVATE} > ${msLeg}`, `${entry.transport} ${clientLeg} > ${ADDR.LOCAL_IP}:${PORT.SIP}`].sort(),
    );
  });

  // A CANCEL's R-URI names the SIP domain (sip:9196@example.test). Nothing may
  // resolve it (CONTRACT: nothing requires DNS): asking dispatcher whether
  // that host is a media server once made Kamailio send an A query, holding
  // the worker 2 x 5 s on a resolver that does not answer, so the media server
  // kept ringing after the caller gave up. nextHopIsMediaServer() now asks
  // only about IP literals; this checks the wire and Kamailio's DNS cache.
  it("a client's CANCEL is relayed without resolving the SIP domain", async () => {
    await ctx.stack.rpc('dns.delete_all');
    const since = Date.now() / 1000;
    const client = CLIENTS.c1;
    const r = await ctx.sipp({ name: 'cancel-no-dns', client, entry: ENTRIES.udpNat, scenario: 'uac-call-cancel', args: [...auth(client), '-d', '200'] });
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    const dnsQueries = ctx.packets('vm', `udp.dstport == 53 && ip.src == ${ADDR.LOCAL_IP}`).filter((p) => p.time >= since);
    expect(dnsQueries.map((p) => `${p.src} > ${p.dst}:${p.dport}`), 'DNS queries from the vm').toEqual([]);
    expect(await ctx.stack.rpc('dns.view'), "Kamailio's DNS cache").not.toContain('name: example.test');
  });

  it.each(cases)('re-INVITE from the client, then from the media server (%s): along the route set, SDP rewritten each way on the same rtpengine ports', async (_title, entry, client) => {
    const r = await ctx.sipp({ name: `reinvite-${entry.transport}-${client.name}`, client, entry, scenario: 'uac-call-reinvite-bye', args: [...auth(client), '-d', '200'] });
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    const callId = callIdOf(r);
    expect(flow(r.messages, true)).toEqual(['> INVITE', '< 407', '> ACK', '> INVITE', '< 200', '> ACK', '> INVITE', '< 200', '> ACK', '< INVITE', '> 200', '< ACK', '> BYE', '< 200']);
    const ms = onlyMediaServer(callId);
    expect(flow(ms.messages, true)).toEqual(['< INVITE', '> 200', '< ACK', '< INVITE', '> 200', '< ACK', '> INVITE', '< 200', '> ACK', '< BYE', '> 200']);

    const at = (messages: readonly TracedMessage[], direction: 'sent' | 'received', match: (m: TracedMessage['message']) => boolean) =>
      messages.filter((t) => t.direction === direction && match(t.message)).map((t) => t.message);
    const isInvite = (m: TracedMessage['message']): boolean => m.method === 'INVITE';
    const isOk = (m: TracedMessage['message']): boolean => m.status === 200 && m.header('cseq')!.endsWith('INVITE');
    // The media server's view: LOCAL_IP on one rtpengine port for the whole call.
    const [msOffer, msReoffer] = at(ms.messages, 'received', isInvite);
    const [msReanswer] = at(ms.messages, 'received', isOk);
    // The client's view: PUBLIC_IP on one rtpengine port for the whole call.
    const [clientAnswer, clientReanswer] = at(r.messages, 'received', isOk);
    const [clientReoffer] = at(r.messages, 'received', isInvite);
    const internal = sdp(msOffer!).audioPort;
    const external = sdp(clientAnswer!).audioPort;
    expect(inRtpRange(internal) && inRtpRange(external), `rtpengine ports ${internal}, ${external}`).toBe(true);
    for (const [what, m, address, port] of [
      ["the client's re-INVITE at the media server", msReoffer!, ADDR.LOCAL_IP, internal],
      ["the media server's answer to it at the client", clientReanswer!, ADDR.PUBLIC_IP, external],
      ["the media server's re-INVITE at the client", clientReoffer!, ADDR.PUBLIC_IP, external],
      ["the client's answer to it at the media server", msReanswer!, ADDR.LOCAL_IP, internal],
    ] as const) {
      expect(sdp(m), what).toMatchObject({ connection: address, origin: address, audioPort: port, iceLines: [] });
    }
    // What each end put in its SDP was its own address (so rtpengine did the rewriting).
    expect(sdp(at(r.messages, 'sent', isInvite)[2]!).connection).toBe(client.ip);
    expect(sdp(at(ms.messages, 'sent', isInvite)[0]!).connection).toBe(ms.address);
    expect(topVia(msReoffer!), "the client's re-INVITE leaves the private port").toBe(`UDP ${PRIVATE}`);
    expect(topVia(clientReoffer!), "the media server's re-INVITE reaches the client from the public socket").toBe(`${entry.transport.toUpperCase()} ${PUBLIC}`);

    // The vm's wire: each re-INVITE in by the socket of its sender's leg and out by the other's.
    const atVm = ofCall(ctx.wire('vm'), callId);
    const reinvites = atVm.filter((m) => m.message.method === 'INVITE' && m.message.header('to')!.includes(';tag='));
    const clientLeg = (() => {
      const m = atVm.find((x) => x.message.method === 'INVITE' && cseqIs(x.message, '2 INVITE'))!;
      return `${m.src}:${m.sport}`;
    })();
    const msLeg = `${ms.address}:${PORT.UAS}`;
    expect(reinvites.map((m) => `${m.message.header('cseq')} ${m.transport} ${m.src}:${m.sport} > ${m.dst}:${m.dport}`)).toEqual([
      `3 INVITE ${entry.transport} ${clientLeg} > ${ADDR.LOCAL_IP}:${PORT.SIP}`,
      `3 INVITE udp ${PRIVATE} > ${msLeg}`,
      `1 INVITE udp ${msLeg} > ${PRIVATE}`,
      `1 INVITE ${entry.transport} ${ADDR.LOCAL_IP}:${PORT.SIP} > ${clientLeg}`,
    ]);
  });

  it('ACKs for no transaction and no dialog are absorbed: nothing leaves the vm for them', async () => {
    const client = CLIENTS.c1;
    const r = await ctx.sipp({ name: 'ack-absorbed', client, entry: ENTRIES.udpNat, scenario: 'uac-ack-absorbed', args: ['-s', '9196', '-key', 'user', client.user] });
    expect(r.code, `an ACK is never answered\n${r.command}\n${r.output}`).toBe(0);
    const callId = r.messages[0]!.message.header('call-id')!;
    expect(flow(r.messages)).toEqual(['> ACK', '> ACK']);
    const atVm = ofCall(ctx.wire('vm'), callId);
    expect(atVm.map(wireLine)).toEqual([
      `udp ${client.ip}:${atVm[0]!.sport} > ${ADDR.LOCAL_IP}:${PORT.SIP} ACK`,
      `udp ${client.ip}:${atVm[0]!.sport} > ${ADDR.LOCAL_IP}:${PORT.SIP} ACK`,
    ]);
    expect(atVm.map((m) => m.message.header('to')!.includes(';tag=')), 'one without a To tag, one with').toEqual([false, true]);
    // Nothing toward the media servers (nor anyone else) while the SIPp run lasted.
    expect(mediaServerTraces(ctx.stack, callId)).toEqual([]);
    expect(ofCall(ctx.wire('ms1'), callId).concat(ofCall(ctx.wire('ms2'), callId)).map(wireLine)).toEqual([]);
  });
});
