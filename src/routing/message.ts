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

export function readRequest(): void {
  requestMethod = String(kx.get_method()).toUpperCase();
  socketName = kx.get_rcv_sock_name();
  receivedOnPrivatePort = socketName === SOCKET.privateUdp || socketName === SOCKET.privateTcp;
}

/** The name of the socket the request came in on ($Rn). */
export function receivedSocket(): string | number | null {
  return socketName;
}

/** receivedOnPrivatePort, as a function. */
export function receivedOnPrivateSocket(): boolean {
  return receivedOnPrivatePort;
}
