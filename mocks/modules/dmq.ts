/**
 * KSR.dmq.handle_message (dmq/message.c ki_dmq_handle_message_rc with rc 0):
 * the R-URI user names the DMQ peer ("notification_peer" is dmq's own node
 * list, "usrloc" is dmq_usrloc's replication). An unknown peer gets
 * "404 User Not Found"; a known one is queued to a DMQ worker, which answers
 * after its peer callback ran: "200 OK" for these two peers. The mock
 * records that reply at once (Kamailio sends it from the worker, a moment
 * later). Returns 0 either way: routing stops there.
 */
import { recordReply } from '../runtime/send.ts';
import { parseUri } from '../sip/uri.ts';
import { defineModule } from './define.ts';

/** Peers registered by the modules the project's cfg loads with WITH_DMQ. */
const PEERS = ['notification_peer', 'usrloc'];

export default defineModule('dmq', (k) => ({
  handle_message(): number {
    const user = parseUri(k.ctx.ruri)?.user ?? '';
    if (user === '') return -1;
    if (PEERS.includes(user)) recordReply(k.ctx, 200, 'OK', [], 'sl');
    else recordReply(k.ctx, 404, 'User Not Found', [], 'sl');
    return 0;
  },
}));
