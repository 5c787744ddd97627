/**
 * route[LOCATION]: a media server's call for a local subscriber goes to the
 * contact the subscriber registered.
 */
import * as auth_db from '../ksr/generated/auth_db';
import * as kx from '../ksr/generated/kx';
import * as registrar from '../ksr/generated/registrar';
import * as sl from '../ksr/generated/sl';
import * as tm from '../ksr/generated/tm';
import { exit } from '../ksr';
import { LOCATION_TABLE, SUBSCRIBER_TABLE } from './config';
import { nextHop } from './nexthop';
import { isActivePeer, isPeer, route_from_peer, route_handover, route_past_dead_peer } from './peer';
import { route_relay } from './relay';

export function route_location(): void {
  route_from_peer();
  const found = registrar.lookup(LOCATION_TABLE);
  if (found === -2) {
    sl.sl_send_reply(405, 'Method Not Allowed');
    exit();
  }
  if (found !== 1) {
    // Statefully, so the media server's retransmissions are absorbed.
    tm.t_newtran();
    if (isSubscriber()) {
      tm.t_reply(480, 'Temporarily Unavailable');
    } else {
      tm.t_reply(404, 'Not Found');
    }
    exit();
  }
  if (kx.ifdef('WITH_DMQ')) {
    const hop = nextHop();
    if (isPeer(hop)) {
      // The contact's Path: another node took its REGISTER and holds its
      // connection, or the NAT flow its UDP is pinned to.
      if (isActivePeer(hop)) route_handover(hop);
      route_past_dead_peer(hop);
    }
  }
  route_relay(true);
}

/** is_subscriber flag 2: only check that the row exists, load no credentials. */
const EXISTENCE_ONLY = 2;

function isSubscriber(): boolean {
  return auth_db.is_subscriber(String(kx.get_ruri()), SUBSCRIBER_TABLE, EXISTENCE_ONLY);
}
