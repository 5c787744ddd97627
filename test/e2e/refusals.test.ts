/**
 * Scenario 6 of issue #4, on the namespace stack (npm run stack): what the
 * proxy refuses, seen on the wire. Asserted on the SIPp traces, the vm's,
 * the client's and the media servers' wires, and the location table:
 *   - a SIP scanner (User-Agent friendly-scanner) gets nothing at all, to
 *     OPTIONS, REGISTER or INVITE (the same client is answered afterwards: it
 *     is the scanner that is dropped, not the address);
 *   - REGISTER and INVITE without valid credentials are challenged (401,
 *     407), and challenged again for a wrong password: no binding, nothing
 *     toward the media servers;
 *   - a request for a foreign domain from the public side: 403, not relayed;
 *   - the private port (5070) answers only the media servers: a client
 *     reaching PUBLIC_IP:5070 through the 1:1 NAT, over UDP or TCP, gets 403,
 *     and so does a host of the private network that is not in the
 *     dispatcher list (the balancer's private address).
 */
import { describe, expect, it } from 'vitest';
import { describe as wireLine, ofCall } from '../../stack/capture.ts';
import type { SippResult } from '../../stack/sipp.ts';
import { ADDR, NS, PORT } from '../../stack/topology.ts';
import { CLIENTS, ENTRIES, mediaServerTraces, traced, useStack, type Entry } from './support.ts';

const ctx = useStack('refusals');

const client = CLIENTS.c1;
const flow = (r: SippResult): string[] => r.messages.map((t) => `${t.direction === 'sent' ? '>' : '<'} ${t.message.method ?? t.message.status}`).filter((l) => l !== '< 100');
const callIdOf = (r: SippResult): string => r.messages[0]!.message.header('call-id')!;

/** Nothing of this call went to, or came from, a media server (their wires and their SIPp traces). */
function expectNothingTowardMediaServers(callId: string): void {
  expect(mediaServerTraces(ctx.stack, callId)).toEqual([]);
  expect([...ofCall(ctx.wire('ms1'), callId), ...ofCall(ctx.wire('ms2'), callId)].map(wireLine)).toEqual([]);
  expect(ofCall(ctx.wire('vm'), callId).filter((m) => m.dport === PORT.UAS || m.sport === PORT.UAS).map(wireLine)).toEqual([]);
}

describe('refusals on the namespace stack', { timeout: 30_000 }, () => {
  it('a SIP scanner (User-Agent friendly-scanner) gets no answer to OPTIONS, REGISTER or INVITE', async () => {
    const r = await ctx.sipp({ name: 'scanner', client, entry: ENTRIES.udpNat, scenario: 'uac-scanner-ignored', args: ['-s', '100', '-key', 'ua', 'friendly-scanner'] });
    expect(r.code, `any answer fails the SIPp call\n${r.command}\n${r.output}`).toBe(0);
    const callId = callIdOf(r);
    expect(flow(r)).toEqual(['> OPTIONS', '> REGISTER', '> INVITE']);
    // They reached the vm through the NAT; nothing went back, nor anywhere else.
    const atVm = ofCall(ctx.wire('vm'), callId);
    expect(atVm.map((m) => `${m.src} > ${m.dst}:${m.dport} ${m.message.method}`)).toEqual(
      ['OPTIONS', 'REGISTER', 'INVITE'].map((method) => `${client.ip} > ${ADDR.LOCAL_IP}:${PORT.SIP} ${method}`),
    );
    expect(ofCall(ctx.wire(client.capture), callId).filter((m) => m.dst === client.ip).map(wireLine)).toEqual([]);
    expectNothingTowardMediaServers(callId);
  });

  it('REGISTER without valid credentials: 401, and 401 again for a wrong password; no binding', async () => {
    await ctx.stack.rpc('ul.rm', 'location', client.user).catch(() => '');
    const r = await ctx.sipp({ name: 'register-wrong-password', client, entry: ENTRIES.udpNat, scenario: 'uac-register-unauthorized', args: ['-s', client.user, '-au', client.user, '-ap', 'wrong'] });
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    expect(flow(r)).toEqual(['> REGISTER', '< 401', '> REGISTER', '< 401']);
    const [, second] = traced(r, 'sent', (m) => m.method === 'REGISTER');
    expect(second!.header('authorization')).toMatch(/^Digest username="alice"/);
    for (const m of traced(r, 'received', (m) => m.status === 401)) expect(m.header('www-authenticate')).toMatch(/^Digest realm="example\.test", nonce="/);
    expect(ofCall(ctx.wire('vm'), callIdOf(r)).map((m) => m.message.status ?? m.message.method)).toEqual(['REGISTER', 401, 'REGISTER', 401]);
    expect(await ctx.stack.rpc('ul.lookup', 'location', client.user).catch((e: Error) => e.message), 'no binding').toMatch(/AOR not found/);
  });

  it('INVITE without valid credentials: 407, and 407 again for a wrong password; nothing toward the media servers', async () => {
    const r = await ctx.sipp({ name: 'invite-wrong-password', client, entry: ENTRIES.udpNat, scenario: 'uac-call-unauthorized', args: ['-s', '9196', '-key', 'user', client.user, '-au', client.user, '-ap', 'wrong'] });
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    expect(flow(r)).toEqual(['> INVITE', '< 407', '> ACK', '> INVITE', '< 407', '> ACK']);
    for (const m of traced(r, 'received', (m) => m.status === 407)) expect(m.header('proxy-authenticate')).toMatch(/^Digest realm="example\.test", nonce="/);
    expectNothingTowardMediaServers(callIdOf(r));
  });

  it('INVITE for a foreign domain from the public side: 403, not relayed', async () => {
    const r = await ctx.sipp({ name: 'foreign-domain', client, entry: ENTRIES.udpNat, scenario: 'uac-call-forbidden', args: ['-s', '9196', '-key', 'user', client.user, '-key', 'domain', 'other.example'] });
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    expect(traced(r, 'sent', (m) => m.method === 'INVITE')[0]!.startLine).toBe('INVITE sip:9196@other.example SIP/2.0');
    expect(flow(r)).toEqual(['> INVITE', '< 403', '> ACK']);
    expect(traced(r, 'received', (m) => m.status === 403)[0]!.startLine).toBe('SIP/2.0 403 Relaying Forbidden');
    const atVm = ofCall(ctx.wire('vm'), callIdOf(r));
    expect(atVm.filter((m) => m.src === ADDR.LOCAL_IP).map((m) => `${m.sport} > ${m.dst} ${m.message.status ?? m.message.method}`), 'only the 403 leaves the vm').toEqual([
      `${PORT.SIP} > ${client.ip} 403`,
    ]);
    expectNothingTowardMediaServers(callIdOf(r));
  });

  const privatePort = (transport: 'udp' | 'tcp'): Entry => ({ name: `${transport.toUpperCase()} to PUBLIC_IP:${PORT.PRIVATE}`, transport, address: ADDR.PUBLIC_IP, port: PORT.PRIVATE, balancer: false });
  it.each([privatePort('udp'), privatePort('tcp')])('the private port from a client ($name, through the 1:1 NAT): 403, not relayed', async (entry) => {
    const r = await ctx.sipp({ name: `private-port-${entry.transport}`, client, entry, scenario: 'uac-call-forbidden', args: ['-s', '9196', '-key', 'user', client.user] });
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    expect(flow(r)).toEqual(['> INVITE', '< 403', '> ACK']);
    expect(traced(r, 'received', (m) => m.status === 403)[0]!.startLine).toBe('SIP/2.0 403 Forbidden');
    const atVm = ofCall(ctx.wire('vm'), callIdOf(r));
    expect(atVm.map((m) => `${m.transport} ${m.src} > ${m.dst}:${m.dport} ${m.message.status ?? m.message.method}`).slice(0, 2)).toEqual([
      `${entry.transport} ${client.ip} > ${ADDR.LOCAL_IP}:${PORT.PRIVATE} INVITE`,
      `${entry.transport} ${ADDR.LOCAL_IP} > ${client.ip}:${atVm[0]!.sport} 403`,
    ]);
    expect(atVm.filter((m) => m.src === ADDR.LOCAL_IP), 'only the 403 leaves the vm').toHaveLength(1);
    expectNothingTowardMediaServers(callIdOf(r));
  });

  it('the private port from a private host that is not a media server (the balancer, 10.0.0.2): 403, not relayed', async () => {
    const r = await ctx.startSippFrom({
      name: 'private-port-from-lb',
      ns: NS.lb,
      ip: ADDR.lbPrivate,
      remote: `${ADDR.LOCAL_IP}:${PORT.PRIVATE}`,
      transport: 'udp',
      scenario: 'uac-call-forbidden',
      args: ['-s', '9196', '-key', 'user', client.user],
    }).done;
    expect(r.code, `${r.command}\n${r.output}`).toBe(0);
    expect(flow(r)).toEqual(['> INVITE', '< 403', '> ACK']);
    expectNothingTowardMediaServers(callIdOf(r));
  });
});
