/**
 * Where t_relay() will send the request: $du when set (loose_route's next
 * Route, handle_ruri_alias, lookup's received address, the dispatcher),
 * otherwise the R-URI.
 */
import * as dispatcher from '../ksr/generated/dispatcher';
import * as kx from '../ksr/generated/kx';
import { DISPATCHER, DS_MATCH } from './config';

export function nextHop(): string {
  const destination = kx.get_duri();
  return String(destination === null ? kx.get_ruri() : destination);
}

/** The next hop (nextHop(), or the one a caller already read) is a media server of dispatcher set 1, by IP (any port). */
export function nextHopIsMediaServer(hop: string = nextHop()): boolean {
  return dispatcher.ds_is_from_list_uri(DISPATCHER.mediaServers, DS_MATCH.ignorePort | DS_MATCH.ignoreProto, hop);
}
