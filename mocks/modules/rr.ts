/**
 * KSR.rr: record_route (double RR when the legs use different sockets, see
 * runtime/send.ts) and loose_route as rr/loose.c does it: no Route -1;
 * after_loose: our Route(s) removed (two with r2=on, the send socket forced
 * to the one the second names), next Route -> $du, return 1; out-of-dialog
 * with only our Route -> -3 (preloaded); after_strict when an in-dialog
 * R-URI is this proxy. A strict next hop after ours (handle_sr) is modelled
 * as $du, which reaches the same host.
 *
 * The path module's rr callback (path use_received=1, path.c
 * path_rr_callback) runs when our Route was consumed: a `received`
 * parameter of it, unescaped, becomes $du.
 */
import { parseNameAddr, parseUri, splitList, uriParam } from '../sip/uri.ts';
import type { Header } from '../sip/message.ts';
import type { MsgContext } from '../runtime/context.ts';
import type { Engine } from '../runtime/engine.ts';
import type { Proto } from '../runtime/sockets.ts';
import { modparam } from '../config/cfg.ts';
import { defineModule, rc } from './define.ts';

interface RouteEntry {
  header: Header;
  uri: string;
}

function routeEntries(ctx: MsgContext): RouteEntry[] {
  return ctx.msg.all('Route').flatMap((h) => splitList(h.value).map((v) => ({ header: h, uri: parseNameAddr(v)?.uri ?? v })));
}

function isMine(k: Engine, uri: string): boolean {
  const u = parseUri(uri);
  if (!u) return false;
  const t = uriParam(u, 'transport');
  return k.sockets.isMyself(u.host, u.port, typeof t === 'string' ? t.toLowerCase() : '');
}

/** Removes the given entries (del_lump); a header whose entries are all removed is deleted. */
function remove(ctx: MsgContext, all: RouteEntry[], gone: RouteEntry[]): void {
  for (const h of new Set(gone.map((e) => e.header))) {
    const remaining = all.filter((e) => e.header === h && !gone.includes(e));
    if (remaining.length === 0) ctx.lumps.removed.add(h);
    else ctx.lumps.rewritten.set(h, remaining.map((e) => `<${e.uri}>`).join(', '));
  }
}

function hasParam(uri: string, name: string): boolean {
  const u = parseUri(uri);
  return u !== null && uriParam(u, name) !== undefined;
}

/**
 * loose.c rr_do_force_send_socket: the socket whose address is the host of
 * our second Route entry (grep_sock_info with the URI's port, or the
 * default port of its transport, then with the port as written).
 */
function forceSocketOf(k: Engine, ctx: MsgContext, uri: string): void {
  const u = parseUri(uri);
  if (!u) return;
  const t = uriParam(u, 'transport');
  const proto = (typeof t === 'string' ? t.toLowerCase() : '') as Proto | '';
  const defaultPort = proto === 'tls' || proto === 'wss' ? 5061 : 5060;
  const si = k.sockets.grep(u.host, u.port ?? defaultPort, proto) ?? k.sockets.grep(u.host, u.port ?? 0, proto);
  if (si) ctx.forceSocket = si;
}

/**
 * loose.c after_loose. Our topmost Route is removed; with r2=on the entry
 * after it is taken as our second one whatever it names (is_2rr looks at
 * the first entry only), removed too, and the send socket is forced to the
 * socket it names. The next entry becomes $du. No Route left: 1, or -3
 * (RR_PRELOADED) for an initial request.
 */
function afterLoose(k: Engine, ctx: MsgContext, routes: RouteEntry[], preloaded: boolean): number {
  const first = routes[0]!;
  if (!isMine(k, first.uri)) {
    ctx.routedParams = null;
    ctx.dstUri = first.uri;
    return 1;
  }
  const u = parseUri(first.uri)!;
  ctx.routedParams = u.params.map(([n, v]) => (v === null ? `;${n}` : `;${n}=${v}`)).join('');
  let used = 1;
  if (uriParam(u, 'r2') === 'on' && routes[1]) {
    forceSocketOf(k, ctx, routes[1].uri);
    used = 2;
  }
  remove(ctx, routes, routes.slice(0, used));
  const next = routes[used];
  if (next) ctx.dstUri = next.uri;
  pathReceivedCallback(k, ctx, u);
  return !next && preloaded ? -3 : 1;
}

/** path_rr_callback: with path use_received, our Route's received parameter is the destination. */
function pathReceivedCallback(k: Engine, ctx: MsgContext, ours: NonNullable<ReturnType<typeof parseUri>>): void {
  if (modparam(k.cfg, 'path', 'use_received') !== '1') return;
  const received = uriParam(ours, 'received');
  if (typeof received === 'string' && received !== '') ctx.dstUri = decodeURIComponent(received);
}

/**
 * loose.c after_strict: an in-dialog request whose R-URI is this proxy
 * (the previous hop was a strict router, RFC 3261 §16.4). Our double Route
 * (first entry ours with r2=on) is skipped and the socket forced to the one
 * the FIRST entry names; nothing after it: -1 (RR_NOT_DRIVEN). A strict next
 * entry (no ;lr) becomes the R-URI; a loose one becomes $du and the LAST
 * Route entry becomes the R-URI (both removed).
 */
function afterStrict(k: Engine, ctx: MsgContext, routes: RouteEntry[]): number {
  const first = routes[0]!;
  const u = parseUri(first.uri);
  let at = 0;
  ctx.routedParams = null;
  if (u && uriParam(u, 'r2') === 'on' && isMine(k, first.uri)) {
    forceSocketOf(k, ctx, first.uri);
    at = 1;
    if (!routes[1]) {
      remove(ctx, routes, [first]);
      return -1;
    }
  }
  const ruri = parseUri(ctx.ruri);
  ctx.routedParams = ruri ? ruri.params.map(([n, v]) => (v === null ? `;${n}` : `;${n}=${v}`)).join('') : null;
  const cur = routes[at]!;
  if (!hasParam(cur.uri, 'lr')) {
    ctx.newUri = cur.uri;
    remove(ctx, routes, routes.slice(0, at + 1));
    return 1;
  }
  ctx.dstUri = cur.uri;
  const last = routes[routes.length - 1]!;
  ctx.newUri = last.uri;
  remove(ctx, routes, [...routes.slice(0, at), last]);
  return 1;
}

/** loose.c loose_route_mode(msg, 0): strict handling when an in-dialog request's R-URI is this proxy. */
function looseRoute(k: Engine): number {
  const ctx = k.ctx;
  const routes = routeEntries(ctx);
  if (routes.length === 0) return -1;
  const preloaded = !/;\s*tag=/i.test(ctx.msg.get('To') ?? '');
  const ruri = parseUri(ctx.ruri);
  if (!preloaded && ruri) {
    const t = uriParam(ruri, 'transport');
    if (k.sockets.isMyself(ruri.host, ruri.port, typeof t === 'string' ? t.toLowerCase() : '')) return afterStrict(k, ctx, routes);
  }
  return afterLoose(k, ctx, routes, preloaded);
}

export default defineModule('rr', (k) => ({
  loose_route: (): number => looseRoute(k),
  // rr_mod.c w_loose_route_preloaded: 1 only when loose_route() said "preloaded" (-3).
  loose_route_preloaded: (): number => rc(looseRoute(k) === -3),
  record_route(): number {
    k.ctx.recordRoute.done = true;
    return 1;
  },
  record_route_params(params: string): number {
    k.ctx.recordRoute.done = true;
    k.ctx.recordRoute.params.push(params.startsWith(';') ? params : `;${params}`);
    return 1;
  },
  add_rr_param(param: string): number {
    k.ctx.recordRoute.params.push(param);
    return 1;
  },
  check_route_param(re: string): number {
    const p = k.ctx.routedParams;
    return rc(p !== null && new RegExp(re).test(p));
  },
  is_direction(dir: string): number {
    // rr is_direction: ftag of our Route equals the From tag -> downstream.
    const p = k.ctx.routedParams;
    const ftag = p === null ? null : /;ftag=([^;]+)/.exec(p)?.[1] ?? null;
    if (ftag === null) return -1;
    const fromTag = /;\s*tag=([^;\s]+)/i.exec(k.ctx.msg.get('From') ?? '')?.[1];
    const down = ftag === fromTag;
    return rc(dir === 'downstream' ? down : dir === 'upstream' ? !down : false);
  },
}));
