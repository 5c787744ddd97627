/**
 * The listen table from kamailio.cfg and the lookups Kamailio's core does on
 * it: by name (corex set_send_socket_name), by "proto:ip:port"
 * (set_send_socket), check_self (is_myself, loose_route) and get_send_socket2
 * (which socket a relay leaves from).
 */
import type { Alias, ListenSocket, SocketProto } from '../config/cfg.ts';

export type Proto = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' | 'sctp';

/** The listen-socket kind a transport is received on (ws rides on tcp, wss on tls). */
export function socketProtoOf(proto: Proto): SocketProto {
  if (proto === 'ws') return 'tcp';
  if (proto === 'wss') return 'tls';
  return proto;
}

export function socketString(s: ListenSocket): string {
  return `${s.proto}:${s.ip}:${s.port}`;
}

export class Sockets {
  constructor(
    readonly list: readonly ListenSocket[],
    private readonly aliases: readonly Alias[],
    private readonly mhomed: boolean,
  ) {}

  byName(name: string): ListenSocket | undefined {
    // Kamailio takes the first socket with that name (app_jsdt-facts §1 "Socket names").
    return this.list.find((s) => s.name === name);
  }

  find(proto: SocketProto, ip: string, port: number): ListenSocket | undefined {
    return this.list.find((s) => s.proto === proto && s.ip === ip && (port === 0 || s.port === port));
  }

  /** Parses `proto:ip[:port]`; returns null when it does not parse (corex then returns -1). */
  parseSpec(spec: string): { proto: SocketProto; ip: string; port: number } | null {
    const m = /^(udp|tcp|tls|sctp):(\[[^\]]+\]|[^:]+)(?::(\d+))?$/i.exec(spec.trim());
    if (!m) return null;
    return { proto: m[1]!.toLowerCase() as SocketProto, ip: m[2]!, port: m[3] ? Number(m[3]) : 0 };
  }

  /**
   * core/forward.c check_self: host equals a socket address or its advertised
   * address, or an alias; port null/0 and proto '' match any.
   */
  isMyself(host: string, port: number | null, proto: string): boolean {
    const h = host.toLowerCase();
    const wantProto = proto === '' ? null : socketProtoOf(proto as Proto);
    const bySocket = this.list.some(
      (s) =>
        (s.ip === h || s.advertise?.host.toLowerCase() === h) &&
        (port === null || port === 0 || s.port === port || s.advertise?.port === port) &&
        (wantProto === null || s.proto === wantProto),
    );
    if (bySocket) return true;
    return this.aliases.some(
      (a) =>
        a.host.toLowerCase() === h &&
        (port === null || port === 0 || a.port === null || a.port === port) &&
        (proto === '' || a.proto === null || a.proto === proto),
    );
  }

  /**
   * core/socket_info.c grep_sock_info: the listen socket whose address (or
   * advertised address) is `host`, with `port` as its own or its advertised
   * port (0 = any), in the list of `proto` (ws searches the TCP list, then
   * the TLS one; wss the TLS one; none = every list, UDP first).
   */
  grep(host: string, port: number, proto: Proto | ''): ListenSocket | undefined {
    const h = host.replace(/^\[|\]$/g, '').toLowerCase();
    const lists: SocketProto[] = proto === '' ? ['udp', 'tcp', 'tls', 'sctp'] : proto === 'ws' ? ['tcp', 'tls'] : [socketProtoOf(proto)];
    for (const want of lists) {
      const found = this.list.find(
        (s) =>
          s.proto === want &&
          (port === 0 || s.port === port || s.advertise?.port === port) &&
          (s.ip === h || s.advertise?.host.toLowerCase() === h),
      );
      if (found) return found;
    }
    return undefined;
  }

  isLocalIp(ip: string): boolean {
    return this.list.some((s) => s.ip === ip || s.advertise?.host === ip);
  }

  /**
   * core/forward.c get_send_socket2: a forced socket of another proto is
   * swapped for the socket with the same address and port in the needed
   * proto; when none exists (or nothing is forced) UDP uses the receiving
   * socket (mhomed: the first UDP socket of the outgoing address, here the
   * first UDP socket), TCP/WS the first TCP socket, TLS/WSS the first TLS one.
   */
  sendSocket(forced: ListenSocket | null, destProto: Proto, received: ListenSocket | null): ListenSocket {
    const want = socketProtoOf(destProto);
    if (forced) {
      if (forced.proto === want || (forced.proto === 'tls' && destProto === 'ws')) return forced;
      const swapped = this.list.find((s) => s.proto === want && s.ip === forced.ip && s.port === forced.port);
      if (swapped) return swapped;
    }
    if (want === 'udp' && !this.mhomed && received?.proto === 'udp') return received;
    const first = this.list.find((s) => s.proto === want);
    if (!first) throw new Error(`mock KSR: no ${want} listen socket in kamailio.cfg to send a ${destProto} message from`);
    return first;
  }
}

/** Host and port Kamailio writes into Via/Record-Route for a socket (advertise wins). */
export function advertised(s: ListenSocket): { host: string; port: number } {
  return s.advertise ?? { host: s.ip, port: s.port };
}
