/**
 * The transport a request will leave on, read from the destination URI
 * ($du when set: lookup()'s received address, handle_ruri_alias(), the
 * dispatcher; otherwise the R-URI). SIP's default transport is UDP; a TLS
 * client's destination always carries ;transport=tls from its received address.
 */
import { nextHop } from './nexthop';
import { remembered } from './remembered';

export type Proto = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' | 'sctp';

const TRANSPORT_PARAM = /;transport=([a-z]+)/i;

export function destinationProto(hop: string = nextHop()): Proto {
  return protoOf(hop);
}

/** The transport a SIP URI names (its transport parameter), UDP without one.
 * Worked out once per URI (remembered.ts): the same few next hops come back. */
export const protoOf = remembered(function transportOf(uri: string): Proto {
  // Without a parameter there is no transport: a media server's URI from the
  // dispatcher, most often, and no regular expression to run (more than ten
  // KSR calls' worth of Duktape, README "Where the time goes", 6).
  if (uri.indexOf(';') < 0) return 'udp';
  const match = TRANSPORT_PARAM.exec(uri);
  return match === null ? 'udp' : (match[1]!.toLowerCase() as Proto);
});

/** Media servers are reached over UDP or TCP (dispatcher.list); the private port has no TLS or WebSocket. */
export function isMediaServerTransport(proto: Proto): boolean {
  return proto === 'udp' || proto === 'tcp';
}

export function isWebSocket(proto: Proto): boolean {
  return proto === 'ws' || proto === 'wss';
}
