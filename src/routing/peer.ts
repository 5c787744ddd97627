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
import * as corex from '../ksr/generated/corex';
import * as dispatcher from '../ksr/generated/dispatcher';
import * as hdr from '../ksr/generated/hdr';
import * as kx from '../ksr/generated/kx';
import * as rr from '../ksr/generated/rr';
import * as sl from '../ksr/generated/sl';
import * as tm from '../ksr/generated/tm';
import { exit } from '../ksr';
import { DISPATCHER, DS_MATCH, SOCKET } from './config';
import { receivedOnPrivatePort } from './message';
import { IP_LITERAL_HOST } from './nexthop';
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
 * is, from our private UDP socket: no Record-Route, no rtpengine, no
 * callbacks. The owning node anchors the media, record-routes the dialog for
 * both the media server and the client, and answers for the client; this
 * node stays in the INVITE transaction only (the replies come back through
 * it by Via). So in-dialog requests go straight between the media server and
 * the owning node, and a client's Route never has to lead to a peer (the
 * open-relay check in dialog.ts stays: a client's dialogs are with media
 * servers only).
 */
export function route_handover(): never {
  corex.set_send_socket_name(SOCKET.privateUdp);
  // A Route the media server preloaded; the Path is added by tm from the
  // lookup's path vector, not as a header of this message.
  hdr.remove('Route');
  tm.t_relay();
  return exit();
}

/** The next hop (a URI) is a peer node's private socket (set 2, address and port). */
export function isPeer(hop: string): boolean {
  return kx.ifdef('WITH_DMQ') && IP_LITERAL_HOST.test(hop) && dispatcher.ds_is_from_list_uri(DISPATCHER.trustedPeers, DS_MATCH.ignoreProto, hop);
}

function isFromPeer(): boolean {
  return receivedOnPrivatePort && dispatcher.ds_is_from_list(DISPATCHER.trustedPeers);
}
