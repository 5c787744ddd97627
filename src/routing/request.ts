/**
 * request_route{}: the order of the article's config. Every block either
 * returns to let the next one look at the request or ends routing itself.
 */
import * as core from '../ksr/generated/core';
import * as siputils from '../ksr/generated/siputils';
import * as sl from '../ksr/generated/sl';
import * as tm from '../ksr/generated/tm';
import * as tmx from '../ksr/generated/tmx';
import { exit } from '../ksr';
import { route_dialog } from './dialog';
import { route_dispatch } from './dispatch';
import { route_dmq } from './dmq';
import { route_location } from './location';
import { route_natdetect } from './natdetect';
import { route_auth } from './auth';
import { route_registrar } from './registrar';
import { route_relay } from './relay';
import { route_reqinit } from './reqinit';
import { readRequest, requestMethod } from './message';
import { isFromMediaServer } from './source';

export function ksr_request_route(): void {
  readRequest();
  route_dmq();
  const fromMediaServer = isFromMediaServer();
  route_reqinit(fromMediaServer);
  route_natdetect(fromMediaServer);
  route_cancel();
  route_retransmission();
  route_dialog(fromMediaServer);
  if (fromMediaServer) {
    route_location();
  } else {
    route_from_client();
  }
}

/** CANCEL is relayed along its INVITE's transaction, or answered by tm. */
function route_cancel(): void {
  if (requestMethod !== 'CANCEL') return;
  if (tm.t_check_trans() > 0) {
    route_relay(!siputils.has_totag());
  }
  exit();
}

/** A retransmission is absorbed by tm: t_check_trans() resends the last
 * reply of a known transaction, and t_precheck_trans() catches a copy another
 * worker is still processing (no transaction exists yet to match it). */
function route_retransmission(): void {
  if (requestMethod === 'ACK') return;
  const inProcessElsewhere = tmx.t_precheck_trans();
  if (tm.t_check_trans() === 0 || inProcessElsewhere) {
    exit();
  }
}

/** Initial requests from the public side: only for our domain, only from
 * authenticated subscribers, and only toward the media servers. */
function route_from_client(): void {
  if (!core.is_myself_ruri()) {
    sl.sl_send_reply(403, 'Relaying Forbidden');
    exit();
  }
  route_registrar();
  route_auth();
  route_dispatch();
}
