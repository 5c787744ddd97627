/**
 * route[DIALOG] of the article: marks the direction of every request, relays
 * in-dialog requests along the Record-Route set, and absorbs stray ACKs.
 */
import * as core from '../ksr/generated/core';
import * as dispatcher from '../ksr/generated/dispatcher';
import * as kx from '../ksr/generated/kx';
import * as nathelper from '../ksr/generated/nathelper';
import * as rr from '../ksr/generated/rr';
import * as siputils from '../ksr/generated/siputils';
import * as sl from '../ksr/generated/sl';
import * as tm from '../ksr/generated/tm';
import { exit } from '../ksr';
import { DISPATCHER, DS_MATCH, FLAG } from './config';
import { route_relay } from './relay';

export function route_dialog(fromMediaServer: boolean): void {
  // The article's tswitch/fswitch: from a client the request goes TO the
  // switch (media server); from a media server it goes to a client.
  core.setflag(fromMediaServer ? FLAG.fromSwitch : FLAG.toSwitch);
  if (!fromMediaServer && core.is_WSX()) {
    core.setflag(FLAG.webrtcClient);
  }
  if (!siputils.has_totag()) {
    return;
  }
  if (rr.loose_route()) {
    if (!fromMediaServer && !nextHopIsMediaServer()) {
      // A client's dialogs are all with media servers: a Route that leads
      // elsewhere is forged, and following it would make us an open relay.
      sl.sl_send_reply(403, 'Forbidden');
      exit();
    }
    if (fromMediaServer) {
      // Toward a client behind NAT: its Contact carries ;alias=ip~port~proto.
      nathelper.handle_ruri_alias();
    }
    route_relay();
  }
  if (core.is_ACK()) {
    // The article relays an ACK that t_check_trans() matches. With the modules
    // this cfg loads it never matches: tm treats a 2xx ACK as end-to-end only
    // for modules with e2e-ACK callbacks (acc, ...), so it returns 0 for an ACK
    // to a negative reply (absorbed by tm) and -1 for a stray one. Both end here.
    tm.t_check_trans();
    exit();
  }
  sl.sl_send_reply(404, 'Not here');
  exit();
}

function nextHopIsMediaServer(): boolean {
  const destination = kx.get_duri();
  const nextHop = destination === null ? kx.get_ruri() : destination;
  return dispatcher.ds_is_from_list_uri(
    DISPATCHER.mediaServers,
    DS_MATCH.ignorePort | DS_MATCH.ignoreProto,
    String(nextHop),
  );
}
