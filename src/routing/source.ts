/**
 * Who sent the message: a media server (or another trusted backend) on the
 * private network, or a client on the public side. Everything else in the
 * routing follows from this answer, so it is asked once per message.
 */
import * as dispatcher from '../ksr/generated/dispatcher';
import * as kx from '../ksr/generated/kx';
import * as pv from '../ksr/generated/pv';
import { DISPATCHER, DS_MATCH, SOCKET } from './config';
import { receivedOnPrivateSocket, receivedSocket } from './message';

/**
 * Media servers are matched on source IP only: over TCP their source ports are
 * ephemeral, and matching the port would treat their requests as a client's
 * (CONTRACT). The article's group 2 (other trusted backends) keeps the default
 * mode: IP and port must match, protocol ignored.
 *
 * And only on the private port, the one they talk to: on a public socket a
 * media server's address proves nothing, since a PROXY protocol header on the
 * public TCP/TLS port sets $si to any address its sender likes. On the private
 * TCP port such a header is refused (proxyHeaderRefused): Kamailio accepts it
 * there too, and the cloud's 1:1 NAT lets anyone reach that port.
 */
export function isFromMediaServer(): boolean {
  return (
    receivedOnPrivateSocket() &&
    (dispatcher.ds_is_from_list_mode(DISPATCHER.mediaServers, DS_MATCH.ignorePort | DS_MATCH.ignoreProto) ||
      dispatcher.ds_is_from_list(DISPATCHER.trustedPeers)) &&
    // Only TCP pays for the check; UDP carries no PROXY header.
    (receivedSocket() !== SOCKET.privateTcp || !sourceClaimedByProxyHeader(''))
  );
}

/**
 * A PROXY protocol header claimed this request's source, and its sender may
 * not make that claim: on the private TCP port nobody may (media servers
 * connect directly), on the public TCP/TLS port only a balancer of
 * PROXY_SOURCES, when that is set. Kamailio 5.6 (tcp_accept_haproxy) takes the
 * header from anyone on every TCP socket, with no allow-list of its own.
 * UDP sockets carry no header and cost no KSR call here.
 */
export function proxyHeaderRefused(): boolean {
  const socket = receivedSocket();
  if (socket === SOCKET.privateTcp) return sourceClaimedByProxyHeader('');
  if (socket !== SOCKET.publicTcp && socket !== SOCKET.publicTls) return false;
  const allowed = proxySources();
  return allowed !== '' && sourceClaimedByProxyHeader(allowed);
}

/**
 * $si/$sp are not the connection's real peer, which is not one of `allowed`
 * (PROXY_SOURCES; '' for none): tcp_main took them from a PROXY header, and
 * tcpops' $tcp(c_si)/$tcp(c_sp) kept the peer it accepted the connection from
 * (measured on 5.6.3: test/engine/proxy-protocol.test.ts). A connection
 * Kamailio opened itself has no recorded peer ($tcp(c_sp) 0) and never starts
 * with a header; $tcp(c_si) would log a CRITICAL line there (ip_addr2sbuf:
 * unknown address family 0), hence the port first.
 */
function sourceClaimedByProxyHeader(allowed: string): boolean {
  const port = pv.get('$tcp(c_sp)');
  if (port === 0) return false;
  const peer = pv.get('$tcp(c_si)');
  if (allowed !== '' && listed(allowed, String(peer).toLowerCase())) return false;
  return port !== kx.get_srcport() || peer !== kx.get_srcip();
}

/** PROXY_SOURCES (kamailio.cfg `#!trydefenvs`, so the value comes quoted), lower case; unset or blank: ''. */
function proxySources(): string {
  const value = kx.get_def('PROXY_SOURCES');
  return value === null ? '' : String(value).replace(/^"|"$/g, '').toLowerCase().trim();
}

/** `address` is one of the space- or comma-separated entries of `list`. */
function listed(list: string, address: string): boolean {
  return list.split(/[\s,]+/).indexOf(address) >= 0;
}
