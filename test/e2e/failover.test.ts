/**
 * Scenario 4 of issue #4, on the namespace stack (npm run stack): media
 * server failover (dispatcher set 1 = ms1 and ms2, round-robin, probed with
 * OPTIONS every 10 s; tm fr_timer 5 s). Asserted on the vm's wire (which
 * media server got which INVITE, and what came back), the SIPp traces of the
 * client and of the media servers, and `kamcmd dispatcher.list`:
 *   - a media server that refuses with 503: the call goes on to the other
 *     one at once, the client never sees the 503, and the refusing server
 *     stays active;
 *   - every media server refusing: the client gets 503 within a moment (not
 *     after a timer), and rtpengine holds nothing for the call;
 *   - a media server that does not answer (its SIP port silenced by an
 *     nftables drop in its own namespace): the INVITE times out after
 *     fr_timer, the call lands on the other one, the silent one is marked
 *     inactive and the next calls go straight to the other one;
 *   - a media server that stops answering OPTIONS is marked inactive by the
 *     probes alone (no call involved) and skipped, and one that answers a
 *     probe again is active again.
 * Which media server round-robin picks first is not fixed, so a case makes
 * a second call when the first one did not go where it needed.
 */
import { describe, expect, it } from 'vitest';
import { describe as wireLine, ofCall, type WireMessage } from '../../stack/capture.ts';
import type { SippResult } from '../../stack/sipp.ts';
import { ADDR, MEDIA_SERVERS, PORT } from '../../stack/topology.ts';
import { CLIENTS, ENTRIES, dispatcherFlags, mediaServerTraces, sdp, silenceMediaServer, traced, useStack, waitFor } from './support.ts';

const ctx = useStack('failover');

const PRIVATE = `${ADDR.LOCAL_IP}:${PORT.PRIVATE}`;
const [MS1, MS2] = MEDIA_SERVERS;
const msUri = (address: string): string => `sip:${address}:${PORT.UAS}`;
const isMs = (address: string): boolean => MEDIA_SERVERS.some((ms) => ms.address === address);
const client = CLIENTS.c1;
const auth = ['-s', '9196', '-key', 'user', client.user, '-au', client.user, '-ap', client.password];

let calls = 0;
function call(scenario: 'uac-call-failover-bye' | 'uac-call-unavailable', refuse: string): Promise<SippResult> {
  return ctx.sipp({ name: `${scenario}-${refuse}-${++calls}`, client, entry: ENTRIES.udpNat, scenario, args: [...auth, '-key', 'refuse', refuse, '-d', '100'] });
}

const callIdOf = (r: SippResult): string => traced(r, 'sent', (m) => m.method === 'INVITE')[0]!.header('call-id')!;

/** The call's messages between the vm and the media servers, on the vm's wire. */
function mediaServerLeg(callId: string): WireMessage[] {
  return ofCall(ctx.wire('vm'), callId).filter((m) => isMs(m.dst) || isMs(m.src));
}
const line = (m: WireMessage): string => `${m.src === ADDR.LOCAL_IP ? `> ${m.dst}` : `< ${m.src}`} ${m.message.method ?? m.message.status}`;
/** Sent-to / received-from lines of the media server leg, retransmissions folded. */
function legLines(callId: string): string[] {
  return mediaServerLeg(callId)
    .filter((m) => m.message.status === undefined || m.message.status >= 200)
    .map(line)
    .filter((l, i, all) => i === 0 || l !== all[i - 1]);
}
const firstInviteTo = (callId: string): string | undefined => mediaServerLeg(callId).find((m) => m.message.method === 'INVITE')?.dst;

function clientFlow(r: SippResult): string[] {
  return r.messages.filter((t) => !(t.message.status !== undefined && t.message.status < 200)).map((t) => `${t.direction === 'sent' ? '>' : '<'} ${t.message.method ?? t.message.status}`);
}

/** Calls until the first INVITE of a call goes to `address` (round-robin alternates; two calls at most). */
async function callUntilFirstTo(address: string, scenario: 'uac-call-failover-bye', refuse: string): Promise<SippResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await call(scenario, refuse);
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    if (firstInviteTo(callIdOf(r)) === address || attempt === 2) return r;
  }
}

describe('failover between the media servers on the namespace stack', { timeout: 60_000 }, () => {
  it('a media server that answers 503: the call goes on to the other one, the client never sees the 503, the refusing one stays active', async () => {
    const r = await callUntilFirstTo(MS1.address, 'uac-call-failover-bye', MS1.address);
    const callId = callIdOf(r);
    expect(legLines(callId)).toEqual([`> ${MS1.address} INVITE`, `< ${MS1.address} 503`, `> ${MS1.address} ACK`, `> ${MS2.address} INVITE`, `< ${MS2.address} 200`, `> ${MS2.address} ACK`, `> ${MS2.address} BYE`, `< ${MS2.address} 200`]);
    const leg = mediaServerLeg(callId);
    const invites = leg.filter((m) => m.message.method === 'INVITE');
    for (const m of invites) expect(`${m.src}:${m.sport}`, wireLine(m)).toBe(PRIVATE);
    // tm's own ACK for the 503 belongs to the first branch; the second INVITE is a new branch.
    const branch = (m: WireMessage): string => /branch=([^;,\s]+)/.exec(m.message.header('via')!)![1]!;
    const ackTo503 = leg.find((m) => m.message.method === 'ACK' && m.dst === MS1.address)!;
    expect(branch(ackTo503)).toBe(branch(invites[0]!));
    expect(branch(invites.at(-1)!)).not.toBe(branch(invites[0]!));

    expect(clientFlow(r)).toEqual(['> INVITE', '< 407', '> ACK', '> INVITE', '< 200', '> ACK', '> BYE', '< 200']);
    const traces = Object.fromEntries(mediaServerTraces(ctx.stack, callId).map((ms) => [ms.host, ms.messages.map((t) => `${t.direction === 'sent' ? '>' : '<'} ${t.message.method ?? t.message.status}`)]));
    expect(traces['ms1']).toEqual(['< INVITE', '> 503', '< ACK']);
    expect(traces['ms2']).toEqual(['< INVITE', '> 100', '> 180', '> 200', '< ACK', '< BYE', '> 200']);
    // Both offers are rtpengine's, toward the private side.
    for (const m of invites) expect(sdp(m.message).connection).toBe(ADDR.LOCAL_IP);
    expect((await dispatcherFlags(ctx.stack))[msUri(MS1.address)], 'a 503 is an answer: ms1 stays active').toMatch(/^A/);
  });

  it('every media server refuses: the client gets 503 at once, and rtpengine holds nothing for the call', async () => {
    const r = await call('uac-call-unavailable', 'all');
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    const callId = callIdOf(r);
    expect(clientFlow(r)).toEqual(['> INVITE', '< 407', '> ACK', '> INVITE', '< 503', '> ACK']);
    expect(traced(r, 'received', (m) => m.status === 503)[0]!.startLine).toBe('SIP/2.0 503 No Media Server Available');
    const lines = legLines(callId);
    expect(lines.filter((l) => l.endsWith('INVITE')).sort()).toEqual([`> ${MS1.address} INVITE`, `> ${MS2.address} INVITE`]);
    expect(lines.filter((l) => l.endsWith('503')).sort()).toEqual([`< ${MS1.address} 503`, `< ${MS2.address} 503`]);
    // "At once": the answers' round trips, far from tm's 5 s timer.
    const atClient = ofCall(ctx.wire(client.capture), callId);
    const invite = atClient.find((m) => m.message.method === 'INVITE' && m.message.header('cseq') === '2 INVITE')!;
    const refused = atClient.find((m) => m.message.status === 503)!;
    expect(refused.time - invite.time, 'seconds from INVITE to 503 at the client').toBeLessThan(3);
    const list = await ctx.ng({ command: 'list' });
    expect(list['calls'] as string[], 'rtpengine deleted the offer').not.toContain(callId);
  });

  it('a media server that does not answer: the INVITE times out, the call lands on the other one, which alone gets the next calls', async () => {
    const restore = silenceMediaServer('ms1');
    try {
      const r = await callUntilFirstTo(MS1.address, 'uac-call-failover-bye', 'none');
      const callId = callIdOf(r);
      expect(legLines(callId)).toEqual([`> ${MS1.address} INVITE`, `> ${MS2.address} INVITE`, `< ${MS2.address} 200`, `> ${MS2.address} ACK`, `> ${MS2.address} BYE`, `< ${MS2.address} 200`]);
      const leg = mediaServerLeg(callId);
      const toMs1 = leg.filter((m) => m.dst === MS1.address);
      expect(toMs1.length, 'the INVITE to ms1, retransmitted').toBeGreaterThan(1);
      expect(leg.filter((m) => m.src === MS1.address), 'ms1 never answered').toEqual([]);
      const toMs2 = leg.find((m) => m.dst === MS2.address)!;
      expect(toMs2.time - toMs1[0]!.time, 'ms2 is tried once fr_timer (5 s) has run out').toBeGreaterThan(4);
      expect(clientFlow(r)).toEqual(['> INVITE', '< 407', '> ACK', '> INVITE', '< 200', '> ACK', '> BYE', '< 200']);

      expect((await dispatcherFlags(ctx.stack))[msUri(MS1.address)], 'ms1 marked inactive (and probed)').toMatch(/^I/);
      for (let i = 0; i < 2; i++) {
        const next = await call('uac-call-failover-bye', 'none');
        expect(next.code, `${next.command}\n${next.output}`).toBe(0);
        expect(legLines(callIdOf(next)), 'straight to ms2').toEqual([`> ${MS2.address} INVITE`, `< ${MS2.address} 200`, `> ${MS2.address} ACK`, `> ${MS2.address} BYE`, `< ${MS2.address} 200`]);
      }
    } finally {
      restore();
    }
  });

  it('a media server that stops answering OPTIONS is marked inactive by the probes alone and skipped; one that answers a probe again is back', async () => {
    // ms1 may still be inactive from the case before: its next probe revives it.
    const silencedAt = Date.now() / 1000;
    const restore = silenceMediaServer('ms2');
    try {
      // Probes every 10 s, each failing after fr_timer (5 s): at most ~15 s.
      const flags = await waitFor(
        'ms2 inactive and ms1 active',
        async () => {
          const f = await dispatcherFlags(ctx.stack);
          return /^I/.test(f[msUri(MS2.address)] ?? '') && /^A/.test(f[msUri(MS1.address)] ?? '') ? f : undefined;
        },
        25_000,
        500,
      );
      expect(Object.keys(flags).sort()).toEqual([msUri(MS1.address), msUri(MS2.address)]);
      expect(flags[msUri(MS2.address)], 'inactive, still probed').toBe('IP');
      // On the vm's wire since: Kamailio's OPTIONS to ms2 unanswered, ms1's answered; no INVITE to ms2.
      const since = ctx.wire('vm').filter((m) => m.time >= silencedAt);
      const probes = since.filter((m) => m.message.method === 'OPTIONS' && m.dst === MS2.address);
      expect(probes.length, 'probes sent to ms2').toBeGreaterThan(0);
      for (const p of probes) expect(`${p.src}:${p.sport}`, 'probes leave from the private port').toBe(PRIVATE);
      expect(since.filter((m) => m.src === MS2.address).map(wireLine), 'ms2 answered nothing').toEqual([]);
      expect(since.filter((m) => m.message.method === 'INVITE' && m.dst === MS2.address).map(wireLine), 'no call was needed to find out').toEqual([]);

      for (let i = 0; i < 2; i++) {
        const next = await call('uac-call-failover-bye', 'none');
        expect(next.code, `${next.command}\n${next.output}`).toBe(0);
        expect(legLines(callIdOf(next)), 'straight to ms1').toEqual([`> ${MS1.address} INVITE`, `< ${MS1.address} 200`, `> ${MS1.address} ACK`, `> ${MS1.address} BYE`, `< ${MS1.address} 200`]);
      }
    } finally {
      restore();
    }
    const restoredAt = Date.now() / 1000;
    await waitFor('ms2 active again after a probe it answered', async () => (/^A/.test((await dispatcherFlags(ctx.stack))[msUri(MS2.address)] ?? '') ? true : undefined), 15_000, 500);
    const answered = ctx.wire('vm').filter((m) => m.time >= restoredAt && m.src === MS2.address && m.message.status === 200 && m.message.header('cseq')!.endsWith('OPTIONS'));
    expect(answered.length, 'ms2 answered a probe').toBeGreaterThan(0);
  });
});
