/**
 * Scenario 7 of issue #4, on the namespace stack (npm run stack): media
 * really flows. During a call both SIPp ends send RTP (SIPp's own
 * /usr/share/sip-tester/g711a.pcap, 236 packets each way, from the port in
 * their SDP to the port in the other side's SDP, i.e. to rtpengine): the
 * client to PUBLIC_IP through the cloud's 1:1 NAT (and its own home NAT),
 * the media server to LOCAL_IP. Counted packet by packet on the captures:
 * every packet sent at one end arrives at the other, relayed by rtpengine
 * from the port it advertised on that side; rtpengine's own counters (ng
 * `query`) say the same; and after the BYE rtpengine holds no session for
 * the call (ng `list`).
 * The client's signalling goes through the 1:1 NAT over UDP, or through
 * HAProxy over TCP; the media always takes the NAT (PUBLIC_IP).
 */
import { describe, expect, it } from 'vitest';
import type { Packet } from '../../stack/capture.ts';
import type { Bencoded } from '../../stack/ng.ts';
import { ADDR, PORT, type CapturePort } from '../../stack/topology.ts';
import { CLIENTS, ENTRIES, mediaServerTraces, sdp, useStack, waitFor, type Client, type Entry } from './support.ts';

const ctx = useStack('media-relay');

/** Packets in SIPp's g711a.pcap, played once by each end. */
const PCAP_PACKETS = 236;

const cases = (
  [
    [ENTRIES.udpNat, CLIENTS.c1],
    [ENTRIES.tcpLb, CLIENTS.c2],
  ] as Array<[Entry, Client]>
).map(([entry, client]) => [`${client.label}, signalling ${entry.name}`, entry, client] as const);

interface Stream {
  localPort: number;
  endpoint: string;
  packets: number;
}

/** rtpengine's RTP streams of a call (ng query): its local port, the peer it learned, packets received from it. */
function rtpStreams(query: Record<string, Bencoded>): Stream[] {
  const tags = (query['tags'] ?? {}) as Record<string, { medias?: Array<{ streams?: Array<Record<string, Bencoded>> }> }>;
  return Object.values(tags)
    .flatMap((t) => t.medias ?? [])
    .flatMap((m) => m.streams ?? [])
    .filter((s) => (s['flags'] as string[]).includes('RTP'))
    .map((s) => {
      const ep = s['endpoint'] as { address: string; port: number };
      return { localPort: s['local port'] as number, endpoint: `${ep.address}:${ep.port}`, packets: (s['stats'] as { packets: number }).packets };
    });
}

const count = (packets: readonly Packet[], from: string, to: string): number => packets.filter((p) => `${p.src}:${p.sport}` === from && `${p.dst}:${p.dport}` === to).length;
const rtp = (port: CapturePort): Packet[] => ctx.packets(port, `udp && udp.port >= ${PORT.RTP_MIN} && udp.port <= ${PORT.RTP_MAX}`);

describe('media through rtpengine on the namespace stack', { timeout: 45_000 }, () => {
  it.concurrent.each(cases)('%s: RTP both ways crosses the NATs, relayed by rtpengine; nothing left after the BYE', async (_title, entry, client) => {
    const run = ctx.startSipp({
      name: `media-${entry.transport}-${client.name}`,
      client,
      entry,
      scenario: 'uac-call-media-bye',
      // 13 s: the 7 s of audio each way (the media server's starts 500 ms
      // after the ACK), and 5 s to spare for reading rtpengine's counters
      // before the BYE ends the session: in CI, with 2 cores busy, 2.5 s
      // to spare once proved too few.
      args: ['-s', '9196', '-key', 'user', client.user, '-au', client.user, '-ap', client.password, '-d', '13000'],
    });
    const answered = await waitFor('200 at the client', () => run.messages().find((t) => t.direction === 'received' && t.message.status === 200), 10_000);
    const callId = answered.message.header('call-id')!;
    const clientMedia = `${client.ip}:${sdp(run.messages().filter((t) => t.direction === 'sent' && t.message.method === 'INVITE').at(-1)!.message).audioPort}`;
    const external = sdp(answered.message);
    expect(external.connection).toBe(ADDR.PUBLIC_IP);

    // rtpengine's counters, read while the call is up: everything each end sent arrived.
    let lastSeen: Stream[] = [];
    const streams = await waitFor(
      `rtpengine receiving ${PCAP_PACKETS} packets from each end`,
      async () => {
        lastSeen = rtpStreams(await ctx.ng({ command: 'query', 'call-id': callId }));
        return lastSeen.length === 2 && lastSeen.every((x) => x.packets >= PCAP_PACKETS) ? lastSeen : undefined;
      },
      18_000,
      300,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(lastSeen)}`);
    });
    const result = await run.done;
    expect(result.code, `${result.command}\n${result.output}`).toBe(0);
    const list = await ctx.ng({ command: 'list' });
    expect(list['calls'] as string[], 'no session left after the BYE').not.toContain(callId);

    const [ms] = mediaServerTraces(ctx.stack, callId);
    const msInvite = ms!.messages.find((t) => t.direction === 'received' && t.message.method === 'INVITE')!.message;
    const msAnswer = ms!.messages.find((t) => t.direction === 'sent' && t.message.status === 200)!.message;
    const internal = sdp(msInvite);
    expect(internal.connection).toBe(ADDR.LOCAL_IP);
    const msMedia = `${ms!.address}:${sdp(msAnswer).audioPort}`;
    const rtpengineExternal = `${ADDR.LOCAL_IP}:${external.audioPort}`;
    const rtpengineInternal = `${ADDR.LOCAL_IP}:${internal.audioPort}`;

    // Where rtpengine saw the client's media from: the client, or its home NAT.
    const atVm = rtp('vm');
    const clientSeenAs = atVm.find((p) => `${p.dst}:${p.dport}` === rtpengineExternal && p.src === client.seenAs);
    expect(clientSeenAs, `RTP from ${client.seenAs} to ${rtpengineExternal} on the vm's wire`).toBeDefined();
    const seen = `${clientSeenAs!.src}:${clientSeenAs!.sport}`;
    expect(streams.map((s) => `${s.localPort} ${s.endpoint} ${s.packets}`).sort()).toEqual(
      [`${external.audioPort} ${seen} ${PCAP_PACKETS}`, `${internal.audioPort} ${msMedia} ${PCAP_PACKETS}`].sort(),
    );

    // Packet by packet. The client sends to PUBLIC_IP and gets it back from
    // there; the 1:1 NAT delivers both ways to rtpengine's external port.
    const atClient = rtp(client.capture);
    const publicSide = `${ADDR.PUBLIC_IP}:${external.audioPort}`;
    expect(count(atClient, clientMedia, publicSide), 'sent by the client').toBe(PCAP_PACKETS);
    expect(count(atClient, publicSide, clientMedia), 'received by the client').toBe(PCAP_PACKETS);
    expect(count(atVm, seen, rtpengineExternal), 'client -> rtpengine, after both NATs').toBe(PCAP_PACKETS);
    expect(count(atVm, rtpengineExternal, seen), 'rtpengine -> client').toBe(PCAP_PACKETS);
    // The media server talks to rtpengine's internal port, on the private network.
    const atMs = rtp(ms!.host);
    expect(count(atMs, msMedia, rtpengineInternal), 'sent by the media server').toBe(PCAP_PACKETS);
    expect(count(atMs, rtpengineInternal, msMedia), 'received by the media server').toBe(PCAP_PACKETS);
    expect(count(atVm, rtpengineInternal, msMedia), 'rtpengine -> media server').toBe(PCAP_PACKETS);
  });
});
