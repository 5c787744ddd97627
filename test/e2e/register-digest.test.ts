/**
 * Scenario 1 of issue #4, on the namespace stack (npm run stack): REGISTER
 * with digest auth over UDP and TCP through the cloud's 1:1 NAT, and over TCP
 * through HAProxy (PROXY v1), from a client with its own public address (c1)
 * and from one behind a home NAT (c2). Asserted on the messages exchanged:
 * SIPp's trace at the client, the captures of the client's and the vm's
 * wires, and the location binding Kamailio stored (which must point at the
 * client as the internet sees it, never at the balancer).
 */
import { describe, expect, it } from 'vitest';
import { ofCall, describe as wireLine } from '../../stack/capture.ts';
import { ADDR, PORT } from '../../stack/topology.ts';
import { CLIENTS, ENTRIES, hostPort, traced, useStack, type Client, type Entry } from './support.ts';

const ctx = useStack('register-digest');

interface Binding {
  address: string;
  received: string | undefined;
  socket: string;
  callId: string;
}

/** `kamcmd ul.lookup location USER` as bindings. */
async function bindings(user: string): Promise<Binding[]> {
  const out = await ctx.stack.rpc('ul.lookup', 'location', user);
  return out
    .split(/Contact: \{/)
    .slice(1)
    .map((block) => {
      const field = (name: string): string => new RegExp(`\\b${name}: ([^\\n]*)`).exec(block)?.[1]?.trim() ?? '';
      const received = field('Received');
      return { address: field('Address'), received: received === '[not set]' ? undefined : received, socket: field('Socket'), callId: field('Call-ID') };
    });
}

async function waitFor<T>(what: string, get: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cases = ([
  [ENTRIES.udpNat, CLIENTS.c1],
  [ENTRIES.udpNat, CLIENTS.c2],
  [ENTRIES.tcpNat, CLIENTS.c1],
  [ENTRIES.tcpNat, CLIENTS.c2],
  [ENTRIES.tcpLb, CLIENTS.c1],
  [ENTRIES.tcpLb, CLIENTS.c2],
] as Array<[Entry, Client]>).map(([entry, client]) => [`${entry.name}, from ${client.label}`, entry, client] as const);

describe('REGISTER with digest auth on the namespace stack', { timeout: 30_000 }, () => {
  it.each(cases)('%s: 401 then 200, the binding points at the client as seen after NAT', async (_title, entry, client) => {
    const name = `register-${entry.transport}-${entry.balancer ? 'haproxy' : 'nat'}-${client.name}`;
    // The registration is held for 0.6 s: over TCP it lives only as long as
    // the connection, so the binding is read while SIPp is still connected.
    const run = ctx.startSipp({
      name,
      client,
      entry,
      scenario: 'uac-register-digest',
      args: ['-s', client.user, '-au', client.user, '-ap', client.password, '-d', '600'],
    });
    const ok = await waitFor('200 to the REGISTER', () => run.messages().find((t) => t.direction === 'received' && t.message.status === 200));
    const callId = ok.message.header('call-id')!;
    const binding = await waitFor('binding', async () => (await bindings(client.user)).find((b) => b.callId === callId));
    const result = await run.done;
    expect(result.code, `${result.command}\n${result.output}`).toBe(0);

    // The client's side: 401 with our realm, then 200 for the digest answer.
    // (A NATed UDP client may also get nathelper's OPTIONS keepalive meanwhile.)
    const mine = result.messages.filter((t) => t.message.header('call-id') === callId);
    expect(mine.map((t) => `${t.direction} ${t.message.method ?? t.message.status}`)).toEqual([
      'sent REGISTER',
      'received 401',
      'sent REGISTER',
      'received 200',
    ]);
    const [first, second] = traced(result, 'sent', (m) => m.method === 'REGISTER');
    expect(first!.header('authorization')).toBeUndefined();
    const [challenge] = traced(result, 'received', (m) => m.status === 401);
    expect(challenge!.header('www-authenticate')).toMatch(/^Digest realm="example\.test", nonce="/);
    expect(second!.header('authorization')).toMatch(new RegExp(`^Digest username="${client.user}", ?realm="example\\.test"`));

    // On the client's wire it only ever talks to the entry point.
    const atClient = ofCall(ctx.wire(client.capture), callId);
    expect(atClient.map(wireLine)).toEqual([
      `${entry.transport} ${client.ip}:${result.messages.length > 0 ? portOf(first!) : 0} > ${entry.address}:${entry.port} REGISTER`,
      `${entry.transport} ${entry.address}:${entry.port} > ${client.ip}:${portOf(first!)} 401`,
      `${entry.transport} ${client.ip}:${portOf(first!)} > ${entry.address}:${entry.port} REGISTER`,
      `${entry.transport} ${entry.address}:${entry.port} > ${client.ip}:${portOf(first!)} 200`,
    ]);

    // Where the internet sees the client from: its own address, or its home
    // NAT's public address and the port that NAT chose (read on its wire).
    const seenPort =
      client.seenAs === client.ip
        ? portOf(first!)
        : ofCall(ctx.wire('home-pub'), callId).find((m) => m.message.method === 'REGISTER')!.sport;
    const seen = `${client.seenAs}:${seenPort}`;

    // On the vm's wire (after the 1:1 NAT): from the client as seen after NAT,
    // or from the balancer with a PROXY v1 line naming that same client.
    const atVm = ofCall(ctx.wire('vm'), callId).filter((m) => m.message.method === 'REGISTER');
    expect(atVm).toHaveLength(2);
    for (const m of atVm) {
      expect(`${m.dst}:${m.dport}`).toBe(`${ADDR.LOCAL_IP}:${PORT.SIP}`);
      if (entry.balancer) {
        expect(m.src).toBe(ADDR.lbPrivate);
        expect(m.proxyLine).toBe(`PROXY TCP4 ${client.seenAs} ${ADDR.lbPublic} ${seenPort} ${PORT.SIP}`);
      } else {
        expect(`${m.src}:${m.sport}`).toBe(seen);
        expect(m.proxyLine).toBeUndefined();
      }
    }

    // Via received/rport in the 200 name the client as seen after NAT.
    expect(ok.message.header('via')).toContain(`rport=${seenPort}`);
    expect(ok.message.header('via')).toContain(`received=${client.seenAs}`);

    // The binding: the address Kamailio will send to is the client after NAT
    // (the Contact itself when it is that address, else "received"), on the
    // public socket of the transport; never the balancer.
    const target = binding.received ?? binding.address;
    expect(hostPort(target)).toBe(seen);
    expect(target).not.toContain(ADDR.lbPrivate);
    expect(binding.address).toBe(`sip:${client.user}@${client.ip}:${portOf(first!)};transport=${entry.transport.toUpperCase()}`);
    expect(binding.socket).toBe(`${entry.transport}:${ADDR.LOCAL_IP}:${PORT.SIP}`);
    if (entry.transport === 'tcp' || client.seenAs !== client.ip) {
      // NATed or connection-oriented: the received address is stored and sent back.
      const received = `sip:${seen}${entry.transport === 'tcp' ? ';transport=tcp' : ''}`;
      expect(binding.received).toBe(received);
      expect(ok.message.header('contact')).toContain(`received="${received}"`);
    } else {
      expect(binding.received).toBeUndefined();
    }
  });
});

/** The client's port, from its own Contact. */
function portOf(m: { header(name: string): string | undefined }): number {
  return Number(hostPort(m.header('contact')!).split(':')[1]);
}
