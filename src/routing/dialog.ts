/**
 * route[DIALOG] of the article: marks the direction of every request, relays
 * in-dialog requests along the Record-Route set, and absorbs stray ACKs.
 */
import * as core from '../ksr/generated/core';
import * as nathelper from '../ksr/generated/nathelper';
import * as rr from '../ksr/generated/rr';
import * as siputils from '../ksr/generated/siputils';
import * as sl from '../ksr/generated/sl';
import * as tm from '../ksr/generated/tm';
import { exit } from '../ksr';
import { FLAG } from './config';
import { hostUri, nextHop, nextHopIsMediaServer } from './nexthop';
import { destinationProto, isMediaServerTransport } from './proto';
import { requestMethod } from './message';
import { route_in_dialog_to_peer } from './peer';
import { route_relay } from './relay';

export function route_dialog(fromMediaServer: boolean): void {
  // The article's tswitch/fswitch: from a client the request goes TO the
  // switch (media server); from a media server it goes to a client.
  core.setflag(fromMediaServer ? FLAG.fromSwitch : FLAG.toSwitch);
  if (!fromMediaServer && core.is_WSX()) {
    core.setflag(FLAG.webrtcClient);
  }
  if (!siputils.has_totag()) {
    route_outside_dialog();
    return;
  }
  if (rr.loose_route()) {
    // The next hop once for both checks (two KSR calls, not four).
    const hop = fromMediaServer ? '' : nextHop();
    if (!fromMediaServer && !(nextHopIsMediaServer(hop) && isMediaServerTransport(destinationProto(hop)))) {
      // A client's dialogs are all with media servers, over UDP or TCP: a
      // Route that leads elsewhere is forged, and following it would make us
      // an open relay (or dial a media server from the public TLS socket).
      sl.sl_send_reply(403, 'Forbidden');
      exit();
    }
    if (fromMediaServer) {
      // Before handle_ruri_alias: the alias names the client, whose
      // connection or NAT flow is the peer's, and it would replace the peer.
      route_in_dialog_to_peer();
      // Toward a client behind NAT: its Contact carries ;alias=ip~port~proto.
      nathelper.handle_ruri_alias();
      if (core.is_myself(hostUri(nextHop()))) {
        // A remote target that is this proxy (a client's Contact naming us,
        // or rr's strict-routing recovery): relaying would loop. Any port and
        // transport of our addresses counts, not only sockets we listen on:
        // PUBLIC_IP:7777 over UDP is no socket here but still leads back to us.
        sl.sl_send_reply(404, 'Not here');
        exit();
      }
    }
    route_relay(false);
  }
  if (requestMethod === 'ACK') {
    absorbAck();
  }
  sl.sl_send_reply(404, 'Not here');
  exit();
}

/** ACK and PRACK belong to a dialog. auth_check lets both through without
 * credentials (auth's pre_auth: they cannot be challenged), so without a To
 * tag they would reach a media server unauthenticated: they end here. */
function route_outside_dialog(): void {
  if (requestMethod === 'ACK') {
    absorbAck();
  }
  if (requestMethod === 'PRACK') {
    sl.sl_send_reply(481, 'Call/Transaction Does Not Exist');
    exit();
  }
}

/** The article relays an ACK that t_check_trans() matches. With the modules
 * this cfg loads it never matches: tm treats a 2xx ACK as end-to-end only
 * for modules with e2e-ACK callbacks (acc, ...), so it returns 0 for an ACK
 * to a negative reply (absorbed by tm) and -1 for a stray one. Both end here,
 * unanswered as SIP wants. */
function absorbAck(): never {
  tm.t_check_trans();
  exit();
}
