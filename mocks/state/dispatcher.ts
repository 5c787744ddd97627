/**
 * Dispatcher sets as dispatch.c holds them after loading the list file:
 * destinations ordered by priority (highest first), each with the ip, port
 * and proto taken from its URI exactly as add_dest2list does (no port ->
 * 0, which matches any source port; no ;transport -> no proto), its state
 * flags and its attrs (socket=/sockname= force the send socket).
 */
import { isIP } from 'node:net';
import type { ListenSocket } from '../config/cfg.ts';
import type { DispatcherEntry } from '../config/dispatcher-list.ts';
import type { Sockets } from '../runtime/sockets.ts';
import { parseUri, uriTransport } from '../sip/uri.ts';

export type DsState = 'active' | 'inactive' | 'disabled' | 'probing';

export interface Destination {
  setid: number;
  uri: string;
  /** '' for a host name kept unresolved (flag 16). */
  ip: string;
  /** 0 when the URI has no port. */
  port: number;
  /** '' when the URI has no ;transport (dispatch.c keeps PROTO_NONE). */
  proto: string;
  priority: number;
  attrs: ReadonlyMap<string, string>;
  attrsText: string;
  state: DsState;
  socket: ListenSocket | null;
}

// dispatcher list flags (dispatch.h DS_*_DST)
const INACTIVE = 1;
const DISABLED = 4;
const PROBING = 8;
const NO_DNS_A_RESOLVE = 16;

export class Dispatcher {
  private readonly sets = new Map<number, Destination[]>();
  /** Round-robin position per set (alg 4). */
  readonly rr = new Map<number, number>();

  /** `defaultSocket`: ds_default_socket / ds_default_sockname, used by entries without socket attrs. */
  constructor(entries: readonly DispatcherEntry[], sockets: Sockets, defaultSocket: ListenSocket | null) {
    for (const e of entries) {
      const dst = toDestination(e, sockets, defaultSocket);
      const list = this.sets.get(e.setid) ?? [];
      list.push(dst);
      list.sort((a, b) => b.priority - a.priority);
      this.sets.set(e.setid, list);
    }
  }

  set(setid: number): readonly Destination[] | undefined {
    return this.sets.get(setid);
  }

  setIds(): number[] {
    return [...this.sets.keys()];
  }

  /** Finds a destination by URI, in one set or in all. */
  find(uri: string, setid?: number): Destination | undefined {
    for (const [id, list] of this.sets) {
      if (setid !== undefined && id !== setid) continue;
      const d = list.find((x) => x.uri === uri);
      if (d) return d;
    }
    return undefined;
  }

  /** For tests: put a destination in a state (what probing or ds_mark_dst would do). */
  setState(uri: string, state: DsState): void {
    let found = false;
    for (const list of this.sets.values()) {
      for (const d of list) {
        if (d.uri === uri) {
          d.state = state;
          found = true;
        }
      }
    }
    if (!found) throw new Error(`mock dispatcher: no destination ${uri}`);
  }
}

/** ds_skip_dst(): inactive and disabled destinations are not selected. */
export function isUsable(d: Destination): boolean {
  return d.state === 'active' || d.state === 'probing';
}

function toDestination(e: DispatcherEntry, sockets: Sockets, defaultSocket: ListenSocket | null): Destination {
  const u = parseUri(e.uri);
  if (!u) throw new Error(`mock dispatcher: bad destination URI ${e.uri}`);
  const host = u.host.replace(/^\[|\]$/g, '');
  // dispatch.c pack_dest resolves a host name when the list loads, unless the entry has flag 16
  // (DS_NODNSARES_DST): then it keeps no address, so ds_is_from_list never matches it and t_relay
  // resolves it when relaying. The mock has no DNS: without flag 16 Kamailio would log "could not
  // resolve" and skip the entry; the mock refuses the list instead.
  const noAddress = isIP(host) === 0;
  if (noAddress && !(e.flags & NO_DNS_A_RESOLVE)) {
    throw new Error(`mock dispatcher: ${e.uri} needs DNS when the list loads; use a literal IP, or flag 16 to resolve it only when relaying`);
  }
  const attrs = new Map<string, string>();
  for (const part of e.attrs.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) attrs.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  let socket: ListenSocket | null = defaultSocket;
  const sockAttr = attrs.get('socket');
  const nameAttr = attrs.get('sockname');
  if (sockAttr !== undefined) {
    const spec = sockets.parseSpec(sockAttr);
    socket = spec ? sockets.find(spec.proto, spec.ip, spec.port) ?? null : null;
    if (!socket) throw new Error(`mock dispatcher: non-local socket <${sockAttr}> for ${e.uri} (Kamailio fails to load the list)`);
  } else if (nameAttr !== undefined) {
    socket = sockets.byName(nameAttr) ?? null;
    if (!socket) throw new Error(`mock dispatcher: unknown sockname <${nameAttr}> for ${e.uri}`);
  }
  const state: DsState = e.flags & DISABLED ? 'disabled' : e.flags & INACTIVE ? 'inactive' : e.flags & PROBING ? 'probing' : 'active';
  return {
    setid: e.setid,
    uri: e.uri,
    ip: noAddress ? '' : host,
    port: u.port ?? 0,
    proto: uriTransport(u),
    priority: e.priority,
    attrs,
    attrsText: e.attrs,
    state,
    socket,
  };
}
