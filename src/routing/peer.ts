/**
 * Calls handed between nodes (README "More than one node"). A contact carries
 * a Path to the node that took its REGISTER, the one holding the client's
 * TCP/TLS/WebSocket connection or the NAT flow of its UDP (path.ts). A node
 * whose lookup() lands on another node's Path hands the call over to that
 * node; the owning node takes it on its private port and sends it to the
 * client: down its connection, or from its public UDP socket.
 *
 * The peers are dispatcher set 2 ("trusted peers"), each listed as its
 * private socket sip:LOCAL_IP:PRIVATE_PORT. ds_is_from_list(2) matches the
 * source address and port (any protocol), so peers talk over UDP: a UDP
 * request leaves from the private socket's own port, a TCP one from an
 * ephemeral port that would match no entry.
 */
import * as core from '../ksr/generated/core';
import * as corex from '../ksr/generated/corex';
import * as dispatcher from '../ksr/generated/dispatcher';
import * as hdr from '../ksr/generated/hdr';
import * as kx from '../ksr/generated/kx';
import * as pv from '../ksr/generated/pv';
import * as pvx from '../ksr/generated/pvx';
import * as rr from '../ksr/generated/rr';
import * as sl from '../ksr/generated/sl';
import * as tm from '../ksr/generated/tm';
import { exit } from '../ksr';
import { ON_HANDOVER_FAILURE } from './callbacks';
import { DISPATCHER, DS_MATCH, HANDOVER_PEER_AVP, SOCKET } from './config';
import { readRequest, receivedOnPrivatePort } from './message';
import { hasIpLiteralHost, hostUri, nextHop } from './nexthop';
import { protoOf } from './proto';
import { route_relay } from './relay';

/**
 * The owning node: a call a peer handed over carries our Path entry as its
 * Route. loose_route() consumes it and (path use_received) sets $du to the
 * client's received address from it; the call then goes to the client like
 * one from a media server, anchored in this node's rtpengine and
 * record-routed by this node, down the existing connection (route_relay
 * forbids a new one) or to the UDP client's NAT binding. Returns for
 * anything else (no Route, or not from a peer): that is looked up as usual.
 */
export function route_from_peer(): void {
  if (!kx.ifdef('WITH_DMQ') || !hdr.is_present('Route') || !isFromPeer()) return;
  // A peer's Route is our Path entry, nothing else: a Route elsewhere, or one
  // of ours without the client's address, is not followed.
  // loose_route_preloaded(): loose_route() on an initial request, true when
  // it took the Route (loose_route() itself answers -3, "preloaded", then).
  if (!rr.loose_route_preloaded() || !rr.check_route_param('received=')) {
    sl.sl_send_reply(403, 'Forbidden');
    exit();
  }
  route_relay(true, true);
}

/**
 * Another node: lookup() chose a contact whose Path names a peer, so $du is
 * that peer's private socket and tm adds the Path as Route. Relayed as it
 * is, from our private UDP socket: no Record-Route, no rtpengine, no reply
 * callback; only a failure route for a peer that does not answer at all
 * (ksr_failure_handover). The owning node anchors the media, record-routes
 * the dialog for both the media server and the client, and answers for the
 * client; this
 * node stays in the INVITE transaction only (the replies come back through
 * it by Via). So in-dialog requests go straight between the media server and
 * the owning node, and a client's Route never has to lead to a peer (the
 * open-relay check in dialog.ts stays: a client's dialogs are with media
 * servers only).
 */
export function route_handover(hop: string): never {
  corex.set_send_socket_name(SOCKET.privateUdp);
  // A Route the media server preloaded; the Path is added by tm from the
  // lookup's path vector, not as a header of this message.
  hdr.remove('Route');
  pv.sets(HANDOVER_PEER_AVP, hop);
  tm.t_on_failure(ON_HANDOVER_FAILURE);
  tm.t_relay();
  return exit();
}

/**
 * An in-dialog request from a media server (or a peer) whose route set leads
 * to a peer: the owning node record-routed the dialog, and a media server
 * that sends its ACK or BYE to the node it called (SIPp does, whatever the
 * route set) reaches this one. loose_route() left the owning node's Route
 * entries in place and set $du to the first, its private socket; the
 * request is forwarded there as a proxy forwards by loose routing (RFC 3261
 * 16.12), from our private UDP socket, so the peer knows it by source
 * address and port (set 2) and handles it like the media server's own: no
 * rtpengine and no Record-Route here, the owning node anchors the call.
 * Not for our own address (a route set looping back to us; DIALOG answers
 * 404), and never for a client: a client's Route to a peer stays 403.
 * Returns for anything else.
 */
export function route_in_dialog_to_peer(): void {
  if (!kx.ifdef('WITH_DMQ')) return;
  const hop = nextHop();
  if (!isPeer(hop) || core.is_myself(hostUri(hop))) return;
  corex.set_send_socket_name(SOCKET.privateUdp);
  tm.t_relay();
  exit();
}

/**
 * failure_route[HANDOVER_FAILURE]: the peer a call was handed to sent
 * nothing back, not even the 100 Trying a living node sends at once, for
 * fr_timer (5 s): it died before probing noticed (up to ~15 s, see
 * route_past_dead_peer). Without this the call would fail with tm's 408;
 * instead the peer is marked inactive, so the calls that follow go past it
 * at once, and this one goes on as route_past_dead_peer sends it. Any reply
 * from the peer (its client's 486, a 408 its own timer made) goes back as
 * it is, and so does a cancelled call.
 */
export function ksr_failure_handover(): void {
  if (tm.t_is_canceled() || tm.t_get_status_code() !== 408 || tm.t_branch_replied()) return;
  const peer = String(pv.get(HANDOVER_PEER_AVP));
  markInactive(peer);
  // A failure route runs for the request, often in tm's timer process: what
  // route_relay reads about it is read again here.
  readRequest();
  route_past_dead_peer(peer, true);
}

/**
 * Marks the peer inactive (and probing: its next answer to dispatcher's
 * OPTIONS makes it active again). ds_mark_dst_state() marks the destination
 * $xavp(_dsdst_[0]) names, which ds_select_dst() fills; a hand-over's peer
 * came from lookup(), so the routing names it there: its group, and its URI
 * as dispatcher.list writes it (sip:LOCAL_IP:PRIVATE_PORT, README "More than
 * one node"; ds_update_state compares the URI as a string). `$xavp(x=>k)`
 * adds a new x[0], `$xavp(x[0]=>k)` a field to it (pv_set_xavp).
 */
function markInactive(peer: string): void {
  pv.sets('$xavp(_dsdst_=>uri)', peer.replace(/;.*$/, ''));
  pv.seti('$xavp(_dsdst_[0]=>grp)', DISPATCHER.trustedPeers);
  dispatcher.ds_mark_dst_state('ip');
}

/**
 * The owning node is dead: lookup() chose a contact whose Path names a peer
 * that dispatcher no longer counts as active. kamailio.cfg probes set 2 like
 * set 1 (ds_probing_mode 1): an OPTIONS every ds_ping_interval (10 s), and
 * one left unanswered for fr_timer (5 s) marks the peer inactive
 * (ds_probing_threshold 1), so within about 15 s of its death; its first
 * answer marks it active again. Handing the call to it would only end in
 * 408 after fr_timer.
 *
 * - A UDP contact is called by this node itself, at the received address the
 *   Path carries, from its public UDP socket, like a contact it holds: the
 *   replicated binding is all it needs. A balancer whose UDP DNAT/SNAT is
 *   stateless (the scale-out stack's) sends every node's packets out as
 *   PUBLIC_IP:SIP_PORT, the address and port the client's NAT binding
 *   knows. The client answers to PUBLIC_IP:SIP_PORT (our Via), which the
 *   balancer hashes to a living node: this one when only two nodes are
 *   left; with more, another node may get the answers and drop them (a
 *   reply of no transaction of its own, reply.ts) unless the balancer keeps
 *   the client's flow on the node that sent to it. Behind a stateful NAT (README "More
 *   than one node") the INVITE leaves from another port, and a strict home
 *   NAT drops it: the call then fails after fr_timer, as the hand-over would
 *   have, and the client's next REGISTER (through a living node) repairs it.
 * - A TCP, TLS or WebSocket contact gets 480 Temporarily Unavailable: its
 *   connection ended with the node, and no other node can open one through
 *   the client's NAT (set_forward_no_connect). Its client notices the closed
 *   connection and registers again through the balancer with a living node,
 *   whose Path then replaces this binding; until then no call can reach it,
 *   and 480 says so at once (the media server can try again or divert).
 *   The same for a Path without a received address (none this routing
 *   writes has none): there is nowhere to send it.
 */
export function route_past_dead_peer(hop: string, inFailureRoute = false): never {
  const received = receivedOf(hop);
  if (received === null || protoOf(received) !== 'udp') {
    // Statefully, so the media server's retransmissions are absorbed (a
    // failure route has its transaction already).
    if (!inFailureRoute) tm.t_newtran();
    tm.t_reply(480, 'Temporarily Unavailable');
    return exit();
  }
  dropPath(received);
  // In the failure route the hand-over already removed a preloaded Route
  // (its lumps are the failed request's): not twice.
  route_relay(true, inFailureRoute);
  return exit();
}

/**
 * Forgets lookup()'s Path: the next hop becomes `destination`, and the path
 * vector, which tm would still send as a Route naming the dead node's
 * private socket, is cleared. No KEMI function resets the path vector
 * alone; pv's static branch does (sbranch_set_ruri: core set_path_vector
 * with the static branch's empty path resets it), setting the R-URI and $du
 * from the branch. The static branch is per process and outlives the
 * message, so it is emptied before and after.
 */
function dropPath(destination: string): void {
  pvx.sbranch_reset();
  pv.sets('$sbranch(uri)', String(kx.get_ruri()));
  pv.sets('$sbranch(dst_uri)', destination);
  pvx.sbranch_set_ruri();
  pvx.sbranch_reset();
}

/** The received parameter of a Path entry, unescaped as path.ts escapes it. */
function receivedOf(hop: string): string | null {
  const match = /;received=([^;>]+)/.exec(hop);
  return match === null ? null : match[1]!.replace(/%3B/gi, ';').replace(/%3D/gi, '=');
}

/** A peer's private socket (isPeer) that dispatcher has not marked inactive
 * or disabled: by probing, by a hand-over it never answered
 * (ksr_failure_handover), or by dispatcher.set_state over RPC. */
export function isActivePeer(hop: string): boolean {
  return dispatcher.ds_is_from_list_uri(DISPATCHER.trustedPeers, DS_MATCH.ignoreProto | DS_MATCH.activeOnly, hop);
}

/** The next hop (a URI) is a peer node's private socket (set 2, address and
 * port). Callers ask only with WITH_DMQ: one node has no peers. */
export function isPeer(hop: string): boolean {
  return hasIpLiteralHost(hop) && dispatcher.ds_is_from_list_uri(DISPATCHER.trustedPeers, DS_MATCH.ignoreProto, hop);
}

function isFromPeer(): boolean {
  return receivedOnPrivatePort && dispatcher.ds_is_from_list(DISPATCHER.trustedPeers);
}
