/**
 * route[REGISTRAR]: authenticated REGISTERs are saved to the location table.
 */
import { core, exit, registrar, sl } from '../ksr';
import { BRANCH_FLAG, FLAG, LOCATION_TABLE } from './config';
import { route_auth } from './auth';

export function route_registrar(): void {
  if (!core.is_REGISTER()) {
    return;
  }
  route_auth();
  if (core.isflagset(FLAG.nated)) {
    core.setbflag(BRANCH_FLAG.natContact);
    core.setbflag(BRANCH_FLAG.natSipPing);
  }
  if (!registrar.save(LOCATION_TABLE, 0)) {
    sl.sl_reply_error();
  }
  exit();
}
