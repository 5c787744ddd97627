/**
 * KSR.rr: record_route (double RR when the legs use different sockets, see
 * runtime/send.ts) and loose_route as rr/loose.c after_loose does it:
 * no Route -1; our Route(s) removed (two with r2=on), next Route -> $du,
 * return 1; out-of-dialog with only our Route -> -3 (preloaded).
 */
import { parseNameAddr, parseUri, splitList, uriParam } from '../sip/uri.ts';
import type { Header } from '../sip/message.ts';
import type { MsgContext } from '../runtime/context.ts';
import type { Engine } from '../runtime/engine.ts';
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

/** Removes the given entries; a header whose entries are all consumed is deleted. */
function consume(ctx: MsgContext, all: RouteEntry[], count: number): void {
  const used = all.slice(0, count);
  for (const h of new Set(used.map((e) => e.header))) {
    const remaining = all.filter((e) => e.header === h && !used.includes(e));
    if (remaining.length === 0) ctx.lumps.removed.add(h);
    else ctx.lumps.rewritten.set(h, remaining.map((e) => `<${e.uri}>`).join(', '));
  }
}

function looseRoute(k: Engine): number {
  const ctx = k.ctx;
  const routes = routeEntries(ctx);
  const first = routes[0];
  if (!first) return -1;
  const preloaded = !/;\s*tag=/i.test(ctx.msg.get('To') ?? '');
  const ruri = parseUri(ctx.ruri);
  if (!preloaded && ruri && k.sockets.isMyself(ruri.host, ruri.port, '') && !isMine(k, first.uri)) {
    throw new Error('mock KSR: loose_route on a strict-routed request (R-URI is this proxy) is not modelled');
  }
  if (!isMine(k, first.uri)) {
    ctx.routedParams = null;
    ctx.dstUri = first.uri;
    return 1;
  }
  const u = parseUri(first.uri)!;
  ctx.routedParams = u.params.map(([n, v]) => (v === null ? `;${n}` : `;${n}=${v}`)).join('');
  let used = 1;
  if (uriParam(u, 'r2') === 'on' && routes[1] && isMine(k, routes[1].uri)) used = 2;
  consume(ctx, routes, used);
  const next = routes[used];
  if (!next) return preloaded ? -3 : 1;
  ctx.dstUri = next.uri;
  return 1;
}

export default defineModule('rr', (k) => ({
  loose_route: (): number => looseRoute(k),
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
