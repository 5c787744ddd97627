/**
 * A well-formed request for the corpus entries to break: every entry starts
 * from the same valid message and changes one thing, so the answer it gets
 * is about that one thing.
 */
import type { BuildContext } from './types.ts';

export interface RequestSpec {
  readonly method: string;
  /** Default: a user of the served domain (the public port's alias). */
  readonly ruri?: string;
  /** Header names (as written below) to leave out. */
  readonly omit?: readonly string[];
  /** Replace a default header's whole line value (name kept), e.g. { CSeq: 'x INVITE' }. */
  readonly set?: Readonly<Record<string, string>>;
  /** Extra raw header lines, without CRLF, inserted before Content-Type/Length. */
  readonly add?: readonly string[];
  readonly body?: string;
  readonly contentType?: string;
  /** The Content-Length value as written (default: the body's byte length). */
  readonly contentLength?: string;
  /** Line separator (default CRLF). */
  readonly eol?: string;
}

const VIA_PROTO = { udp: 'UDP', tcp: 'TCP', tls: 'TLS', wss: 'WSS' } as const;

/** The port the R-URI names: the proxy's alias port for this transport. */
function aliasPort(ctx: BuildContext): number {
  return ctx.transport === 'tls' || ctx.transport === 'wss' ? ctx.proxy.webrtcPort : ctx.proxy.sipPort;
}

export function userUri(ctx: BuildContext, user = '1000'): string {
  return `sip:${user}@${ctx.proxy.domain}:${aliasPort(ctx)}`;
}

/** The proxy itself (an OPTIONS here is a keepalive). */
export function proxyUri(ctx: BuildContext): string {
  return `sip:${ctx.proxy.publicIp}:${aliasPort(ctx)}`;
}

export function request(ctx: BuildContext, spec: RequestSpec): string {
  const ruri = spec.ruri ?? userUri(ctx);
  const body = spec.body ?? '';
  const tag = ctx.token.slice(0, 10);
  const defaults: Array<[string, string]> = [
    ['Via', `SIP/2.0/${VIA_PROTO[ctx.transport]} ${ctx.local.ip}:${ctx.local.port};branch=z9hG4bK-${ctx.token};rport`],
    ['Max-Forwards', '70'],
    ['From', `<sip:alice@${ctx.proxy.domain}>;tag=${tag}`],
    ['To', `<${ruri}>`],
    ['Call-ID', `${ctx.token}@hostile.invalid`],
    ['CSeq', `1 ${spec.method}`],
    ['Contact', `<sip:alice@${ctx.local.ip}:${ctx.local.port}>`],
    ['User-Agent', 'hostile-corpus'],
  ];
  const lines = [`${spec.method} ${ruri} SIP/2.0`];
  for (const [name, value] of defaults) {
    if (spec.omit?.includes(name)) continue;
    lines.push(`${name}: ${spec.set?.[name] ?? value}`);
  }
  lines.push(...(spec.add ?? []));
  if (body !== '' || spec.contentType !== undefined) lines.push(`Content-Type: ${spec.contentType ?? 'application/sdp'}`);
  if (!spec.omit?.includes('Content-Length')) lines.push(`Content-Length: ${spec.contentLength ?? Buffer.byteLength(body, 'latin1')}`);
  const eol = spec.eol ?? '\r\n';
  return lines.join(eol) + eol + eol + body;
}

/** A valid audio offer from the client's own address. */
export function sdp(ip: string, port = 40000, extra: readonly string[] = []): string {
  return ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', ...extra, ''].join('\r\n');
}

/** A reply (start line and headers), e.g. a stray one nobody asked for. */
export function reply(ctx: BuildContext, status: string, vias: readonly string[], extra: readonly string[] = []): string {
  const tag = ctx.token.slice(0, 10);
  return [
    `SIP/2.0 ${status}`,
    ...vias.map((v) => `Via: ${v}`),
    `From: <sip:alice@${ctx.proxy.domain}>;tag=${tag}`,
    `To: <sip:1000@${ctx.proxy.domain}>;tag=${tag}x`,
    `Call-ID: ${ctx.token}@hostile.invalid`,
    'CSeq: 1 INVITE',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
