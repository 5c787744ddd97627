/**
 * Builds SIP text for tests with sensible defaults: Via from the source
 * address, From/To derived from the R-URI, fresh tags/Call-ID/branch,
 * CSeq matching the method, Max-Forwards 70, a Contact at the source.
 * Every field can be overridden; `null` leaves a header out.
 */
import { randomBytes } from 'node:crypto';
import { canonicalName, SipMessage } from './message.ts';

const rand = (): string => randomBytes(6).toString('hex');

export interface RequestSpec {
  method: string;
  ruri: string;
  /** Source "ip:port" of the UA (used for Via and Contact defaults). */
  source?: string;
  proto?: string;
  from?: string;
  fromTag?: string;
  to?: string;
  toTag?: string | null;
  callId?: string;
  cseq?: number;
  branch?: string;
  via?: string | null;
  maxForwards?: number | null;
  contact?: string | null;
  /** Extra headers in order, e.g. [['Route', '<sip:...;lr>']]. */
  headers?: Array<[string, string]>;
  body?: string;
  contentType?: string;
}

export function sipRequest(spec: RequestSpec): string {
  const addr = spec.source ?? '203.0.113.10:5060';
  const proto = (spec.proto ?? 'udp').toUpperCase();
  const userHost = /^sips?:(?:([^@;]+)@)?([^;>]+)/.exec(spec.ruri);
  const domain = userHost?.[2] ?? 'example.com';
  const from = spec.from ?? `<sip:alice@${domain}>`;
  const to = spec.to ?? `<${spec.ruri.replace(/;.*$/, '')}>`;
  const headers: Array<[string, string | null]> = [
    ['Via', spec.via === undefined ? `SIP/2.0/${proto} ${addr};branch=${spec.branch ?? `z9hG4bK${rand()}`};rport` : spec.via],
    ['Max-Forwards', spec.maxForwards === undefined ? '70' : spec.maxForwards === null ? null : String(spec.maxForwards)],
    ['From', `${from};tag=${spec.fromTag ?? rand()}`],
    ['To', spec.toTag ? `${to};tag=${spec.toTag}` : to],
    ['Call-ID', spec.callId ?? `${rand()}@mock`],
    ['CSeq', `${spec.cseq ?? 1} ${spec.method}`],
    ['Contact', spec.contact === undefined ? `<sip:alice@${addr}${proto === 'UDP' ? '' : `;transport=${proto.toLowerCase()}`}>` : spec.contact],
    ...(spec.headers ?? []),
  ];
  const body = spec.body ?? '';
  if (body !== '') headers.push(['Content-Type', spec.contentType ?? 'application/sdp']);
  const lines = [`${spec.method} ${spec.ruri} SIP/2.0`];
  for (const [n, v] of headers) if (v !== null) lines.push(`${n}: ${v}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

export interface ReplySpec {
  toTag?: string;
  reason?: string;
  headers?: Array<[string, string]>;
  body?: string;
  contentType?: string;
}

const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 302: 'Moved Temporarily', 404: 'Not Found',
  408: 'Request Timeout', 480: 'Temporarily Unavailable', 486: 'Busy Here', 487: 'Request Terminated',
  500: 'Server Internal Error', 503: 'Service Unavailable', 603: 'Decline',
};

/** A reply to `request` as its next hop would send it (all Vias copied, To tag added above 100). */
export function sipReply(request: SipMessage, code: number, spec: ReplySpec = {}): SipMessage {
  const headers = request.headers
    .filter((h) => ['via', 'from', 'to', 'call-id', 'cseq', 'record-route'].includes(canonicalName(h.name)))
    .map((h) => (canonicalName(h.name) === 'to' && code > 100 && !/;\s*tag=/i.test(h.value) ? { name: h.name, value: `${h.value};tag=${spec.toTag ?? rand()}` } : { ...h }));
  for (const [name, value] of spec.headers ?? []) headers.push({ name, value });
  const body = spec.body ?? '';
  if (body !== '') headers.push({ name: 'Content-Type', value: spec.contentType ?? 'application/sdp' });
  return new SipMessage({ kind: 'reply', version: 'SIP/2.0', status: code, reason: spec.reason ?? REASONS[code] ?? 'Unknown' }, headers, body);
}
