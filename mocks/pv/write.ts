/**
 * Pseudo-variable writes (KSR.pv.sets/seti/unset). Only writable PVs that
 * routing plausibly sets are modelled; others throw so a test notices.
 */
import { formatUri, parseUri } from '../sip/uri.ts';
import type { MsgContext } from '../runtime/context.ts';
import type { Engine } from '../runtime/engine.ts';
import { parsePvName, splitArrow } from './read.ts';

/** value null = unset ($null assignment). */
export function writePv(k: Engine, ctx: MsgContext, spec: string, value: string | number | null): void {
  const { name, inner } = parsePvName(spec);
  switch (name) {
    case 'var':
      // Assigning $null to a $var stores 0 (pv module doc, "$var(name)").
      k.vars.set(inner ?? '', value ?? 0);
      return;
    case 'avp':
      if (value === null) ctx.avps.delete(inner ?? '');
      else ctx.avps.set(inner ?? '', [value, ...(ctx.avps.get(inner ?? '') ?? [])]);
      return;
    case 'xavp': {
      // pv_xavp.c pv_set_xavp: $xavp(a=>b) = v adds a new root item a (at the
      // head, so it becomes a[0]) holding b; $xavp(a[0]=>b) = v adds b to the
      // existing a[0] (nothing when there is none). Other indexes are not modelled.
      const [rootSpec, key] = splitArrow(inner ?? '', '$xavp');
      const indexed = /^(.*)\[0\]$/.exec(rootSpec);
      const root = indexed ? indexed[1]! : rootSpec;
      if (/[[\]]/.test(root) || /[[\]]/.test(key)) throw new Error(`mock KSR: ${spec}: only no index or [0] on the root is modelled`);
      const list = ctx.xavps.get(root) ?? [];
      if (value === null) {
        list[0]?.delete(key);
        return;
      }
      if (indexed) {
        list[0]?.set(key, value);
        return;
      }
      ctx.xavps.set(root, [new Map<string, string | number>([[key, value]]), ...list]);
      return;
    }
    case 'sht': {
      const [table, key] = splitArrow(inner ?? '', '$sht');
      if (value === null) k.htables.remove(table, key);
      else k.htables.set(table, key, value);
      return;
    }
    case 'ru':
      // pv_core.c pv_set_ruri/pv_set_ruri_user/pv_set_ruri_host go through do_action (ser-error.ts)
      k.serError.doAction();
      ctx.newUri = requireUri(String(value ?? ''), spec);
      return;
    case 'rU':
    case 'rd': {
      k.serError.doAction();
      const u = parseUri(ctx.ruri);
      if (!u) throw new Error(`mock KSR: cannot set ${spec}: R-URI "${ctx.ruri}" does not parse`);
      ctx.newUri = formatUri(name === 'rU' ? { ...u, user: String(value ?? '') } : { ...u, host: String(value ?? '') });
      return;
    }
    case 'du':
      ctx.dstUri = value === null || value === '' ? null : requireUri(String(value), spec);
      return;
    case 'sbranch':
      // pv_branch.c pv_set_sbranch: the static branch's fields; only uri and dst_uri are modelled.
      if (inner === 'uri') k.sbranch.uri = value === null || value === '' ? null : requireUri(String(value), spec);
      else if (inner === 'dst_uri') k.sbranch.dstUri = value === null || value === '' ? null : requireUri(String(value), spec);
      else throw new Error(`mock KSR: ${spec} is not modelled (uri and dst_uri are)`);
      return;
    case 'fs':
    case 'fsn': {
      if (value === null || value === '') {
        ctx.forceSocket = null;
        return;
      }
      const v = String(value);
      const parsed = name === 'fs' ? k.sockets.parseSpec(v) : null;
      const s = name === 'fsn' ? k.sockets.byName(v) : parsed ? k.sockets.find(parsed.proto, parsed.ip, parsed.port) : undefined;
      if (!s) throw new Error(`mock KSR: ${spec} = "${v}" matches no listen socket in kamailio.cfg`);
      ctx.forceSocket = s;
      return;
    }
    default:
      throw new Error(`mock KSR: PV ${spec} is not writable in the mock`);
  }
}

function requireUri(v: string, spec: string): string {
  if (!parseUri(v)) throw new Error(`mock KSR: ${spec} = "${v}" is not a SIP URI`);
  return v;
}
