/**
 * failure_route[MANAGE_FAILURE]: a media server that times out or fails with
 * 5xx is marked inactive and the call moves to the next one; when none is
 * left the client gets a clear 503 and the media session is released.
 */
import * as core from '../ksr/generated/core';
import * as dispatcher from '../ksr/generated/dispatcher';
import * as rtpengine from '../ksr/generated/rtpengine';
import * as tm from '../ksr/generated/tm';
import { exit } from '../ksr';
import { FLAG } from './config';
import { ON_CALL_FAILURE } from './callbacks';
import { setSendSocket } from './relay';

export function ksr_failure_manage(): void {
  if (tm.t_is_canceled()) {
    releaseMedia();
    exit();
  }
  if (core.isflagset(FLAG.toSwitch) && mediaServerFailed()) {
    if (tm.t_get_status_code() === 408) {
      // No answer at all: stop sending calls there until OPTIONS probing revives it.
      dispatcher.ds_mark_dst();
    }
    if (dispatcher.ds_next_dst()) {
      setSendSocket(true);
      tm.t_on_failure(ON_CALL_FAILURE);
      tm.t_relay();
      exit();
    }
    releaseMedia();
    tm.t_reply(503, 'No Media Server Available');
    exit();
  }
  releaseMedia();
}

function mediaServerFailed(): boolean {
  const status = tm.t_get_status_code();
  return status === 408 || (status >= 500 && status < 600);
}

function releaseMedia(): void {
  rtpengine.rtpengine_delete0();
}
