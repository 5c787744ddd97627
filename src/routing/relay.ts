/**
 * route[RELAY]: picks the socket the request leaves from, anchors the media
 * in rtpengine with the flags of its direction (an offer it cannot anchor is
 * refused), arms the reply and failure callbacks, and relays statefully.
 */
import * as core from '../ksr/generated/core';
import * as corex from '../ksr/generated/corex';
import * as hdr from '../ksr/generated/hdr';
import * as pv from '../ksr/generated/pv';
import * as rr from '../ksr/generated/rr';
import * as rtpengine from '../ksr/generated/rtpengine';
import * as sl from '../ksr/generated/sl';
import * as textops from '../ksr/generated/textops';
import * as tm from '../ksr/generated/tm';
import { exit } from '../ksr';
import { ON_CALL_FAILURE, ON_MEDIA_REPLY } from './callbacks';
import { FLAG, RTPENGINE_NODE_AVP, SOCKET } from './config';
import { requestMethod } from './message';
import { nextHop, nextHopIsMediaServer } from './nexthop';
import { OFFER_TO_CLIENT, OFFER_TO_MEDIA_SERVER, OFFER_TO_WEBRTC_CLIENT } from './media';
import { destinationProto, isWebSocket, type Proto } from './proto';

/** `initial`: the request has no To tag (its caller knows: DIALOG relays only
 * in-dialog requests, DISPATCH and LOCATION only initial ones).
 * `routeConsumed`: loose_route() already took the request's Route (a call a
 * peer node handed over, peer.ts); removing it again would delete the same
 * header twice. */
export function route_relay(initial: boolean, routeConsumed = false): void {
  const toMediaServer = core.isflagset(FLAG.toSwitch);
  const hop = nextHop();
  const proto = destinationProto(hop);
  // In-dialog requests too: loose_route() forces the socket our second
  // Route entry names, which a forged route set chooses (or leaves unset).
  // The side is the destination's: a media server may address another one.
  setSendSocket(toMediaServer || nextHopIsMediaServer(hop), proto);
  if (initial) {
    // The next hop is ours to choose: a Route its sender preloaded (a phone's
    // outbound proxy, a forged one) would steer or confuse the next hop, and
    // one a media server preloads would show LOCAL_IP to the client.
    if (!routeConsumed) hdr.remove('Route');
    if (requestMethod === 'INVITE' || requestMethod === 'SUBSCRIBE') {
      rr.record_route();
    }
  }
  if (!toMediaServer && proto !== 'udp') {
    // A client is reached over the connection it opened, never a new one.
    core.set_forward_no_connect();
    if (isWebSocket(proto)) core.setflag(FLAG.webrtcClient);
  }
  if (textops.has_body_type('application/sdp') || requestMethod === 'BYE' || requestMethod === 'CANCEL') {
    const anchored = rtpengine.rtpengine_manage(toMediaServer ? OFFER_TO_MEDIA_SERVER : isWebSocket(proto) ? OFFER_TO_WEBRTC_CLIENT : OFFER_TO_CLIENT);
    // INVITE and UPDATE carry offers; a BYE or CANCEL ends the call anyway,
    // and an answer in an ACK cannot be refused.
    if (!anchored && (requestMethod === 'INVITE' || requestMethod === 'UPDATE')) {
      refuseUnanchoredOffer();
    }
  }
  if (requestMethod === 'INVITE' || requestMethod === 'UPDATE') {
    // INVITE and UPDATE answers carry SDP that rtpengine must rewrite.
    tm.t_on_reply(ON_MEDIA_REPLY);
  }
  if (initial && requestMethod === 'INVITE') {
    tm.t_on_failure(ON_CALL_FAILURE);
  }
  // When t_relay fails (an unresolvable destination), tm answers the request
  // itself after the route (478/500); a reply from here would be a second one.
  tm.t_relay();
  exit();
}

/**
 * rtpengine did not anchor an offer. Relayed anyway, it would carry the
 * client's own (private, NATed) addresses to the media server and the media
 * server's LOCAL_IP to a client on the internet: a call that rings and
 * connects with no audio either way. So it is refused, clearly:
 * - 488 when rtpengine answered: it refused this SDP, or Kamailio could not
 *   parse the body as SDP at all (rtpengine_manage then asks no one);
 * - 503 when no rtpengine answered: stopped, not listening, silent for
 *   rtpengine_tout_ms x rtpengine_retr, or disabled for
 *   rtpengine_disable_tout after such a failure (kamailio.cfg). The caller
 *   may try again later; the media server, calling a client, fails over.
 * Which one: a query (rtp_inst_pvar is set by any answer, an unknown call's
 * error included), which costs nothing while the node is disabled.
 */
function refuseUnanchoredOffer(): never {
  rtpengine.rtpengine_query0();
  if (pv.is_null(RTPENGINE_NODE_AVP)) {
    core.err('rtpengine: no rtpengine answered, offer refused with 503\n');
    sl.sl_send_reply(503, 'Media Relay Unavailable');
  } else {
    sl.sl_send_reply(488, 'Not Acceptable Here');
  }
  return exit();
}

/** The article's socket choice: private toward media servers, public toward
 * clients, each of the destination's transport. */
export function setSendSocket(toMediaServer: boolean, proto: Proto = destinationProto()): void {
  corex.set_send_socket_name(toMediaServer ? privateSocket(proto) : publicSocket(proto));
}

function privateSocket(proto: Proto): string {
  // Media servers are reached over UDP or TCP; anything else is a config error
  // caught by test/routing/config.test.ts against the dispatcher list.
  return proto === 'tcp' ? SOCKET.privateTcp : SOCKET.privateUdp;
}

function publicSocket(proto: Proto): string {
  switch (proto) {
    case 'udp':
      return SOCKET.publicUdp;
    case 'tcp':
      return SOCKET.publicTcp;
    default:
      return SOCKET.publicTls;
  }
}

