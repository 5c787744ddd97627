/**
 * KSR.nathelper subset (nathelper module doc §5). Contact rewrites are lumps:
 * visible in what is sent, not in $ct (the doc says so for set_contact_alias).
 */
import { isIP } from 'node:net';
import { parseVia } from '../sip/message.ts';
import { formatNameAddr, formatUri, parseNameAddr, parseUri, splitList, uriParam, withoutParam } from '../sip/uri.ts';
import type { MsgContext } from '../runtime/context.ts';
import type { Engine } from '../runtime/engine.ts';
import { defineModule, rc } from './define.ts';

/** RFC 1918 and RFC 6598 (100.64/10) ranges, as nathelper's nat_uac_test checks them. */
export function isPrivate(ip: string): boolean {
  if (isIP(ip) !== 4) return false;
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}

// Kamailio's PROTO_* numbers used in ;alias=ip~port~proto
const PROTO_NUM: Readonly<Record<string, number>> = { udp: 1, tcp: 2, tls: 3, sctp: 4, ws: 5, wss: 6 };
const NUM_PROTO: Readonly<Record<string, string>> = { 1: 'udp', 2: 'tcp', 3: 'tls', 4: 'sctp', 5: 'ws', 6: 'wss' };

function sdpAddresses(body: string): string[] {
  return [...body.matchAll(/^c=IN IP[46] ([^\s/]+)/gm)].map((m) => m[1]!);
}

function natTest(ctx: MsgContext, flags: number): boolean {
  const t = ctx.transport;
  const via = parseVia(splitList(ctx.msg.get('Via') ?? '')[0] ?? '');
  const contact = parseUri(parseNameAddr(ctx.msg.get('Contact') ?? '')?.uri ?? '');
  const sdp = sdpAddresses(ctx.msg.body);
  return (
    (flags & 1 && contact !== null && isPrivate(contact.host)) ||
    (flags & 2 && via !== null && via.host !== t.srcIp) ||
    (flags & 4 && via !== null && isPrivate(via.host)) ||
    (flags & 8 && sdp.some(isPrivate)) ||
    (flags & 16 && via !== null && (via.port ?? 5060) !== t.srcPort) ||
    (flags & 32 && isPrivate(t.srcIp)) ||
    (flags & 64 && (t.proto === 'ws' || t.proto === 'wss')) ||
    (flags & 128 && contact !== null && (contact.port ?? 5060) !== t.srcPort) ||
    (flags & 256 && sdp.some((ip) => ip !== t.srcIp)) ||
    (flags & 512 && ctx.dstUri !== null && ctx.dstUri !== ctx.ruri) ||
    false
  ) as boolean;
}

/** Rewrites the first Contact URI of the outgoing message (lump). */
function rewriteContact(ctx: MsgContext, change: (u: NonNullable<ReturnType<typeof parseUri>>) => string): boolean {
  const h = ctx.msg.all('Contact')[0];
  if (!h) return false;
  const [first = '', ...rest] = splitList(ctx.lumps.rewritten.get(h) ?? h.value);
  const na = parseNameAddr(first);
  const u = na ? parseUri(na.uri) : null;
  if (!na || !u) return false;
  ctx.lumps.rewritten.set(h, [formatNameAddr({ ...na, uri: change(u) }), ...rest].join(', '));
  return true;
}

function addAlias(k: Engine, trim: boolean): number {
  const ctx = k.ctx;
  const t = ctx.transport;
  const contact = parseUri(parseNameAddr(ctx.msg.get('Contact') ?? '')?.uri ?? '');
  if (!contact) return -1;
  // nothing to add when the contact already is the source address and transport
  if (contact.host === t.srcIp && (contact.port ?? 5060) === t.srcPort && (uriParam(contact, 'transport') ?? 'udp') === t.proto) return 1;
  const alias = `${t.srcIp}~${t.srcPort}~${PROTO_NUM[t.proto] ?? 1}`;
  return rc(
    rewriteContact(ctx, (u) => {
      const base = trim ? withoutParam(u, 'alias') : u;
      return formatUri({ ...base, params: [...base.params, ['alias', alias]] });
    }),
  );
}

function handleRuriAlias(k: Engine, last: boolean): number {
  const ctx = k.ctx;
  const u = parseUri(ctx.ruri);
  if (!u) return -1;
  const aliases = u.params.filter(([n]) => n.toLowerCase() === 'alias');
  const chosen = last ? aliases[aliases.length - 1] : aliases[0];
  if (!chosen) return 2;
  const m = /^([^~]+)~(\d+)~(\d+)$/.exec(chosen[1] ?? '');
  if (!m) return -1;
  const proto = NUM_PROTO[m[3]!] ?? 'udp';
  ctx.dstUri = `sip:${m[1]}:${m[2]}${proto === 'udp' ? '' : `;transport=${proto}`}`;
  ctx.newUri = formatUri({ ...u, params: u.params.filter((p) => p !== chosen) });
  return 1;
}

export default defineModule('nathelper', (k) => ({
  nat_uac_test: (flags: number): number => rc(natTest(k.ctx, flags)),
  fix_nated_contact(): number {
    const t = k.ctx.transport;
    return rc(rewriteContact(k.ctx, (u) => formatUri({ ...u, host: t.srcIp, port: t.srcPort })));
  },
  fix_nated_register(): number {
    const ctx = k.ctx;
    if (ctx.msg.method.toUpperCase() !== 'REGISTER') return -1;
    const t = ctx.transport;
    // stored in received_avp; registrar save() puts it in the binding's "received"
    ctx.receivedUri = `sip:${t.srcIp}:${t.srcPort}${t.proto === 'udp' ? '' : `;transport=${t.proto}`}`;
    return 1;
  },
  set_contact_alias: (): number => addAlias(k, false),
  set_contact_alias_trim: (): number => addAlias(k, true),
  add_contact_alias: (): number => addAlias(k, false),
  handle_ruri_alias: (): number => handleRuriAlias(k, false),
  handle_ruri_alias_mode: (mode: number): number => handleRuriAlias(k, mode !== 0),
  is_rfc1918: (ip: string): number => rc(isPrivate(ip)),
}));
