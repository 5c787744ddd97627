/**
 * Issue #9, scenario 1, on the two-node stack (stack/scale.ts): alice
 * registers over TCP through HAProxy and lands on node A; bob registers over
 * UDP and the balancer's flow hash pins him to node B. A media server sends
 * a call for alice to node B: node B hands it to node A, which sends it down
 * alice's existing connection; and a call for bob to node A reaches him from
 * node B. The media server (SIPp) sends its ACK and BYE to the node it
 * called, with the owning node's route set: that node forwards them to its
 * peer by loose routing (src/routing/peer.ts, route_in_dialog_to_peer).
 */
import { describe, expect, it } from 'vitest';
import { NODES, nodeForFlow, type ScaleNode } from '../../stack/scale.ts';
import { type RunningSipp, type TracedMessage } from '../../stack/sipp.ts';
import { nsRun } from '../../stack/net.ts';
import { MEDIA_SERVERS, PORT } from '../../stack/topology.ts';
import { CLIENTS, routeSet, useStack, viaSet, waitFor, type Client } from './support.ts';
import { twoNodes } from './two-nodes.ts';

const ctx = useStack('scale-across', { nodes: 2 });
const [A, B] = NODES;
const { bindings, registerAndWait, registered, mediaServerCalls } = twoNodes(ctx, 'scale-across');

/** The first client port from `from` that the UDP flow hash sends to `target`. */
function portFor(client: Client, target: ScaleNode, from: number): number {
  for (let port = from; port < from + 400; port++) if (nodeForFlow(client.seenAs, port, NODES).name === target.name) return port;
  throw new Error(`no client port from ${from} hashes to node ${target.name}`);
}

/** What a subscriber's SIPp received of its call (method or reply code per message, in order). */
const receivedOfCall = (run: RunningSipp): TracedMessage[] =>
  run.messages().filter((t) => t.direction === 'received' && !t.message.header('cseq')!.endsWith('REGISTER'));

/** Established TCP connections of a client's SIPp socket, as `local peer` (ss in its namespace; the queues left out). */
function connectionsOf(client: Client, port: number): string[] {
  return nsRun(client.ns, 'ss', ['-Htn', 'state', 'established', `( sport = :${port} )`])
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/).slice(-2).join(' '));
}

describe('issue #9 scenario 1: a call sent to the other node reaches the subscriber through the node that holds it', () => {
  it('alice (TCP via A) is called through B down her own connection; bob (UDP pinned to B) is called through A from B', async () => {
    // HAProxy balances TCP by source address: c2 (behind its home NAT) goes to node A.
    const alicePort = 5300;
    const alice = registerAndWait('alice-tcp', CLIENTS.c2, 'tcp', alicePort, 'alice', 30_000);
    const bobPort = portFor(CLIENTS.c1, B, 5320);
    const bob = registerAndWait('bob-udp', CLIENTS.c1, 'udp', bobPort, 'bob', 30_000);
    await Promise.all([registered(alice), registered(bob)]);
    // Each landed where the scenario wants it, and the other node has the binding over DMQ.
    expect(await bindings(A, 'alice')).toEqual([`tcp:${A.address}:${PORT.SIP} server ${A.nodeId}`]);
    expect(await bindings(B, 'bob')).toEqual([`udp:${B.address}:${PORT.SIP} server ${B.nodeId}`]);
    await waitFor('alice’s binding on node B and bob’s on node A (DMQ)', async () =>
      (await bindings(B, 'alice')).length === 1 && (await bindings(A, 'bob')).length === 1 ? true : undefined,
    );
    const aliceConnections = connectionsOf(CLIENTS.c2, alicePort);
    expect(aliceConnections, 'alice holds one connection (to HAProxy)').toHaveLength(1);

    // The media server calls alice through node B.
    const toAlice = await mediaServerCalls('ms1-calls-alice-via-B', MEDIA_SERVERS[0], B, 'alice');
    expect(toAlice.code, `${toAlice.command}\n${toAlice.output}`).toBe(0);
    const atAlice = receivedOfCall(alice);
    expect(atAlice.map((t) => t.message.method ?? t.message.status)).toEqual(['INVITE', 'ACK', 'BYE']);
    const invite = atAlice[0]!.message;
    // Handed over by node B (its private Via), record-routed by node A only.
    expect(viaSet(invite).some((v) => v.includes(`UDP ${B.address}:${PORT.PRIVATE}`)), viaSet(invite).join('\n')).toBe(true);
    expect(routeSet(invite).some((r) => r.includes(`${A.address}:${PORT.PRIVATE}`)), routeSet(invite).join('\n')).toBe(true);
    expect(routeSet(invite).some((r) => r.includes(`${B.address}:`)), routeSet(invite).join('\n')).toBe(false);
    // The same connection, not a new one: still the one socket, same peer.
    expect(connectionsOf(CLIENTS.c2, alicePort)).toEqual(aliceConnections);
    for (const t of atAlice) expect(t.transport.toLowerCase(), `${t.message.method} over TCP`).toContain('tcp');

    // And the other way round: the media server calls bob through node A.
    const toBob = await mediaServerCalls('ms2-calls-bob-via-A', MEDIA_SERVERS[1], A, 'bob');
    expect(toBob.code, `${toBob.command}\n${toBob.output}`).toBe(0);
    const atBob = receivedOfCall(bob);
    expect(atBob.map((t) => t.message.method ?? t.message.status)).toEqual(['INVITE', 'ACK', 'BYE']);
    const bobInvite = atBob[0]!.message;
    // Handed over by node A, sent to bob by node B (the node his flow is pinned to), which record-routed it.
    expect(viaSet(bobInvite).some((v) => v.includes(`UDP ${A.address}:${PORT.PRIVATE}`)), viaSet(bobInvite).join('\n')).toBe(true);
    expect(routeSet(bobInvite).some((r) => r.includes(`${B.address}:${PORT.PRIVATE}`)), routeSet(bobInvite).join('\n')).toBe(true);
    expect(routeSet(bobInvite).some((r) => r.includes(`${A.address}:`)), routeSet(bobInvite).join('\n')).toBe(false);

    alice.stop();
    bob.stop();
  }, 40_000);
});
