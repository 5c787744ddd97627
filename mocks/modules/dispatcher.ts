/**
 * KSR.dispatcher (dispatch.c). ds_is_from_list(group) uses mode 2
 * (ignore proto); mode bits: 1 ignore port, 2 ignore proto, 4 destination
 * must be active, 8 destination socket must be the receiving one. An entry
 * without port (port 0) matches any source port; one without ;transport
 * only matches with bit 2. Selection algorithms modelled: 0 hash over
 * Call-ID, 4 round-robin, 8 priority order; the chosen list is kept in
 * $xavp(_dsdst_) for ds_next_dst failover, as dispatcher does.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { MsgContext } from '../runtime/context.ts';
import type { Engine } from '../runtime/engine.ts';
import { isUsable, type Destination, type DsState } from '../state/dispatcher.ts';
import { formatUri, parseUri, uriTransport } from '../sip/uri.ts';
import { defineModule, rc } from './define.ts';

const XAVP = '_dsdst_';

function matches(d: Destination, ip: string, port: number, proto: string, mode: number, ctx: MsgContext | null): boolean {
  return (
    d.ip === ip &&
    (mode & 1 || d.port === 0 || d.port === port) &&
    (mode & 2 || d.proto === proto) &&
    (!(mode & 4) || isUsable(d)) &&
    (!(mode & 8) || (ctx !== null && d.socket === ctx.transport.socket))
  ) as boolean;
}

function fromList(k: Engine, group: number, mode: number, ip: string, port: number, proto: string): number {
  const ids = group === -1 ? k.dispatcher.setIds() : [group];
  for (const id of ids) {
    if ((k.dispatcher.set(id) ?? []).some((d) => matches(d, ip, port, proto, mode, k.ctx))) return 1;
  }
  return -1;
}

function order(k: Engine, setid: number, alg: number, usable: Destination[]): Destination[] {
  const n = usable.length;
  let start: number;
  switch (alg) {
    case 0: {
      const callId = k.ctx.msg.get('Call-ID') ?? '';
      start = createHash('md5').update(callId).digest().readUInt32BE(0) % n;
      break;
    }
    case 4: {
      const pos = k.dispatcher.rr.get(setid) ?? 0;
      k.dispatcher.rr.set(setid, pos + 1);
      start = pos % n;
      break;
    }
    case 8:
      start = 0;
      break;
    default:
      throw new Error(`mock KSR: dispatcher algorithm ${alg} is not modelled (0, 4, 8 are)`);
  }
  return [...usable.slice(start), ...usable.slice(0, start)];
}

/** Which part of the request a selected destination goes to. */
type Target = 'dst' | 'domain';

function apply(k: Engine, ctx: MsgContext, d: Map<string, string | number>, target: Target): void {
  const uri = String(d.get('uri'));
  if (target === 'dst') {
    ctx.dstUri = uri;
  } else {
    // dispatch.c ds_push_dst(DS_SETOP_RURI) rewrites the R-URI host with a SET_HOSTALL_T do_action
    k.serError.doAction();
    const r = parseUri(ctx.ruri);
    const t = parseUri(uri);
    if (r && t) ctx.newUri = formatUri({ ...r, host: t.host, port: t.port });
  }
}

function select(k: Engine, setid: number, alg: number, limit: number, target: Target): number {
  const ctx = k.ctx;
  const set = k.dispatcher.set(setid);
  const usable = (set ?? []).filter(isUsable);
  if (usable.length === 0) return -1;
  const chosen = order(k, setid, alg, usable).slice(0, limit > 0 ? limit : undefined);
  const list = chosen.map((d) => new Map<string, string | number>([['uri', d.uri], ['grp', d.setid], ['attrs', d.attrsText]]));
  ctx.xavps.set(XAVP, list);
  apply(k, ctx, list[0]!, target);
  const sock = chosen[0]!.socket;
  if (sock) ctx.forceSocket = sock;
  return 1;
}

function next(k: Engine, target: Target): number {
  const ctx = k.ctx;
  const list = ctx.xavps.get(XAVP) ?? [];
  list.shift();
  const entry = list[0];
  if (!entry) return -1;
  apply(k, ctx, entry, target);
  const d = k.dispatcher.find(String(entry.get('uri')), Number(entry.get('grp')));
  if (d?.socket) ctx.forceSocket = d.socket;
  return 1;
}

function mark(k: Engine, state: string): number {
  // dispatch.c ds_mark_dst: the group (an integer) and the URI of $xavp(_dsdst_[0]), both needed.
  const current = k.ctx.xavps.get(XAVP)?.[0];
  if (!current || typeof current.get('grp') !== 'number' || current.get('uri') === undefined) return -1;
  const s = state.toLowerCase();
  const st: DsState = s.includes('d') ? 'disabled' : s.includes('i') ? 'inactive' : s.includes('p') ? 'probing' : 'active';
  k.dispatcher.setState(String(current.get('uri')), st);
  return 1;
}

export default defineModule('dispatcher', (k) => {
  const src = (mode: number, group: number): number => {
    const t = k.ctx.transport;
    return fromList(k, group, mode, t.srcIp, t.srcPort, t.proto);
  };
  return {
    ds_is_from_list: (group: number): number => src(2, group),
    ds_is_from_lists: (): number => src(2, -1),
    ds_is_from_list_mode: (group: number, mode: number): number => src(mode, group),
    ds_is_from_list_uri(group: number, mode: number, uri: string): number {
      const u = parseUri(uri);
      if (!u) return -1;
      if (isIP(u.host.replace(/^\[|\]$/g, '')) === 0) {
        // dispatch.c ds_is_addr_from_list resolves the host: a real DNS query
        // (dns=no does not stop it), which the mock has no server to answer.
        k.log('ERROR', `dispatcher [dispatch.c:3532]: ds_is_addr_from_list(): could not resolve ${u.host}`);
        return -1;
      }
      return fromList(k, group, mode, u.host, u.port ?? 5060, uriTransport(u) || 'udp');
    },
    ds_select_dst: (set: number, alg: number): number => select(k, set, alg, 0, 'dst'),
    ds_select_dst_limit: (set: number, alg: number, limit: number): number => select(k, set, alg, limit, 'dst'),
    ds_select_domain: (set: number, alg: number): number => select(k, set, alg, 0, 'domain'),
    ds_select_domain_limit: (set: number, alg: number, limit: number): number => select(k, set, alg, limit, 'domain'),
    ds_next_dst: (): number => next(k, 'dst'),
    ds_next_domain: (): number => next(k, 'domain'),
    ds_mark_dst: (): number => mark(k, 'ip'),
    ds_mark_dst_state: (state: string): number => mark(k, state),
    ds_list_exists: (set: number): number => rc(k.dispatcher.set(set) !== undefined),
    ds_is_active: (set: number): number => rc((k.dispatcher.set(set) ?? []).some(isUsable)),
    ds_reload: (): number => 1,
  };
});
