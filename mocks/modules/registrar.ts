/**
 * KSR.registrar over the in-memory "location" table (registrar module doc
 * §4.1/4.2): save() answers 200 with all current bindings itself and
 * returns 1 inserted / 2 updated / 3 deleted / 4 returned (-1 error);
 * lookup() rewrites the R-URI to the newest binding, sets $du from its
 * received (or Path) and forces its socket: 1 found, -1 none, -2 found but
 * (method_filtering=1, initial request) no binding allows the method.
 * default_expires/min_expires/max_expires/method_filtering and usrloc
 * use_domain are read from kamailio.cfg (module defaults otherwise).
 *
 * Path (registrar use_path): save() stores the message's Path headers
 * (build_path_vector), and with path_use_received the first entry's
 * received parameter as the contact's received, with usrloc's nat_bflag.
 * lookup() prefers the Path to the received address (lookup.c): $du is the
 * first entry and tm sends the Path as Route; with path_check_local a first
 * entry whose host is ours is skipped (check_self, any port), so the next
 * one, or else the received address, is used.
 */
import { modparam } from '../config/cfg.ts';
import { nameAddrParam, parseNameAddr, parseUri, splitList, uriParam } from '../sip/uri.ts';
import type { Header } from '../sip/message.ts';
import type { Binding } from '../runtime/outcome.ts';
import type { Engine } from '../runtime/engine.ts';
import { recordReply } from '../runtime/send.ts';
import { Location } from '../state/location.ts';
import { defineModule, rc } from './define.ts';

function param(k: Engine, name: string, dflt: number): number {
  return Number(modparam(k.cfg, 'registrar', name) ?? dflt);
}

function aorOf(k: Engine, uri: string | undefined): string | null {
  const u = uri === undefined ? null : parseUri(parseNameAddr(uri)?.uri ?? uri);
  if (!u) return null;
  const useDomain = modparam(k.cfg, 'usrloc', 'use_domain') === '1';
  return useDomain ? `${u.user}@${u.host}` : u.user;
}

function replyContacts(bindings: Binding[]): Header[] {
  return bindings.map((b) => ({
    name: 'Contact',
    value: `<${b.contact}>;expires=${b.expires}${b.received ? `;received="${b.received}"` : ''}`,
  }));
}

/** The Path headers as one vector, as build_path_vector joins them; null without use_path or Path. */
function pathVector(k: Engine): string | null {
  if (param(k, 'use_path', 0) !== 1) return null;
  const values = k.ctx.msg.all('Path').map((h) => h.value);
  return values.length === 0 ? null : values.join(',');
}

/** path_use_received: the received parameter of the first Path entry, unescaped. */
function pathReceived(k: Engine, path: string | null): string | null {
  if (path === null || param(k, 'path_use_received', 0) !== 1) return null;
  const first = parseUri(parseNameAddr(splitList(path)[0] ?? '')?.uri ?? '');
  const received = first === null ? undefined : uriParam(first, 'received');
  return typeof received === 'string' ? decodeURIComponent(received) : null;
}

function save(k: Engine, table: string, flags: number): number {
  Location.table(table);
  const ctx = k.ctx;
  const aor = aorOf(k, ctx.msg.get('To'));
  if (aor === null) return -1;
  const contacts = ctx.msg.all('Contact').flatMap((h) => splitList(h.value));
  const hdrExpires = ctx.msg.get('Expires');
  const path = pathVector(k);
  const receivedByPath = pathReceived(k, path);
  const natFlag = modparam(k.cfg, 'usrloc', 'nat_bflag');
  const bflags = new Set(ctx.bflags);
  if (receivedByPath !== null && natFlag !== undefined) bflags.add(Number(natFlag));
  const outcome: string[] = [];
  if (contacts.length === 1 && contacts[0] === '*') {
    if (hdrExpires?.trim() !== '0') return -1;
    outcome.push(k.location.removeAll(aor) ? 'deleted' : 'none');
  }
  for (const c of contacts.filter((x) => x !== '*')) {
    const na = parseNameAddr(c);
    if (!na || !parseUri(na.uri)) return -1;
    const p = nameAddrParam(na, 'expires');
    let expires = typeof p === 'string' ? Number(p) : hdrExpires !== undefined ? Number(hdrExpires) : param(k, 'default_expires', 3600);
    const max = param(k, 'max_expires', 0);
    if (expires > 0 && expires < param(k, 'min_expires', 60)) expires = param(k, 'min_expires', 60);
    if (max > 0 && expires > max) expires = max;
    const binding: Binding = {
      aor,
      contact: na.uri,
      expires,
      received: receivedByPath ?? ctx.receivedUri,
      socket: ctx.transport.socket,
      proto: ctx.transport.proto,
      path,
      callId: ctx.msg.get('Call-ID') ?? '',
      cseq: Number(ctx.msg.cseq?.num ?? 0),
      userAgent: ctx.msg.get('User-Agent') ?? null,
      bflags: [...bflags].sort((a, b) => a - b),
      methods: ctx.msg.has('Allow') ? ctx.msg.all('Allow').flatMap((h) => h.value.split(',').map((m) => m.trim().toUpperCase())) : null,
    };
    outcome.push(k.location.upsert(binding));
    if (expires > 0) ctx.rec.registrations.push(binding);
  }
  if ((flags & 2) === 0) recordReply(ctx, 200, 'OK', replyContacts(k.location.lookup(aor)), ctx.tx ? 'tm' : 'sl');
  if (outcome.includes('inserted')) return 1;
  if (outcome.includes('updated')) return 2;
  if (outcome.includes('deleted')) return 3;
  return 4;
}

function lookup(k: Engine, table: string): number {
  Location.table(table);
  const ctx = k.ctx;
  const aor = aorOf(k, ctx.ruri);
  const all = aor === null ? [] : k.location.lookup(aor);
  if (all.length === 0) return -1;
  const method = ctx.msg.method.toUpperCase();
  const initial = !/;\s*tag=/i.test(ctx.msg.get('To') ?? '');
  const filter = param(k, 'method_filtering', 0) === 1 && initial;
  const found = filter ? all.find((b) => b.methods === null || b.methods.includes(method)) : all[0];
  if (!found) return -2;
  ctx.newUri = found.contact;
  let path = found.path === null ? [] : splitList(found.path);
  if (param(k, 'path_check_local', 0) === 1 && path.length > 0) {
    const first = parseUri(parseNameAddr(path[0]!)?.uri ?? '');
    if (first !== null && k.sockets.isMyself(first.host, 0, '')) path = path.slice(1);
  }
  const pathDst = path.length === 0 ? null : parseNameAddr(path[0]!)?.uri ?? null;
  ctx.pathVector = pathDst === null ? null : path.join(',');
  ctx.dstUri = pathDst ?? found.received;
  ctx.forceSocket = found.socket;
  for (const f of found.bflags) ctx.bflags.add(f);
  return 1;
}

export default defineModule('registrar', (k) => ({
  save: (table: string, flags: number): number => save(k, table, flags),
  lookup: (table: string): number => lookup(k, table),
  registered(table: string): number {
    Location.table(table);
    const aor = aorOf(k, k.ctx.ruri);
    return rc(aor !== null && k.location.lookup(aor).length > 0);
  },
}));
