/**
 * reply_route{}: every reply, before tm. onreply_route[MANAGE_REPLY]: SDP
 * answers pass through rtpengine, and a client's 2xx gets its Contact
 * aliased so in-dialog requests find it.
 */
import * as core from '../ksr/generated/core';
import * as nathelper from '../ksr/generated/nathelper';
import * as rtpengine from '../ksr/generated/rtpengine';
import * as textops from '../ksr/generated/textops';
import * as tm from '../ksr/generated/tm';
import { drop } from '../ksr';
import { FLAG, NAT_TESTS } from './config';
import { ANSWER_TO_PLAIN_PEER, ANSWER_TO_WEBRTC_CLIENT } from './media';

/**
 * A reply that belongs to no transaction is dropped. Every request is
 * relayed statefully (t_relay), so every reply this proxy waits for matches
 * one; core would forward any other statelessly to its next Via (RFC 3261
 * 16.7), which let anyone aim replies from this proxy at any address, the
 * media servers on the private network included (found by test/hostile).
 * Replies to nathelper's pings match nothing either; nathelper would have
 * dropped them anyway.
 */
export function ksr_reply_route(): void {
  if (tm.t_check_trans() === -1) {
    drop();
  }
}

export function ksr_onreply_manage(): void {
  const towardClient = core.isflagset(FLAG.toSwitch);
  if (!towardClient && nathelper.nat_uac_test(NAT_TESTS)) {
    // The reply comes from a client behind NAT.
    nathelper.set_contact_alias();
  }
  if (textops.has_body_type('application/sdp')) {
    const webrtc = towardClient && core.isflagset(FLAG.webrtcClient);
    if (!rtpengine.rtpengine_manage(webrtc ? ANSWER_TO_WEBRTC_CLIENT : ANSWER_TO_PLAIN_PEER)) {
      // rtpengine went away between offer and answer (or refused the
      // answer): a reply cannot be refused, so it goes on as it is and the
      // call may have no audio; every later offer gets 503 (relay.ts).
      core.err('rtpengine: answer not anchored, relayed as it is\n');
    }
  }
}
