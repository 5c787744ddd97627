/**
 * SIP message model: raw text (CRLF or LF) to start line + ordered headers +
 * body, and back. Header lookup understands compact forms, because Kamailio
 * matches headers by parsed type ($hdr(Via) also finds `v:`).
 */

export interface Header {
  /** Name as written on the wire (compact or long form). */
  name: string;
  value: string;
}

const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
  f: 'from', k: 'supported', s: 'subject', t: 'to', v: 'via', r: 'refer-to', o: 'event',
  u: 'allow-events', b: 'referred-by', x: 'session-expires', y: 'identity', a: 'accept-contact',
  j: 'reject-contact', d: 'request-disposition',
};

/** Canonical lower-case long name, so `v`, `Via` and `VIA` compare equal. */
export function canonicalName(name: string): string {
  const lower = name.trim().toLowerCase();
  return COMPACT[lower] ?? lower;
}

export type StartLine =
  | { kind: 'request'; method: string; uri: string; version: string }
  | { kind: 'reply'; version: string; status: number; reason: string };

export class SipMessage {
  constructor(
    public start: StartLine,
    public headers: Header[],
    public body: string,
  ) {}

  static parse(raw: string): SipMessage {
    const text = raw.replace(/\r\n/g, '\n');
    const sep = text.indexOf('\n\n');
    const head = sep >= 0 ? text.slice(0, sep) : text.replace(/\n+$/, '');
    const bodyLf = sep >= 0 ? text.slice(sep + 2) : '';
    const lines = head.split('\n');
    const first = (lines.shift() ?? '').trim();
    const start = parseStartLine(first);
    const headers: Header[] = [];
    for (const line of lines) {
      if (/^[ \t]/.test(line) && headers.length > 0) {
        // RFC 3261 §7.3.1 line folding
        const last = headers[headers.length - 1]!;
        last.value += ' ' + line.trim();
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`mock SIP parser: bad header line "${line}"`);
      headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
    }
    // The body keeps CRLF line ends as on the wire (SDP uses CRLF).
    const body = raw.includes('\r\n') ? bodyLf.replace(/\n/g, '\r\n') : bodyLf;
    return new SipMessage(start, headers, body);
  }

  get isRequest(): boolean {
    return this.start.kind === 'request';
  }

  /** An HTTP/1.x message: Kamailio's parser takes these too (IS_HTTP), e.g. a WebSocket upgrade for xhttp. */
  get isHttp(): boolean {
    return this.start.version.startsWith('HTTP/');
  }

  get method(): string {
    if (this.start.kind === 'request') return this.start.method;
    return this.cseq?.method ?? '';
  }

  /** All header lines with this name (compact forms included), in order. */
  all(name: string): Header[] {
    const want = canonicalName(name);
    return this.headers.filter((h) => canonicalName(h.name) === want);
  }

  /** Body of the first header with this name, or undefined. */
  get(name: string): string | undefined {
    return this.all(name)[0]?.value;
  }

  has(name: string): boolean {
    return this.all(name).length > 0;
  }

  get cseq(): { num: string; method: string } | undefined {
    const v = this.get('CSeq');
    if (v === undefined) return undefined;
    const [num = '', method = ''] = v.trim().split(/\s+/);
    return { num, method };
  }

  clone(): SipMessage {
    return new SipMessage({ ...this.start }, this.headers.map((h) => ({ ...h })), this.body);
  }

  /** Wire form with CRLF and a Content-Length matching the body. */
  toString(): string {
    const first =
      this.start.kind === 'request'
        ? `${this.start.method} ${this.start.uri} ${this.start.version}`
        : `${this.start.version} ${this.start.status} ${this.start.reason}`;
    const lines = [first];
    for (const h of this.headers) {
      if (canonicalName(h.name) === 'content-length') continue;
      lines.push(`${h.name}: ${h.value}`);
    }
    lines.push(`Content-Length: ${Buffer.byteLength(this.body)}`);
    return lines.join('\r\n') + '\r\n\r\n' + this.body;
  }
}

function parseStartLine(line: string): StartLine {
  // parser/parse_fline.c accepts SIP/2.0 and HTTP/1.x first lines; the version tells them apart (IS_HTTP).
  const reply = /^((?:SIP|HTTP)\/\d\.\d)\s+(\d{3})\s*(.*)$/.exec(line);
  if (reply) return { kind: 'reply', version: reply[1]!, status: Number(reply[2]), reason: reply[3]! };
  const req = /^([A-Za-z]+)\s+(\S+)\s+((?:SIP|HTTP)\/\d\.\d)$/.exec(line);
  if (req) return { kind: 'request', method: req[1]!, uri: req[2]!, version: req[3]! };
  throw new Error(`mock SIP parser: bad start line "${line}"`);
}

export interface Via {
  proto: string;
  host: string;
  port: number | null;
  params: Array<[string, string | null]>;
}

/** Parses one Via value (`SIP/2.0/UDP host:port;branch=...`). */
export function parseVia(value: string): Via | null {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*(\w+)\s+(\[[^\]]+\]|[^:;\s]+)(?::(\d+))?\s*(.*)$/i.exec(value.trim());
  if (!m) return null;
  const params = m[4]!
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p): [string, string | null] => {
      const eq = p.indexOf('=');
      return eq < 0 ? [p, null] : [p.slice(0, eq), p.slice(eq + 1)];
    });
  return { proto: m[1]!.toUpperCase(), host: m[2]!, port: m[3] === undefined ? null : Number(m[3]), params };
}

export function viaParam(v: Via, name: string): string | null | undefined {
  const f = v.params.find(([k]) => k.toLowerCase() === name);
  return f ? f[1] : undefined;
}
