/**
 * A reply that matches no transaction (forged, or for a transaction long
 * gone): core runs the reply route (ksr_reply_route), where t_check_trans()
 * finds nothing; unless the route drops it, tm's response callback does not
 * claim it and core forward_reply() sends it on statelessly (RFC 3261 16.7's
 * stateless proxy) to the address of its second Via (received/rport when
 * present), after removing the first, which must name this proxy
 * (forward.c: "host in first via != me": dropped).
 */
import { SipMessage, canonicalName, parseVia, viaParam } from '../sip/message.ts';
import { splitList } from '../sip/uri.ts';
import { MsgContext, type Transport } from './context.ts';
import type { Engine } from './engine.ts';
import { emptyRecord, outcomeOf, type Outcome } from './outcome.ts';

export interface StrayReplyOutcome extends Outcome {
  /** The reply route dropped it. */
  dropped: boolean;
  /** Where core forwarded it statelessly, and what it sent. */
  forwarded: { destination: { host: string; port: number; proto: string }; message: SipMessage } | undefined;
}

export function runStrayReply(engine: Engine, msg: SipMessage, transport: Transport): StrayReplyOutcome {
  if (msg.start.kind !== 'reply') throw new Error('mock Kamailio: strayReply() needs a SIP reply');
  const rec = emptyRecord();
  const ctx = new MsgContext(msg, transport, 'reply', rec);
  const run = engine.runner.run('ksr_reply_route', ctx, true);
  const base = outcomeOf(run?.end ?? 'return', run?.error, rec);
  if (ctx.drop) return { ...base, dropped: true, forwarded: undefined };
  const vias = msg.headers.filter((h) => canonicalName(h.name) === 'via').flatMap((h) => splitList(h.value));
  const first = vias[0] === undefined ? null : parseVia(vias[0]);
  const next = vias[1] === undefined ? null : parseVia(vias[1]);
  if (!first || !engine.sockets.isMyself(first.host, first.port, '') || !next) return { ...base, dropped: false, forwarded: undefined };
  const received = viaParam(next, 'received');
  const rport = viaParam(next, 'rport');
  const destination = {
    host: received ?? next.host,
    port: rport !== undefined && rport !== null && rport !== '' ? Number(rport) : (next.port ?? 5060),
    proto: next.proto.toLowerCase(),
  };
  const out = new SipMessage({ ...msg.start }, ctx.outgoingHeaders(), ctx.outgoingBody());
  const index = out.headers.findIndex((h) => canonicalName(h.name) === 'via');
  const rest = splitList(out.headers[index]!.value).slice(1);
  if (rest.length > 0) out.headers[index]!.value = rest.join(', ');
  else out.headers.splice(index, 1);
  return { ...base, dropped: false, forwarded: { destination, message: out } };
}
