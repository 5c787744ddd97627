/**
 * Facts about the current request that several route blocks ask for, read
 * from Kamailio once per request (readRequest(), first thing in
 * ksr_request_route) instead of once per question: every KSR call is a
 * crossing from Duktape into C, and a request used to ask for its method up
 * to ten times (bench/README.md, "Where the time goes").
 *
 * Module state, like the $var(...) of a native cfg: a worker handles one
 * message at a time, and readRequest() sets everything before any block reads
 * it. For request_route only: a failure or reply route runs for another
 * message, often in another process (tm's timer), and must ask Kamailio.
 */
import * as core from '../ksr/generated/core';
import * as kx from '../ksr/generated/kx';
import { SOCKET } from './config';

/** The request's method in upper case: Kamailio's is_INVITE() & co. match
 * method names regardless of case (core/parser/parse_methods.c). Compared as
 * `requestMethod === 'INVITE'`: a variable, not a function, since a call
 * costs Duktape about what the KSR call it replaces did. */
export let requestMethod = '';
/** Received on the private port (private_socket or private_tcp_socket). */
export let receivedOnPrivatePort = false;
let socketName: string | number | null = null;

/** Method names as RFC 3261 and its extensions write them, every UA too: the
 * routing asks about the first nine, the others only spare their senders
 * the slow path of canonicalMethod(). */
const METHOD_NAMES = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK', 'SUBSCRIBE', 'UPDATE', 'MESSAGE', 'NOTIFY', 'INFO', 'REFER', 'PUBLISH'];

/** The same names as keys: one lookup finds a usual spelling, where a loop
 * compared up to fourteen strings. Prototype-free, so a method named
 * "constructor" is no known one. */
const USUAL_SPELLING = Object.create(null) as Record<string, true | undefined>;
for (let i = 0; i < METHOD_NAMES.length; i++) USUAL_SPELLING[METHOD_NAMES[i]!] = true;

export function readRequest(): void {
  requestMethod = canonicalMethod(String(kx.get_method()));
  socketName = kx.get_rcv_sock_name();
  receivedOnPrivatePort = socketName === SOCKET.privateUdp || socketName === SOCKET.privateTcp;
}

/**
 * The method in upper case when Kamailio would take it for a known one, else
 * as received. Not toUpperCase(): the method is whatever bytes precede the
 * first space of the first line, and Duktape's case conversion throws
 * ("internal error", duk_unicode_support.c) on bytes that are not UTF-8, so
 * a first line of binary garbage made the entry wrapper answer 500 (found by
 * test/hostile). Comparing strings is bytewise and safe; only a spelling
 * other than the usual one asks Kamailio (is_method ignores case).
 */
function canonicalMethod(raw: string): string {
  if (USUAL_SPELLING[raw] === true) return raw;
  for (let i = 0; i < METHOD_NAMES.length; i++) {
    if (core.is_method(METHOD_NAMES[i]!)) return METHOD_NAMES[i]!;
  }
  return raw;
}

/** The name of the socket the request came in on ($Rn). */
export function receivedSocket(): string | number | null {
  return socketName;
}

/** receivedOnPrivatePort, as a function. */
export function receivedOnPrivateSocket(): boolean {
  return receivedOnPrivatePort;
}
