/**
 * route[AUTH]: digest authentication of clients against the subscriber table.
 * Every request that starts something from the public side is authenticated:
 * REGISTER is challenged with 401, everything else with 407.
 */
import * as auth from '../ksr/generated/auth';
import * as auth_db from '../ksr/generated/auth_db';
import * as core from '../ksr/generated/core';
import * as htable from '../ksr/generated/htable';
import * as kx from '../ksr/generated/kx';
import { drop, exit } from '../ksr';
import { AUTH_FAIL_LIMIT, AUTH_FAIL_TABLE, BAN_TABLE, SUBSCRIBER_TABLE } from './config';
import { requestMethod } from './message';

/** auth_check flag 1: the authenticated user must be the From (To for REGISTER)
 * user, so a subscriber cannot register or call as somebody else. */
const CHECK_IDENTITY = 1;

/** auth_challenge flag 0: qop-less challenge, the widest client support. */
const CHALLENGE_FLAGS = 0;

export function route_auth(): void {
  const realm = sipDomain();
  const result = auth_db.auth_check(realm, SUBSCRIBER_TABLE, CHECK_IDENTITY);
  if (result !== 1) {
    if (result === -2 || result === -3) {
      // A wrong password or an unknown user: a guess, not a missing nonce.
      countFailedGuess();
    }
    // Sends 401 (REGISTER) or 407 itself, with a fresh nonce.
    auth.auth_challenge(realm, CHALLENGE_FLAGS);
    exit();
  }
  if (requestMethod !== 'REGISTER') {
    // Credentials are for us, not for the media server.
    auth.consume_credentials();
  }
}

/** Digest guessing from one address ends in a ban (REQINIT drops banned
 * sources), however slowly it goes: pike only sees floods. */
function countFailedGuess(): void {
  const source = String(kx.get_srcip());
  htable.sht_inc(AUTH_FAIL_TABLE, source);
  if (Number(htable.sht_get(AUTH_FAIL_TABLE, source)) < AUTH_FAIL_LIMIT) return;
  htable.sht_rm(AUTH_FAIL_TABLE, source);
  htable.sht_seti(BAN_TABLE, source, 1);
  core.warn('auth: banning ' + source + ' after ' + AUTH_FAIL_LIMIT + ' failed authentications\n');
  drop();
}

/** The served domain and digest realm: kamailio.cfg's SIP_DOMAIN define
 * (bare tokens, so get_def returns it without quotes; test/routing/config.test.ts). */
function sipDomain(): string {
  return String(kx.get_def('SIP_DOMAIN'));
}
