/**
 * event_route[xhttp:request] and event_route[websocket:closed]: browsers open
 * SIP over secure WebSocket on the public WebRTC socket (WEBRTC_PORT).
 */
import * as core from '../ksr/generated/core';
import * as hdr from '../ksr/generated/hdr';
import * as kx from '../ksr/generated/kx';
import * as websocket from '../ksr/generated/websocket';
import * as xhttp from '../ksr/generated/xhttp';
import { exit } from '../ksr';
import { SOCKET } from './config';

/** The HTTP request must be a WebSocket upgrade for the SIP subprotocol on
 * the WebRTC socket; anything else (scanners probing HTTP) is refused. */
export function ksr_xhttp_event(_event: string): void {
  const upgrade = String(hdr.get('Upgrade')).toLowerCase();
  if (kx.get_rcv_sock_name() !== SOCKET.publicTls || upgrade.indexOf('websocket') < 0) {
    xhttp.xhttp_reply(403, 'Forbidden', '', '');
    exit();
  }
  if (websocket.handle_handshake() === 0) {
    // websocket has already answered 400/426 with what was wrong.
    core.notice('websocket: handshake refused from ' + kx.get_srcip() + '\n');
  }
  exit();
}

/** A closed WebSocket takes its registration with it (usrloc handle_lost_tcp
 * drops the contacts of a lost connection); the routing only notes it. */
export function ksr_websocket_event(event: string): void {
  core.info('websocket: ' + event + ' from ' + kx.get_srcip() + '\n');
}

