/**
 * The transport a request will leave on, read from the destination URI
 * ($du when set: lookup()'s received address, handle_ruri_alias(), the
 * dispatcher; otherwise the R-URI). SIP's default transport is UDP; a TLS
 * client's destination always carries ;transport=tls from its received address.
 */
import * as kx from '../ksr/generated/kx';

export type Proto = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' | 'sctp';

const TRANSPORT_PARAM = /;transport=([a-z]+)/i;

export function destinationProto(): Proto {
  const destination = kx.get_duri();
  const uri = String(destination === null ? kx.get_ruri() : destination);
  const match = TRANSPORT_PARAM.exec(uri);
  return match === null ? 'udp' : (match[1]!.toLowerCase() as Proto);
}

export function isWebSocket(proto: Proto): boolean {
  return proto === 'ws' || proto === 'wss';
}
