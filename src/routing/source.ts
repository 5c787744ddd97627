/**
 * Who sent the message: a media server (or another trusted backend) on the
 * private network, or a client on the public side. Everything else in the
 * routing follows from this answer, so it is asked once per message.
 */
import * as dispatcher from '../ksr/generated/dispatcher';
import { DISPATCHER, DS_MATCH } from './config';
import { receivedOnPrivateSocket } from './message';

/**
 * Media servers are matched on source IP only: over TCP their source ports are
 * ephemeral, and matching the port would treat their requests as a client's
 * (CONTRACT). The article's group 2 (other trusted backends) keeps the default
 * mode: IP and port must match, protocol ignored.
 *
 * And only on the private port, the one they talk to: on a public socket a
 * media server's address proves nothing, since a PROXY protocol header on the
 * public TCP/TLS port sets $si to any address its sender likes.
 */
export function isFromMediaServer(): boolean {
  return (
    receivedOnPrivateSocket() &&
    (dispatcher.ds_is_from_list_mode(DISPATCHER.mediaServers, DS_MATCH.ignorePort | DS_MATCH.ignoreProto) ||
      dispatcher.ds_is_from_list(DISPATCHER.trustedPeers))
  );
}
