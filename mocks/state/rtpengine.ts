/**
 * The rtpengine daemon as Kamailio's rtpengine module sees it through its
 * ng socket (one node, as kamailio.cfg configures it):
 * - 'up': it answers every command;
 * - 'down': it answers nothing: stopped, not listening, not answering within
 *   rtpengine_tout_ms x rtpengine_retr, or disabled for
 *   rtpengine_disable_tout after such a failure ("no available proxies").
 *   Every command fails (-1) and rtp_inst_pvar stays unset;
 * - 'refusing': it answers every offer and answer with result "error" (its
 *   own SDP parser refused the body, out of ports, session limit): -1, and
 *   rtp_inst_pvar is set, since a node did answer.
 */
export type RtpengineState = 'up' | 'down' | 'refusing';

export class Rtpengine {
  state: RtpengineState = 'up';

  setState(state: RtpengineState): void {
    this.state = state;
  }
}
