/**
 * route[REQINIT]: checks every request before any routing decision:
 * source addresses claimed by PROXY headers, flood bans, scanners, the
 * private port, Max-Forwards, keepalives, sanity.
 */
import { BUILD_ID } from '../build-info';
import * as core from '../ksr/generated/core';
import * as corex from '../ksr/generated/corex';
import * as hdr from '../ksr/generated/hdr';
import * as htable from '../ksr/generated/htable';
import * as kx from '../ksr/generated/kx';
import * as maxfwd from '../ksr/generated/maxfwd';
import * as pike from '../ksr/generated/pike';
import * as pv from '../ksr/generated/pv';
import * as sanity from '../ksr/generated/sanity';
import * as sl from '../ksr/generated/sl';
import { drop, exit } from '../ksr';
import { remembered } from './remembered';
import { BAN_TABLE, MAX_FORWARDS, SANITY_MSG_CHECKS, SANITY_URI_CHECKS, SCANNER_AGENTS } from './config';
import { receivedOnPrivatePort, requestMethod } from './message';
import { proxyHeaderRefused } from './source';

const BUILD_HEADER = 'X-Routing-Build: ' + BUILD_ID + '\r\n';
/** Followed by the PID of the worker that answered ($pp, one static PV name). */
const WORKER_HEADER = 'X-Routing-Worker: ';

export function route_reqinit(fromMediaServer: boolean): void {
  const keepalive = isKeepalive();
  // The proxy's own address is not screened for its keepalives: the reload
  // tool (build/reload) probes every worker with bursts of them, which pike
  // would otherwise ban, and on the private port too.
  if (!fromMediaServer && !(keepalive && core.is_myself_srcip())) {
    screenPublicSource();
  }
  // RFC 3261 16.3: a request's syntax is checked first (Proxy-Require with
  // it: 420), then Max-Forwards; and only a valid OPTIONS is a keepalive (a
  // malformed one used to get 200 before sanity saw it).
  if (!sanity.sanity_check(SANITY_MSG_CHECKS, SANITY_URI_CHECKS)) {
    // sanity has already sent the error reply.
    exit();
  }
  const hops = maxfwd.process_maxfwd(MAX_FORWARDS);
  if (hops === -1) {
    sl.sl_send_reply(483, 'Too Many Hops');
    exit();
  }
  if (hops === -2) {
    // A value that is no number (RFC 3261 20.22: 1*DIGIT) is a syntax error, not a loop.
    sl.sl_send_reply(400, 'Bad Max-Forwards');
    exit();
  }
  if (keepalive) {
    // Keepalive to the proxy itself (load balancer health checks, media
    // servers, the reload tool): which build this worker runs, and which worker.
    hdr.append_to_reply(BUILD_HEADER);
    hdr.append_to_reply(WORKER_HEADER + String(pv.get('$pp')) + '\r\n');
    sl.sl_send_reply(200, 'Keepalive');
    exit();
  }
}

/** OPTIONS to the proxy itself, without a user part. */
function isKeepalive(): boolean {
  return requestMethod === 'OPTIONS' && core.is_myself_ruri() && !corex.has_ruri_user();
}

/** Flood bans and scanners are dropped silently: an answer only helps them. */
function screenPublicSource(): void {
  if (proxyHeaderRefused()) {
    // $si was claimed by a PROXY header its sender may not send (source.ts):
    // refused before the claimed address is banned, counted by pike, or trusted.
    sl.sl_send_reply(403, 'Forbidden');
    exit();
  }
  const source = kx.get_srcip();
  if (htable.sht_match_name(BAN_TABLE, 'eq', String(source))) {
    drop();
  }
  if (!pike.pike_check_req()) {
    htable.sht_seti(BAN_TABLE, String(source), 1);
    core.warn('pike: banning flooding source ' + source + '\n');
    drop();
  }
  if (isScanner(kx.get_ua())) {
    drop();
  }
  if (receivedOnPrivatePort) {
    // The private port serves media servers only.
    sl.sl_send_reply(403, 'Forbidden');
    exit();
  }
}

/**
 * Eight indexOf calls cost Duktape more than all the KSR calls of a
 * REGISTER's screening, and a worker sees the same few User-Agents over and
 * over: each verdict is worked out once (remembered.ts).
 */
const isScannerAgent = remembered(matchesScanner);

function isScanner(userAgent: string | number | null): boolean {
  return userAgent !== null && isScannerAgent(String(userAgent));
}

function matchesScanner(agent: string): boolean {
  for (let i = 0; i < SCANNER_AGENTS.length; i++) {
    if (agent.indexOf(SCANNER_AGENTS[i]!) >= 0) return true;
  }
  return false;
}
