/**
 * RFC 2617 MD5 digest: response computation, the mock's nonces, and a helper
 * tests use to answer a challenge like a real UA would.
 */
import { createHash } from 'node:crypto';

export const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

export interface DigestParams {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** With qop=auth the response covers nc and cnonce too. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}

export function digestResponse(p: DigestParams, ha1 = md5(`${p.username}:${p.realm}:${p.password}`)): string {
  const ha2 = md5(`${p.method}:${p.uri}`);
  if (p.qop === 'auth') return md5(`${ha1}:${p.nonce}:${p.nc ?? '00000001'}:${p.cnonce ?? ''}:auth:${ha2}`);
  return md5(`${ha1}:${p.nonce}:${ha2}`);
}

/** The value of an Authorization / Proxy-Authorization header answering a challenge. */
export function authorizationValue(p: DigestParams): string {
  const parts = [
    `username="${p.username}"`,
    `realm="${p.realm}"`,
    `nonce="${p.nonce}"`,
    `uri="${p.uri}"`,
    `response="${digestResponse(p)}"`,
    'algorithm=MD5',
  ];
  if (p.qop === 'auth') parts.push('qop=auth', `nc=${p.nc ?? '00000001'}`, `cnonce="${p.cnonce ?? ''}"`);
  return `Digest ${parts.join(', ')}`;
}

/** Pulls name=value pairs out of a Digest header value. */
export function parseDigest(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of value.replace(/^\s*Digest\s+/i, '').matchAll(/(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) {
    out.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  }
  return out;
}

/**
 * Nonces the mock issues: issue time plus a keyed hash, so a forged or
 * altered nonce is rejected and an old one expires (auth nonce_expire, 300 s).
 */
export class Nonces {
  constructor(
    private readonly secret: string,
    readonly expireSeconds = 300,
  ) {}

  issue(nowSeconds: number): string {
    const t = nowSeconds.toString(16).padStart(8, '0');
    return t + md5(`${this.secret}:${t}`);
  }

  /** 'ok', 'stale' (expired) or 'invalid' (not ours). */
  check(nonce: string, nowSeconds: number): 'ok' | 'stale' | 'invalid' {
    const t = nonce.slice(0, 8);
    if (nonce.length !== 40 || md5(`${this.secret}:${t}`) !== nonce.slice(8)) return 'invalid';
    return nowSeconds > Number.parseInt(t, 16) + this.expireSeconds ? 'stale' : 'ok';
  }
}
