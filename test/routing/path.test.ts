/**
 * More than one node (README "More than one node"; src/routing/path.ts and
 * peer.ts): a REGISTER over a connection records the node holding it as a
 * Path; a node whose lookup lands on another node's Path hands the call to
 * it over the private network; the owning node sends it down the client's
 * connection. Two mock nodes: A (the scenario's LOCAL_IP 10.0.0.10) and B
 * (10.0.0.11), each other's trusted peers (dispatcher set 2). What DMQ
 * replicates is copied from one node's location table to the other's.
 */
import { describe, expect, it } from 'vitest';
import * as routing from '../../src/main';
import { createKamailio, sipRequest, type Kamailio, type TransportSpec } from '../../mocks/index.ts';
import { BRANCH_FLAG, FLAG } from '../../src/routing/config';
import { OFFER_TO_CLIENT } from '../../src/routing/media';
import {
  CLIENT,
  DISPATCHER_LIST,
  DOMAIN,
  ENV,
  FROM_CLIENT_TCP,
  FROM_CLIENT_UDP,
  FROM_MEDIA_UDP,
  LOCAL_IP,
  OFFER_SDP,
  PUBLIC_IP,
  SUBSCRIBERS,
  clientRequest,
  headerValues,
  newKamailio,
} from './scenario.ts';

const NODE_A = LOCAL_IP;
const NODE_B = '10.0.0.11';
const PEERS = `2 sip:${NODE_A}:5070 0 0\n2 sip:${NODE_B}:5070 0 0`;
const FROM_NODE_B = { proto: 'udp', source: `${NODE_B}:5070`, socket: 'private_socket' } as const;
/** Node A's Path for a client on FROM_CLIENT_TCP's connection. */
const PATH_OF_A = `<sip:${NODE_A}:5070;lr;received=sip:${CLIENT}:41000%3Btransport%3Dtcp>`;

function node(localIp: string, peer: string): Kamailio {
  const env = { ...ENV, LOCAL_IP: localIp, NODE_ID: localIp === NODE_A ? '1' : '2', DMQ_SERVER_ADDRESS: `sip:${localIp}:5070`, DMQ_NOTIFICATION_ADDRESS: `sip:${peer}:5070` };
  return createKamailio({ routing, env, dispatcherList: `${DISPATCHER_LIST}\n${PEERS}`, subscribers: SUBSCRIBERS });
}
const nodeA = (): Kamailio => node(NODE_A, NODE_B);
const nodeB = (): Kamailio => node(NODE_B, NODE_A);

const REGISTER = { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>` };

function register(kam: Kamailio, transport: TransportSpec, extra: Partial<Parameters<typeof clientRequest>[1]> = {}): ReturnType<Kamailio['request']> {
  return kam.request(clientRequest(kam, { ...REGISTER, ...extra }, 'alice'), transport);
}

/** dmq_usrloc: every binding of `from` is in `to`'s location table too. */
function replicate(from: Kamailio, to: Kamailio, aor = 'alice'): void {
  for (const binding of from.location.lookup(aor)) to.location.upsert({ ...binding });
}

function mediaServerInvite(user: string, node: string, headers: Array<[string, string]> = []): string {
  return sipRequest({ method: 'INVITE', ruri: `sip:${user}@${node}:5070`, source: '10.0.0.21:5080', from: '<sip:1000@10.0.0.21>', body: OFFER_SDP, headers });
}

describe('a REGISTER records the node that holds the connection (Path)', () => {
  it('over TCP: the Path names this node’s private socket and the client’s address, which is also the contact’s received', () => {
    const out = register(nodeA(), FROM_CLIENT_TCP);
    expect(out.reply?.code).toBe(200);
    expect(out.registrations).toHaveLength(1);
    expect(out.registrations[0]).toMatchObject({ path: PATH_OF_A, received: `sip:${CLIENT}:41000;transport=tcp` });
    // Not SIP-pinged: nathelper would send the pings to the Path's first entry, this node's private port.
    expect(out.registrations[0]?.bflags).toEqual([BRANCH_FLAG.natContact]);
  });

  it('over WebSocket the received address says ws, as nathelper writes it for WSS too', () => {
    const wss = { proto: 'wss', source: `${CLIENT}:50123`, socket: 'public_webrtc_socket' } as const;
    const out = register(nodeA(), wss, { contact: '<sip:abc123@df7jal23ls0d.invalid;transport=ws>' });
    expect(out.registrations[0]?.path).toBe(`<sip:${NODE_A}:5070;lr;received=sip:${CLIENT}:50123%3Btransport%3Dws>`);
  });

  it('over UDP too: the node the balancer pins the client’s flow to is the one whose packets its NAT lets in', () => {
    const out = register(nodeA(), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(200);
    expect(out.registrations[0]).toMatchObject({ path: `<sip:${NODE_A}:5070;lr;received=sip:${CLIENT}:32000>`, received: `sip:${CLIENT}:32000` });
    // Plain keepalives to the received address instead of OPTIONS through the Path.
    expect(out.registrations[0]?.bflags).toEqual([BRANCH_FLAG.natContact]);
  });

  it('a Path the client sent is never stored: it would steer the media servers’ calls anywhere', () => {
    const forged: Array<[string, string]> = [['Path', '<sip:198.51.100.66;lr>']];
    const overTcp = register(nodeA(), FROM_CLIENT_TCP, { headers: forged });
    expect(overTcp.registrations[0]?.path).toBe(PATH_OF_A);
  });

  it('with one node nothing changes: no Path, and a client’s Path is ignored (registrar use_path is off)', () => {
    const out = register(newKamailio(), FROM_CLIENT_TCP, { headers: [['Path', '<sip:198.51.100.66;lr>']] });
    expect(out.reply?.code).toBe(200);
    expect(out.registrations[0]).toMatchObject({ path: null, received: `sip:${CLIENT}:41000;transport=tcp` });
  });

  it('answers 500 and saves nothing when the REGISTER cannot be rewritten (too big for Kamailio’s buffer with the Path)', () => {
    const out = register(nodeA(), FROM_CLIENT_TCP, { headers: [['X-Padding', 'x'.repeat(65000)]] });
    expect(out.replies.map((r) => `${r.code} ${r.reason}`)).toEqual(['500 Server Error']);
    expect(out.registrations).toEqual([]);
  });
});

describe('a call for a contact held by another node is handed to that node', () => {
  it('node B relays it to node A’s private socket from its own, with A’s Path as Route, and stays out of the media and the dialog', () => {
    const a = nodeA();
    const b = nodeB();
    register(a, FROM_CLIENT_TCP);
    replicate(a, b);
    const out = b.request(mediaServerInvite('alice', NODE_B, [['Route', '<sip:10.0.0.21:5080;lr>']]), FROM_MEDIA_UDP);
    expect(out.end).toBe('exit');
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: NODE_A, port: 5070 });
    expect(out.relay?.socket.name).toBe('private_socket');
    expect(headerValues(out.relay!.message, 'Route')).toEqual([PATH_OF_A]);
    expect(headerValues(out.relay!.message, 'Record-Route')).toEqual([]);
    expect(out.rtpengine).toEqual([]);
    // Only a failure route, for a peer that does not answer at all.
    expect(out.callbacks).toMatchObject({ failure: 'ksr_failure_handover', onreply: null });
  });

  it('node A takes it on its private port and sends it down the client’s connection, anchored and record-routed by A', () => {
    const a = nodeA();
    register(a, FROM_CLIENT_TCP);
    const handedOver = sipRequest({
      method: 'INVITE',
      ruri: `sip:alice@192.168.1.20:5060;transport=tcp`,
      source: `${NODE_B}:5070`,
      from: '<sip:1000@10.0.0.21>',
      body: OFFER_SDP,
      headers: [['Route', PATH_OF_A]],
    });
    const out = a.request(handedOver, FROM_NODE_B);
    expect(out.end).toBe('exit');
    expect(out.relay?.destination).toEqual({ proto: 'tcp', host: CLIENT, port: 41000 });
    expect(out.relay?.socket.name).toBe('public_tcp_socket');
    expect(out.relay?.noConnect).toBe(true);
    expect(headerValues(out.relay!.message, 'Route')).toEqual([]);
    const recordRoutes = headerValues(out.relay!.message, 'Record-Route');
    expect(recordRoutes[0]).toContain(`${PUBLIC_IP}:5060;transport=tcp`);
    expect(recordRoutes[1]).toContain(`${NODE_A}:5070`);
    expect(out.rtpengine.map((c) => c.flags)).toEqual([OFFER_TO_CLIENT]);
    expect(out.flags).toContain(FLAG.fromSwitch);
  });

  it('node A does not follow a peer’s Route that is not its own Path entry with the client’s address', () => {
    for (const route of ['<sip:198.51.100.66;lr>', `<sip:${NODE_A}:5070;lr>`]) {
      const out = nodeA().request(
        sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, source: `${NODE_B}:5070`, body: OFFER_SDP, headers: [['Route', route]] }),
        FROM_NODE_B,
      );
      expect(out.replies.map((r) => `${r.code} ${r.reason}`), route).toEqual(['403 Forbidden']);
      expect(out.relays).toEqual([]);
    }
  });

  it('a peer’s request without a Route (a trusted back end of set 2) is looked up as usual', () => {
    const a = nodeA();
    register(a, FROM_CLIENT_UDP);
    const out = a.request(sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, source: `${NODE_B}:5070`, body: OFFER_SDP }), FROM_NODE_B);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: CLIENT, port: 32000 });
  });

  it('a media server’s preloaded Route is not a hand-over: it is dropped and the call looked up', () => {
    const a = nodeA();
    register(a, FROM_CLIENT_UDP);
    const out = a.request(mediaServerInvite('alice', NODE_A, [['Route', PATH_OF_A]]), FROM_MEDIA_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: CLIENT, port: 32000 });
    expect(headerValues(out.relay!.message, 'Route')).toEqual([]);
  });
});

describe('a contact this node holds is called directly, whatever the transport; one another node holds is handed over', () => {
  it('node A’s own lookup skips its Path and uses the connection: no loop through itself', () => {
    const a = nodeA();
    register(a, FROM_CLIENT_TCP);
    const out = a.request(mediaServerInvite('alice', NODE_A), FROM_MEDIA_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'tcp', host: CLIENT, port: 41000 });
    expect(out.relay?.noConnect).toBe(true);
    expect(headerValues(out.relay!.message, 'Route')).toEqual([]);
  });

  it('a UDP contact registered at node A is handed to node A by node B, which sends it from its public socket', () => {
    const a = nodeA();
    const b = nodeB();
    register(a, FROM_CLIENT_UDP);
    replicate(a, b);
    const atB = b.request(mediaServerInvite('alice', NODE_B), FROM_MEDIA_UDP);
    expect(atB.relay?.destination).toEqual({ proto: 'udp', host: NODE_A, port: 5070 });
    const route = headerValues(atB.relay!.message, 'Route');
    expect(route).toEqual([`<sip:${NODE_A}:5070;lr;received=sip:${CLIENT}:32000>`]);
    const handedOver = sipRequest({ method: 'INVITE', ruri: atB.relay!.ruri, source: `${NODE_B}:5070`, body: OFFER_SDP, headers: [['Route', route[0]!]] });
    const atA = a.request(handedOver, FROM_NODE_B);
    expect(atA.relay?.destination).toEqual({ proto: 'udp', host: CLIENT, port: 32000 });
    expect(atA.relay?.socket.name).toBe('public_socket');
    expect(atA.rtpengine.map((c) => c.flags)).toEqual([OFFER_TO_CLIENT]);
  });

  it('a contact without a Path (saved before the nodes shared registrations), known by host name, is no peer and no DNS is asked', () => {
    const single = newKamailio();
    const b = nodeB();
    // A phone on a public address: not NATed, so its Contact is used as it is.
    const direct = { proto: 'udp', source: '203.0.113.80:5060', socket: 'public_socket' } as const;
    const request = clientRequest(single, { ...REGISTER, source: '203.0.113.80:5060', contact: '<sip:alice@phone.example.net>' }, 'alice');
    expect(single.request(request, direct).reply?.code).toBe(200);
    replicate(single, b);
    const out = b.request(mediaServerInvite('alice', NODE_B), FROM_MEDIA_UDP);
    expect(out.relays.map((r) => r.destination.host)).not.toContain(NODE_A);
    expect(out.reply?.code).toBe(478);
  });
});

describe('node A is dead: node B, which has A’s bindings, reaches what it can itself', () => {
  /** Node B's dispatcher has marked node A inactive, as probing does when A's OPTIONS go unanswered. */
  function nodeBWithADead(): Kamailio {
    const b = nodeB();
    b.dispatcher.setState(`sip:${NODE_A}:5070`, 'inactive');
    return b;
  }

  it('a UDP subscriber of node A is called by node B itself, from its public socket, without A’s Path', () => {
    const a = nodeA();
    register(a, FROM_CLIENT_UDP);
    const b = nodeBWithADead();
    replicate(a, b);
    const out = b.request(mediaServerInvite('alice', NODE_B), FROM_MEDIA_UDP);
    expect(out.end).toBe('exit');
    expect(out.relays).toHaveLength(1);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: CLIENT, port: 32000 });
    expect(out.relay?.socket.name).toBe('public_socket');
    // Neither the dead node's private socket (a Route from the path vector) nor a media server's preloaded Route.
    expect(headerValues(out.relay!.message, 'Route')).toEqual([]);
    expect(out.relay!.message).not.toContain(`${NODE_A}:5070`);
    // As for a contact node B holds: anchored in B's rtpengine, record-routed by B, failures handled.
    expect(out.rtpengine.map((c) => c.flags)).toEqual([OFFER_TO_CLIENT]);
    expect(headerValues(out.relay!.message, 'Record-Route')[0]).toContain(`${PUBLIC_IP}:5060`);
    expect(out.callbacks.failure).not.toBeNull();
    // The static branch is left empty for the next message of this worker.
    expect(b.request(mediaServerInvite('nobody', NODE_B), FROM_MEDIA_UDP).reply?.code).toBe(404);
  });

  it('a TCP subscriber of node A gets 480 at once: the connection died with A, and no node may open one', () => {
    const a = nodeA();
    register(a, FROM_CLIENT_TCP);
    const b = nodeBWithADead();
    replicate(a, b);
    const out = b.request(mediaServerInvite('alice', NODE_B), FROM_MEDIA_UDP);
    expect(out.replies.map((r) => `${r.code} ${r.reason}`)).toEqual(['480 Temporarily Unavailable']);
    expect(out.relays).toEqual([]);
    expect(out.rtpengine).toEqual([]);
  });

  it('a WebSocket subscriber of node A gets 480 too', () => {
    const a = nodeA();
    register(a, { proto: 'wss', source: `${CLIENT}:50123`, socket: 'public_webrtc_socket' }, { contact: '<sip:abc123@df7jal23ls0d.invalid;transport=ws>' });
    const b = nodeBWithADead();
    replicate(a, b);
    expect(b.request(mediaServerInvite('alice', NODE_B), FROM_MEDIA_UDP).reply?.code).toBe(480);
  });

  it('a binding whose Path to node A names no client address gets 480: there is nowhere else to send it', () => {
    const a = nodeA();
    register(a, FROM_CLIENT_UDP);
    const b = nodeBWithADead();
    for (const binding of a.location.lookup('alice')) b.location.upsert({ ...binding, path: `<sip:${NODE_A}:5070;lr>` });
    const out = b.request(mediaServerInvite('alice', NODE_B), FROM_MEDIA_UDP);
    expect(out.reply?.code).toBe(480);
    expect(out.relays).toEqual([]);
  });

  it('once probing marks node A active again, its subscribers are handed to it as before', () => {
    const a = nodeA();
    register(a, FROM_CLIENT_UDP);
    const b = nodeBWithADead();
    replicate(a, b);
    b.dispatcher.setState(`sip:${NODE_A}:5070`, 'active');
    const out = b.request(mediaServerInvite('alice', NODE_B), FROM_MEDIA_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: NODE_A, port: 5070 });
  });
});

describe('node A dies before probing notices: the hand-over times out and the call goes on without A', () => {
  /** A call for alice handed from node B to node A, whose binding (over `transport`) B has from A. */
  function handedOver(transport: TransportSpec): { b: Kamailio; invite: string; out: ReturnType<Kamailio['request']> } {
    const a = nodeA();
    register(a, transport);
    const b = nodeB();
    replicate(a, b);
    const invite = mediaServerInvite('alice', NODE_B);
    const out = b.request(invite, FROM_MEDIA_UDP);
    expect(out.relay?.destination).toEqual({ proto: 'udp', host: NODE_A, port: 5070 });
    return { b, invite, out };
  }
  const stateOfA = (b: Kamailio): string | undefined => b.dispatcher.find(`sip:${NODE_A}:5070`)?.state;

  it('no answer at all from node A within fr_timer: A is marked inactive and node B calls the UDP contact itself', () => {
    const { b, out } = handedOver(FROM_CLIENT_UDP);
    const result = b.timeout(out);
    expect(stateOfA(b)).toBe('inactive');
    expect(result.relays).toHaveLength(1);
    const retry = result.relays[0]!;
    expect(retry.destination).toEqual({ proto: 'udp', host: CLIENT, port: 32000 });
    expect(retry.socket.name).toBe('public_socket');
    expect(headerValues(retry.message, 'Route')).toEqual([]);
    expect(retry.message).not.toContain(`${NODE_A}:5070`);
    expect(headerValues(retry.message, 'Record-Route')[0]).toContain(`${PUBLIC_IP}:5060`);
    expect(result.rtpengine.map((c) => c.flags)).toEqual([OFFER_TO_CLIENT]);
    expect(result.forwarded).toBeUndefined();
    // The next call does not wait for A: it goes to the client at once.
    expect(b.request(mediaServerInvite('alice', NODE_B), FROM_MEDIA_UDP).relay?.destination).toEqual({ proto: 'udp', host: CLIENT, port: 32000 });
  });

  it('a TCP contact of the silent node A gets 480 instead of 408, and A is marked inactive', () => {
    const { b, out } = handedOver(FROM_CLIENT_TCP);
    const result = b.timeout(out);
    expect(result.forwarded).toMatchObject({ code: 480, reason: 'Temporarily Unavailable' });
    expect(result.relays).toEqual([]);
    expect(stateOfA(b)).toBe('inactive');
  });

  it('node A answered 100 Trying and then nothing: A is alive (its client is slow), the 408 goes back and A stays active', () => {
    const { b, out } = handedOver(FROM_CLIENT_UDP);
    b.replyFromUpstream(out, 100);
    const result = b.timeout(out);
    expect(result.relays).toEqual([]);
    expect(result.forwarded?.code).toBe(408);
    expect(stateOfA(b)).toBe('active');
  });

  it('a final answer from node A (its client is busy) goes back as it is', () => {
    const { b, out } = handedOver(FROM_CLIENT_UDP);
    const result = b.replyFromUpstream(out, 486);
    expect(result.forwarded?.code).toBe(486);
    expect(result.relays).toEqual([]);
    expect(stateOfA(b)).toBe('active');
  });

  it('a call the media server cancelled is not retried', () => {
    const { b, invite, out } = handedOver(FROM_CLIENT_UDP);
    const cancel = invite.replace(/^INVITE /, 'CANCEL ').replace(/CSeq: (\d+) INVITE/, 'CSeq: $1 CANCEL').replace(/\r\nContent-Type[^]*$/, '\r\nContent-Length: 0\r\n\r\n');
    b.request(cancel, FROM_MEDIA_UDP);
    const result = b.timeout(out);
    expect(result.relays).toEqual([]);
    expect(stateOfA(b)).toBe('active');
  });
});

describe('an in-dialog request a media server sends to the other node follows the route set to the owning node', () => {
  /** The media server's route set for a call node A record-routed (double RR: its private socket, then its public one). */
  const ROUTE_SET_OF_A: Array<[string, string]> = [
    ['Route', `<sip:${NODE_A}:5070;r2=on;lr>`],
    ['Route', `<sip:${PUBLIC_IP}:5060;transport=tcp;r2=on;lr>`],
  ];
  /** alice's Contact as node A passed it on in her 200 (add_contact_alias). */
  const ALICE_TARGET = `sip:alice@192.168.1.20:5060;transport=tcp;alias=${CLIENT}~41000~2`;

  function inDialog(method: 'ACK' | 'BYE', source: string, routes = ROUTE_SET_OF_A): string {
    return sipRequest({ method, ruri: ALICE_TARGET, source, from: '<sip:1000@10.0.0.21>', toTag: 'alice-tag', cseq: method === 'ACK' ? 1 : 2, headers: routes });
  }

  it('node B forwards the ACK and the BYE to node A’s private socket from its own, Route set intact, out of the media', () => {
    for (const method of ['ACK', 'BYE'] as const) {
      const out = nodeB().request(inDialog(method, '10.0.0.21:5080'), FROM_MEDIA_UDP);
      expect(out.end, method).toBe('exit');
      expect(out.relay?.destination, method).toEqual({ proto: 'udp', host: NODE_A, port: 5070 });
      expect(out.relay?.socket.name, method).toBe('private_socket');
      // Not the client's address from the R-URI's alias: her connection is on node A.
      expect(out.relay?.ruri, method).toBe(ALICE_TARGET);
      expect(headerValues(out.relay!.message, 'Route'), method).toEqual(ROUTE_SET_OF_A.map(([, v]) => v));
      expect(headerValues(out.relay!.message, 'Record-Route'), method).toEqual([]);
      expect(out.rtpengine, method).toEqual([]);
    }
  });

  it('node A takes the forwarded BYE from node B like the media server’s own: down alice’s connection, never a new one', () => {
    const a = nodeA();
    register(a, FROM_CLIENT_TCP);
    const out = a.request(inDialog('BYE', `${NODE_B}:5070`), FROM_NODE_B);
    expect(out.relay?.destination).toEqual({ proto: 'tcp', host: CLIENT, port: 41000 });
    expect(out.relay?.socket.name).toBe('public_tcp_socket');
    expect(out.relay?.noConnect).toBe(true);
    expect(headerValues(out.relay!.message, 'Route')).toEqual([]);
    expect(out.flags).toContain(FLAG.fromSwitch);
  });

  it('a next hop that is this node’s own private socket (it is in set 2 too) is not forwarded to itself: 404', () => {
    const out = nodeB().request(
      sipRequest({ method: 'BYE', ruri: `sip:alice@${NODE_B}:5070`, source: '10.0.0.21:5080', toTag: 'alice-tag', headers: [['Route', `<sip:${NODE_B}:5070;lr>`]] }),
      FROM_MEDIA_UDP,
    );
    expect(out.replies.map((r) => `${r.code} ${r.reason}`)).toEqual(['404 Not here']);
    expect(out.relays).toEqual([]);
  });
});

describe('the peers do not open a relay', () => {
  it('a client’s in-dialog request routed to a peer node’s private port is refused', () => {
    const b = nodeB();
    const bye = clientRequest(b, {
      method: 'BYE',
      ruri: 'sip:1000@10.0.0.21:5080',
      toTag: 'ms-tag',
      headers: [['Route', `<sip:${PUBLIC_IP}:5060;r2=on;lr>`], ['Route', `<sip:${NODE_B}:5070;r2=on;lr>`], ['Route', `<sip:${NODE_A}:5070;lr>`]],
    });
    const out = b.request(bye, FROM_CLIENT_UDP);
    expect(out.replies.map((r) => r.code)).toEqual([403]);
    expect(out.relays).toEqual([]);
  });

  it('a client cannot pass for a peer on the private port', () => {
    const out = nodeA().request(
      sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, source: `${CLIENT}:5070`, body: OFFER_SDP, headers: [['Route', PATH_OF_A]] }),
      { proto: 'udp', source: `${CLIENT}:5070`, socket: 'private_socket' },
    );
    expect(out.replies.map((r) => r.code)).toEqual([403]);
    expect(out.relays).toEqual([]);
  });

  it('a peer’s own source port matters: node B’s address from another port is no peer', () => {
    const out = nodeA().request(
      sipRequest({ method: 'INVITE', ruri: `sip:alice@${DOMAIN}`, source: `${NODE_B}:40000`, body: OFFER_SDP, headers: [['Route', PATH_OF_A]] }),
      { proto: 'udp', source: `${NODE_B}:40000`, socket: 'private_socket' },
    );
    expect(out.replies.map((r) => r.code)).toEqual([403]);
  });

  it('node B’s keepalive probe of node A is answered (dispatcher pings its peers)', () => {
    const out = nodeA().request(sipRequest({ method: 'OPTIONS', ruri: `sip:${NODE_A}:5070`, source: `${NODE_B}:5070`, body: '' }), FROM_NODE_B);
    expect(out.reply?.code).toBe(200);
  });
});
