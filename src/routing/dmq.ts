/**
 * KDMQ: the requests Kamailio's DMQ bus sends between the nodes that share
 * registrations (README "More than one node"; kamailio.cfg WITH_DMQ, on when
 * DMQ_NOTIFICATION_ADDRESS is set). dmq handles them itself (node list,
 * dmq_usrloc contacts) and answers from its worker. The peers talk over the
 * private network, so a KDMQ request is taken on the private port only:
 * on the public ports anyone could inject contacts, and gets 403. Without
 * WITH_DMQ the dmq module is not loaded and KDMQ is a method like any other.
 */
import * as dmq from '../ksr/generated/dmq';
import * as kx from '../ksr/generated/kx';
import * as sl from '../ksr/generated/sl';
import { exit } from '../ksr';
import { receivedOnPrivatePort, requestMethod } from './message';

export function route_dmq(): void {
  if (requestMethod !== 'KDMQ' || !kx.ifdef('WITH_DMQ')) return;
  if (receivedOnPrivatePort) {
    dmq.handle_message();
  } else {
    sl.sl_send_reply(403, 'Forbidden');
  }
  exit();
}
