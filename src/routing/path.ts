/**
 * route[PATH]: with more than one node (WITH_DMQ, README "More than one
 * node"), a REGISTER records the node that took it, and so holds the
 * client's connection (TCP, TLS, WebSocket) or the flow the balancer pins
 * the client's UDP to, as a Path the registrar stores with the contact and
 * dmq_usrloc replicates with it:
 *
 *   Path: <sip:LOCAL_IP:PRIVATE_PORT;lr;received=sip:<client ip:port>[%3Btransport%3Dtcp]>
 *
 * Any other node's lookup() then sends calls for that contact to this node's
 * private port (peer.ts hands them over); this node's own lookup() skips the
 * Path (registrar path_check_local) and uses the received address, as with
 * one node.
 *
 * Why the header is written here and applied with msg_apply_changes(): the
 * registrar's save() reads the Path headers of the message as received
 * (registrar/path.c build_path_vector), and every change made in the route is
 * a lump, applied only when the message is sent on. path's add_path*() adds
 * such a lump, and its address is a "send socket" substitution that only a
 * forwarded message fills: msg_apply_changes() builds the message with no
 * send socket (core msg_translator.c sip_msg_apply_changes), so add_path*()
 * would store `<sip:;lr...>`. The registrar takes no Path as a parameter in
 * 5.6 (save() flags and xavp_cfg carry none). So the routing writes the whole
 * header itself, with the private socket's address, and applies it.
 *
 * UDP contacts get a Path too, although every node's traffic leaves through
 * the same PUBLIC_IP:SIP_PORT: a stateful NAT in front of the nodes gives a
 * second node's packets to a client whose flow is pinned to the first node
 * another source port (which the client's own NAT drops), and the client's
 * replies to PUBLIC_IP:SIP_PORT reach the node its flow is pinned to, which
 * has no transaction for them (measured with netfilter SNAT/DNAT: README
 * "More than one node").
 *
 * A Path the client sent is never kept: with registrar use_path, a stored
 * Path steers every call for the contact, and a client could aim the calls a
 * media server makes at any host.
 */
import * as core from '../ksr/generated/core';
import * as hdr from '../ksr/generated/hdr';
import * as kx from '../ksr/generated/kx';
import * as textopsx from '../ksr/generated/textopsx';
import { BRANCH_FLAG } from './config';

/** Prepares the REGISTER for save(); false when the message could not be rewritten. */
export function route_path(): boolean {
  if (!kx.ifdef('WITH_DMQ')) return true;
  hdr.remove('Path');
  hdr.append('Path: <' + ownPathUri() + '>\r\n');
  // No SIP pings: nathelper sends a pinged contact's OPTIONS to the first
  // Path entry (nathelper.c nh_timer), this node's own private port, which
  // refuses them. Without the flag it sends a UDP contact its plain
  // keepalive to the received address instead (and skips TCP/TLS/WS
  // contacts, as it always did); filter_server_id (kamailio.cfg) leaves that
  // to this node, the one the client's NAT binding knows.
  core.resetbflag(BRANCH_FLAG.natSipPing);
  return textopsx.msg_apply_changes();
}

/** This node's private socket, and where its client is: the received
 * address exactly as fix_nated_register stores it (core get_src_uri, which
 * kx.get_srcuri returns), escaped as path's add_path_received() writes it
 * (registrar and path unescape it). */
function ownPathUri(): string {
  return 'sip:' + define('LOCAL_IP') + ':' + define('PRIVATE_PORT') + ';lr;received=' + escapeParam(String(kx.get_srcuri()));
}

function escapeParam(value: string): string {
  return value.replace(/;/g, '%3B').replace(/=/g, '%3D');
}

function define(name: string): string {
  return String(kx.get_def(name));
}
