/**
 * KSR.textopsx.msg_apply_changes (core msg_translator.c
 * sip_msg_apply_changes): the request as it would be sent (header lumps
 * applied, the new R-URI in its first line) becomes the message every later
 * read sees, and the lumps are gone. -1 outside request_route and after
 * record_route() (FL_RR_ADDED: it would break the conditional second
 * Record-Route), and when the new message would not fit Kamailio's buffer
 * (sip_msg_update_buffer: BUF_SIZE, 65535 bytes). Replies are not modelled.
 */
import { SipMessage } from '../sip/message.ts';
import { defineModule, rc } from './define.ts';

/** core config.h BUF_SIZE. */
const BUF_SIZE = 65535;

export default defineModule('textopsx', (k) => ({
  msg_apply_changes(): number {
    const ctx = k.ctx;
    if (ctx.route !== 'request' || ctx.msg.start.kind !== 'request' || ctx.recordRoute.done) return rc(false);
    const applied = new SipMessage({ ...ctx.msg.start, uri: ctx.ruri }, ctx.outgoingHeaders(), ctx.outgoingBody());
    if (Buffer.byteLength(applied.toString()) >= BUF_SIZE) return rc(false);
    ctx.msg = applied;
    ctx.newUri = null;
    ctx.lumps = { removed: new Set(), inserted: [], appended: [], rewritten: new Map(), body: null };
    // The parsed credentials belonged to the old buffer.
    ctx.authorizedHeader = null;
    return rc(true);
  },
}));
