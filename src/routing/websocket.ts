/**
 * event_route[xhttp:request] and event_route[websocket:closed]: browsers open
 * SIP over secure WebSocket on the public WebRTC socket (WEBRTC_PORT).
 *
 * What the HTTP upgrade must show before the websocket module handshakes,
 * and why (each refusal is a 403 and a log line naming the check):
 *  - the WebRTC socket and `Upgrade: websocket`: anything else on any HTTP
 *    path is a scanner probing the port;
 *  - the path is one a SIP client is told to use (WEBSOCKET_PATHS): nothing
 *    else is served on this port;
 *  - Host is this service's public name: SIP_DOMAIN or PUBLIC_IP, without a
 *    port or with WEBRTC_PORT. A browser always sends the name it resolved,
 *    so another Host is a page of another name pointed at our address (DNS
 *    rebinding) or a client configured for another server;
 *  - Origin, when present, is a page allowed to use the service: one of
 *    WEBRTC_ORIGINS (kamailio.cfg, from the environment), or, when that is
 *    unset, an https page of the same host name the browser connected to.
 *    Browsers send Origin on every WebSocket and pages cannot forge it, so
 *    this stops any other web site from using its visitors' browsers to
 *    reach the SIP service (each from its visitor's address: digest guessing
 *    and floods no per-source ban can catch). A client that sends no Origin
 *    is no browser, and could send any Origin it likes, so none is required.
 */
import * as core from '../ksr/generated/core';
import * as hdr from '../ksr/generated/hdr';
import * as kx from '../ksr/generated/kx';
import * as pv from '../ksr/generated/pv';
import * as websocket from '../ksr/generated/websocket';
import * as xhttp from '../ksr/generated/xhttp';
import { exit } from '../ksr';
import { SOCKET, WEBSOCKET_PATHS } from './config';

export function ksr_xhttp_event(_event: string): void {
  const upgrade = String(hdr.get('Upgrade')).toLowerCase();
  if (kx.get_rcv_sock_name() !== SOCKET.publicTls || upgrade.indexOf('websocket') < 0) {
    // Scanners probing HTTP: refused without a log line each.
    refuse(null);
  }
  const path = String(pv.get('$hu'));
  if (WEBSOCKET_PATHS.indexOf(path) < 0) {
    refuse('path ' + path + ' is not a SIP WebSocket path');
  }
  const host = hostOf(hdr.get('Host'));
  if (host === null) {
    refuse('Host ' + String(hdr.get('Host')) + ' is not this service');
  }
  const origin = hdr.get('Origin');
  if (origin !== null && !originAllowed(String(origin).toLowerCase(), host)) {
    refuse('Origin ' + String(origin) + ' is not allowed');
  }
  if (websocket.handle_handshake() === 0) {
    // websocket has already answered 400/426 with what was wrong.
    core.notice('websocket: handshake refused from ' + kx.get_srcip() + '\n');
  }
  exit();
}

/** A closed WebSocket takes its registration with it: registrar's
 * lookup_filter_mode 2 skips its contacts at once, usrloc's handle_lost_tcp
 * deletes them on its next timer run; the routing only notes it. */
export function ksr_websocket_event(event: string): void {
  core.info('websocket: ' + event + ' from ' + kx.get_srcip() + '\n');
}

function refuse(why: string | null): never {
  if (why !== null) core.notice('websocket: 403 to ' + kx.get_srcip() + ': ' + why + '\n');
  xhttp.xhttp_reply(403, 'Forbidden', '', '');
  return exit();
}

/** The host name of a Host header that names this service (lower case), or
 * null: SIP_DOMAIN or PUBLIC_IP, bare or with WEBRTC_PORT (a balancer on 443
 * makes browsers send the bare name). */
function hostOf(header: unknown): string | null {
  if (header === null) return null;
  const value = String(header).toLowerCase();
  const port = ':' + String(kx.get_defn('WEBRTC_PORT'));
  const names = [String(kx.get_def('SIP_DOMAIN')).toLowerCase(), bracketed(String(kx.get_def('PUBLIC_IP')))];
  if (names.indexOf(value) >= 0) return value;
  const bare = value.slice(0, value.length - port.length);
  if (value.slice(bare.length) === port && names.indexOf(bare) >= 0) return bare;
  return null;
}

/** An IPv6 address is written in brackets in Host and Origin. */
function bracketed(address: string): string {
  return address.indexOf(':') >= 0 ? '[' + address.toLowerCase() + ']' : address;
}

function originAllowed(origin: string, host: string): boolean {
  const allowed = allowedOrigins();
  if (allowed !== '') return origin !== '' && allowed.split(/[\s,]+/).indexOf(origin) >= 0;
  // The default: a page served over https by the host the browser connected to.
  const https = 'https://' + host;
  return origin === https || (origin.indexOf(https + ':') === 0 && /^:\d+$/.test(origin.slice(https.length)));
}

/** WEBRTC_ORIGINS (kamailio.cfg `#!trydefenvs`, so the value comes quoted):
 * origins separated by spaces or commas, as browsers write them
 * (scheme://host[:port], no path), in lower case. Unset or blank: ''. */
function allowedOrigins(): string {
  const value = kx.get_def('WEBRTC_ORIGINS');
  return value === null ? '' : String(value).replace(/^"|"$/g, '').toLowerCase().trim();
}
