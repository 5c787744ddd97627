/**
 * SIP URI and name-addr parsing (RFC 3261 §19.1, §20.10) for the mock.
 * Kept small: enough for the PVs ($rU, $rd, $rp, $rz...), is_myself, alias
 * handling and transport selection the routing relies on.
 */

export interface SipUri {
  scheme: string;
  user: string;
  password: string;
  host: string;
  /** Port as written, or null when the URI has none (Kamailio's port_no = 0). */
  port: number | null;
  /** Parameters in order; a flag parameter has value null. */
  params: Array<[string, string | null]>;
  headers: string;
}

export function parseUri(text: string): SipUri | null {
  const m = /^(sips?|tel|urn):(.*)$/i.exec(text.trim());
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  let rest = m[2]!;
  let headers = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    headers = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (scheme === 'tel' || scheme === 'urn') {
    const [num, ...ps] = rest.split(';');
    return { scheme, user: num ?? '', password: '', host: '', port: null, params: ps.map(splitParam), headers };
  }
  let userinfo = '';
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const [hostport = '', ...ps] = rest.split(';');
  const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostport);
  if (!hp) return null;
  const colon = userinfo.indexOf(':');
  return {
    scheme,
    user: colon >= 0 ? userinfo.slice(0, colon) : userinfo,
    password: colon >= 0 ? userinfo.slice(colon + 1) : '',
    host: hp[1]!,
    port: hp[2] === undefined ? null : Number(hp[2]),
    params: ps.filter((p) => p !== '').map(splitParam),
    headers,
  };
}

function splitParam(p: string): [string, string | null] {
  const eq = p.indexOf('=');
  return eq < 0 ? [p, null] : [p.slice(0, eq), p.slice(eq + 1)];
}

export function formatUri(u: SipUri): string {
  let s = `${u.scheme}:`;
  if (u.scheme === 'tel' || u.scheme === 'urn') {
    s += u.user;
  } else {
    if (u.user !== '') s += u.user + (u.password !== '' ? `:${u.password}` : '') + '@';
    s += u.host + (u.port === null ? '' : `:${u.port}`);
  }
  for (const [k, v] of u.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  if (u.headers !== '') s += `?${u.headers}`;
  return s;
}

export function uriParam(u: SipUri, name: string): string | null | undefined {
  const found = u.params.find(([k]) => k.toLowerCase() === name.toLowerCase());
  return found ? found[1] : undefined;
}

export function withoutParam(u: SipUri, name: string): SipUri {
  return { ...u, params: u.params.filter(([k]) => k.toLowerCase() !== name.toLowerCase()) };
}

/** Transport of a URI as Kamailio's parse_uri sees it: '' when no ;transport and not sips. */
export function uriTransport(u: SipUri): string {
  const t = uriParam(u, 'transport');
  if (typeof t === 'string') return t.toLowerCase();
  return u.scheme === 'sips' ? 'tls' : '';
}

export interface NameAddr {
  display: string;
  uri: string;
  /** Header parameters after the URI (;tag=, ;expires=, ...). */
  params: Array<[string, string | null]>;
}

/** Parses `"Name" <sip:u@h>;tag=x` or `sip:u@h;tag=x` (parameters then belong to the header). */
export function parseNameAddr(text: string): NameAddr | null {
  const t = text.trim();
  const lt = t.indexOf('<');
  if (lt >= 0) {
    const gt = t.indexOf('>', lt);
    if (gt < 0) return null;
    const params = t.slice(gt + 1).split(';').map((p) => p.trim()).filter((p) => p !== '');
    return { display: t.slice(0, lt).trim(), uri: t.slice(lt + 1, gt), params: params.map(splitParam) };
  }
  const [uri = '', ...ps] = t.split(';');
  return { display: '', uri: uri.trim(), params: ps.map((p) => p.trim()).filter((p) => p !== '').map(splitParam) };
}

export function formatNameAddr(n: NameAddr): string {
  let s = (n.display !== '' ? `${n.display} ` : '') + `<${n.uri}>`;
  for (const [k, v] of n.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  return s;
}

export function nameAddrParam(n: NameAddr, name: string): string | null | undefined {
  const found = n.params.find(([k]) => k.toLowerCase() === name.toLowerCase());
  return found ? found[1] : undefined;
}

/** Splits a header value on top-level commas (not inside quotes or <>), as for Contact/Route lists. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth--;
    if (ch === ',' && depth === 0 && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}
