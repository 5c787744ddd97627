/**
 * Where t_relay() will send the request: $du when set (loose_route's next
 * Route, handle_ruri_alias, lookup's received address, the dispatcher),
 * otherwise the R-URI.
 */
import * as dispatcher from '../ksr/generated/dispatcher';
import * as kx from '../ksr/generated/kx';
import { DISPATCHER, DS_MATCH } from './config';
import { remembered } from './remembered';

export function nextHop(): string {
  const destination = kx.get_duri();
  return String(destination === null ? kx.get_ruri() : destination);
}

/** A sip:/sips: URI whose host is an IPv4 or bracketed IPv6 literal. */
const IP_LITERAL_HOST = /^sips?:(?:[^@;>]*@)?(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])(?:[:;>]|$)/;

/** IP_LITERAL_HOST's answer, worked out once per URI (remembered.ts): the
 * same few media servers and peers come back with every request. */
export const hasIpLiteralHost = remembered((uri) => IP_LITERAL_HOST.test(uri));

/**
 * The next hop (nextHop(), or the one a caller already read) is a media
 * server of dispatcher set 1, by IP (any port). Media servers are listed by
 * address, so a host name (a CANCEL's sip:user@SIP_DOMAIN) is no media server:
 * asking ds_is_from_list_uri about it would make Kamailio query DNS, holding
 * the worker for the resolver's timeouts (CONTRACT: nothing requires DNS).
 */
export function nextHopIsMediaServer(hop: string = nextHop()): boolean {
  return hasIpLiteralHost(hop) && dispatcher.ds_is_from_list_uri(DISPATCHER.mediaServers, DS_MATCH.ignorePort | DS_MATCH.ignoreProto, hop);
}

/** `sip:<host>` of a URI, with no port or transport: is_myself() then matches
 * the host on any of our sockets (check_self treats port and proto 0 as any).
 * Worked out once per URI (remembered.ts): the regular expression costs
 * Duktape more than ten KSR calls. */
export const hostUri = remembered((uri) => 'sip:' + uri.replace(/^sips?:(?:[^@;>]*@)?(\[[^\]]*\]|[^:;>]*).*$/, '$1'));
