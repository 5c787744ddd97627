/**
 * KSR.auth and KSR.auth_db: digest verification with auth_db's return codes
 * (auth/api.h auth_cfg_result): 1 ok, -1 error/invalid nonce/bad
 * credentials, -2 wrong password, -3 unknown user, -4 stale nonce, -5 no
 * credentials for the realm, -8 auth user mismatch (flag 1). Challenges
 * are 401 + WWW-Authenticate for REGISTER, 407 + Proxy-Authenticate else.
 */
import { digestResponse, md5, parseDigest } from '../auth/digest.ts';
import { parseNameAddr, parseUri } from '../sip/uri.ts';
import type { Header } from '../sip/message.ts';
import type { MsgContext } from '../runtime/context.ts';
import type { Engine } from '../runtime/engine.ts';
import { recordReply, slRefuses } from '../runtime/send.ts';
import { defineModule, rc } from './define.ts';

function credentialHeaderName(ctx: MsgContext): string {
  return ctx.msg.method.toUpperCase() === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization';
}

/** auth_db digest_authenticate_hdr; `ha1For` returns null for an unknown user. */
export function verify(k: Engine, realm: string, ha1For: (user: string) => string | null): number {
  const ctx = k.ctx;
  if (['ACK', 'CANCEL', 'PRACK'].includes(ctx.msg.method.toUpperCase())) return 1;
  if (realm === '') return -1;
  const header = ctx.msg.all(credentialHeaderName(ctx)).find((h) => parseDigest(h.value).get('realm') === realm);
  if (!header) return -5;
  const d = parseDigest(header.value);
  const [username, nonce, uri, response] = ['username', 'nonce', 'uri', 'response'].map((f) => d.get(f));
  if (!username || !nonce || !uri || !response) return -1;
  const state = k.nonces.check(nonce, k.clock.seconds());
  if (state === 'invalid') return -1;
  if (state === 'stale') return -4;
  const ha1 = ha1For(username);
  if (ha1 === null) return -3;
  const qop = d.get('qop');
  const expected = digestResponse(
    { username, realm, password: '', method: ctx.msg.method, uri, nonce, ...(qop === 'auth' ? { qop, nc: d.get('nc') ?? '', cnonce: d.get('cnonce') ?? '' } : {}) },
    ha1,
  );
  if (expected !== response) return -2;
  ctx.authorizedHeader = header;
  return 1;
}

/** auth_check flag 1: the auth user must match From (To for REGISTER/PUBLISH), and From must equal To there. */
function identityCheck(ctx: MsgContext): number {
  const user = (h: string): string => parseUri(parseNameAddr(ctx.msg.get(h) ?? '')?.uri ?? '')?.user ?? '';
  const authUser = parseDigest(ctx.authorizedHeader?.value ?? '').get('username') ?? '';
  const m = ctx.msg.method.toUpperCase();
  const toSide = m === 'REGISTER' || m === 'PUBLISH';
  if (authUser !== user(toSide ? 'To' : 'From')) return -8;
  if (toSide && user('From') !== user('To')) return -8;
  return 1;
}

function challenge(k: Engine, realm: string, flags: number): number {
  const ctx = k.ctx;
  const register = ctx.msg.method.toUpperCase() === 'REGISTER';
  let value = `Digest realm="${realm}", nonce="${k.nonces.issue(k.clock.seconds())}"`;
  if (flags & 16) value += ', stale=true';
  if (flags & 2) value += ', qop="auth-int"';
  else if (flags & 1) value += ', qop="auth"';
  const hdr: Header = { name: register ? 'WWW-Authenticate' : 'Proxy-Authenticate', value };
  // auth_send_reply: through tm when a transaction exists, else stateless, which refuses an ACK (-3)
  if (!ctx.tx && slRefuses(ctx)) return -3;
  recordReply(ctx, register ? 401 : 407, register ? 'Unauthorized' : 'Proxy Authentication Required', [hdr], ctx.tx ? 'tm' : 'sl');
  return 1;
}

export const auth = defineModule('auth', (k) => ({
  auth_challenge: (realm: string, flags: number): number => challenge(k, realm, flags),
  consume_credentials(): number {
    const ctx = k.ctx;
    if (!ctx.authorizedHeader) return -1;
    ctx.lumps.removed.add(ctx.authorizedHeader);
    return 1;
  },
  has_credentials: (realm: string): number =>
    rc(k.ctx.msg.headers.some((h) => /authorization$/i.test(h.name) && parseDigest(h.value).get('realm') === realm)),
  pv_auth_check(realm: string, password: string, flags: number, checks: number): number {
    const r = verify(k, realm, (user) => md5(`${user}:${realm}:${password}`));
    return r === 1 && flags & 1 && k.ctx.authorizedHeader !== null ? identityCheck(k.ctx) : r;
  },
}));

export const authDb = defineModule('auth_db', (k) => ({
  auth_check(realm: string, table: string, flags: number): number {
    if (table !== 'subscriber') throw new Error(`mock KSR: auth_db table "${table}" is not modelled (only "subscriber")`);
    const r = verify(k, realm, (user) => {
      const s = k.subscribers.find((x) => x.user === user);
      return s ? md5(`${s.user}:${s.domain ?? realm}:${s.password}`) : null;
    });
    // authorize.c ki_auth_check: the identity check needs the credentials header; ACK, CANCEL
    // and PRACK pass pre_auth without one (api.c), so they are never checked.
    return r === 1 && flags & 1 && k.ctx.authorizedHeader !== null ? identityCheck(k.ctx) : r;
  },
  is_subscriber(uri: string, table: string, flags: number): number {
    const u = parseUri(parseNameAddr(uri)?.uri ?? uri);
    return rc(u !== null && k.subscribers.some((s) => s.user === u.user));
  },
}));
