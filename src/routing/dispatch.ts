/**
 * route[DISPATCH]: a client's call goes to a media server of dispatcher
 * group 1; ksr_failure_manage moves it to the next one on timeout or 5xx.
 */
import * as dispatcher from '../ksr/generated/dispatcher';
import * as sl from '../ksr/generated/sl';
import { exit } from '../ksr';
import { DISPATCH_ALGORITHM, DISPATCHER } from './config';
import { route_relay } from './relay';

export function route_dispatch(): void {
  if (!dispatcher.ds_select_dst(DISPATCHER.mediaServers, DISPATCH_ALGORITHM)) {
    sl.sl_send_reply(503, 'No Media Server Available');
    exit();
  }
  route_relay(true);
}
