/**
 * KEMI entry points. Every export whose name starts with `ksr_` becomes a
 * global function of dist/kamailio.js, which is how app_jsdt finds it:
 * ksr_request_route and ksr_reply_route by their fixed names, the others by
 * the names armed with t_on_reply/t_on_failure (src/routing/callbacks.ts) or
 * set as module event_callback in kamailio.cfg.
 */
import { guardEntry } from './ksr/entry';
import { ksr_request_route as requestRoute } from './routing/request';
import { ksr_failure_manage as failureManage } from './routing/failure';
import { ksr_failure_handover as failureHandover } from './routing/peer';
import { ksr_onreply_manage as onreplyManage, ksr_reply_route as replyRoute } from './routing/reply';
import { ksr_websocket_event as websocketEvent, ksr_xhttp_event as xhttpEvent } from './routing/websocket';

export const ksr_request_route = guardEntry('ksr_request_route', requestRoute, 'sip');
export const ksr_reply_route = guardEntry('ksr_reply_route', replyRoute, 'none');
export const ksr_onreply_manage = guardEntry('ksr_onreply_manage', onreplyManage, 'none');
export const ksr_failure_manage = guardEntry('ksr_failure_manage', failureManage, 'sip');
export const ksr_failure_handover = guardEntry('ksr_failure_handover', failureHandover, 'sip');
export const ksr_xhttp_event = guardEntry('ksr_xhttp_event', xhttpEvent, 'http');
export const ksr_websocket_event = guardEntry('ksr_websocket_event', websocketEvent, 'none');
