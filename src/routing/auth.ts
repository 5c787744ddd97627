/**
 * route[AUTH]: digest authentication of clients against the subscriber table.
 * Every request that starts something from the public side is authenticated:
 * REGISTER is challenged with 401, everything else with 407.
 */
import * as auth from '../ksr/generated/auth';
import * as auth_db from '../ksr/generated/auth_db';
import * as core from '../ksr/generated/core';
import * as kx from '../ksr/generated/kx';
import { exit } from '../ksr';
import { SUBSCRIBER_TABLE } from './config';

/** auth_check flag 1: the authenticated user must be the From (To for REGISTER)
 * user, so a subscriber cannot register or call as somebody else. */
const CHECK_IDENTITY = 1;

/** auth_challenge flag 0: qop-less challenge, the widest client support. */
const CHALLENGE_FLAGS = 0;

export function route_auth(): void {
  const realm = sipDomain();
  if (auth_db.auth_check(realm, SUBSCRIBER_TABLE, CHECK_IDENTITY) !== 1) {
    // Sends 401 (REGISTER) or 407 itself, with a fresh nonce.
    auth.auth_challenge(realm, CHALLENGE_FLAGS);
    exit();
  }
  if (!core.is_REGISTER()) {
    // Credentials are for us, not for the media server.
    auth.consume_credentials();
  }
}

/** The served domain and digest realm: kamailio.cfg's SIP_DOMAIN define
 * (bare tokens, so get_def returns it without quotes; test/routing/config.test.ts). */
function sipDomain(): string {
  return String(kx.get_def('SIP_DOMAIN'));
}
