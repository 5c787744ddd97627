/**
 * route[NATDETECT]: clients are on the public internet, mostly behind NAT.
 * Record where their messages really come from so replies and later requests
 * reach them through the NAT binding or the TCP/WebSocket connection they opened.
 */
import * as core from '../ksr/generated/core';
import * as nathelper from '../ksr/generated/nathelper';
import * as siputils from '../ksr/generated/siputils';
import { FLAG, NAT_TESTS } from './config';
import { requestMethod } from './message';

export function route_natdetect(fromMediaServer: boolean): void {
  if (fromMediaServer) {
    // Media servers share the private network with us: their addresses are real.
    return;
  }
  core.force_rport();
  const udp = core.is_UDP();
  if (!udp) {
    // Replies go back over the client's connection or not at all: never dial a client.
    core.set_reply_no_connect();
  }
  // A connection-oriented client is reachable only over the connection it
  // opened, whatever its Contact says, so it is always handled as NATed.
  if (!nathelper.nat_uac_test(NAT_TESTS) && udp) {
    return;
  }
  if (requestMethod === 'REGISTER') {
    nathelper.fix_nated_register();
  } else if (siputils.is_first_hop()) {
    nathelper.set_contact_alias();
  }
  core.setflag(FLAG.nated);
}
