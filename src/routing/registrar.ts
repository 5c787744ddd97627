/**
 * route[REGISTRAR]: authenticated REGISTERs are saved to the location table.
 */
import * as core from '../ksr/generated/core';
import * as registrar from '../ksr/generated/registrar';
import * as sl from '../ksr/generated/sl';
import { exit } from '../ksr';
import { BRANCH_FLAG, FLAG, LOCATION_TABLE } from './config';
import { route_auth } from './auth';
import { route_path } from './path';
import { requestMethod } from './message';

export function route_registrar(): void {
  if (requestMethod !== 'REGISTER') {
    return;
  }
  route_auth();
  if (core.isflagset(FLAG.nated)) {
    core.setbflag(BRANCH_FLAG.natContact);
    core.setbflag(BRANCH_FLAG.natSipPing);
  }
  if (!route_path()) {
    // msg_apply_changes() failed: saving without our Path would leave the
    // other nodes unable to reach this client.
    sl.sl_send_reply(500, 'Server Error');
    exit();
  }
  if (!registrar.save(LOCATION_TABLE, 0)) {
    sl.sl_reply_error();
  }
  exit();
}
