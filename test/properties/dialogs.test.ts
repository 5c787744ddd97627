/**
 * Properties of the routing across a call's life: an INVITE relayed by
 * ksr_request_route, then random follow-ups in random order — replies from
 * the next hop (ksr_onreply_manage, ksr_failure_manage), timeouts,
 * retransmissions, a CANCEL and the ACK of the caller — in both directions
 * (a client calling the media servers, a media server calling a registered
 * client). Nothing crashes, failover only ever goes to a media server from
 * the private port, ACKs are never answered, and the caller always ends up
 * with exactly one final answer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Kamailio, Outcome, Relay, RequestOutcome, SentReply } from '../../mocks/index.ts';
import { DOMAIN, LOCAL_IP, MEDIA_UDP } from '../routing/scenario.ts';
import {
  MEDIA_IPS,
  SDP,
  buildRequest,
  crashLogs,
  expectedSocket,
  registeredHosts,
  transport,
  world,
  type Registration,
  type RequestPlan,
  type Source,
} from './model.ts';

type Event =
  | { kind: 'reply'; code: number; sdp: boolean }
  | { kind: 'timeout' }
  | { kind: 'cancel' }
  | { kind: 'retransmit' }
  | { kind: 'ack' };

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('reply' as const), code: fc.constantFrom(100, 180, 183, 200, 302, 404, 408, 480, 486, 487, 500, 503, 603), sdp: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'timeout' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancel' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'retransmit' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ack' as const }) },
);

const callerClient = fc.record({
  proto: fc.constantFrom('udp' as const, 'tcp' as const, 'wss' as const),
  ip: fc.constantFrom('203.0.113.50', '198.18.5.9'),
  port: fc.integer({ min: 1024, max: 65535 }),
});
const SOCKET_OF = { udp: 'public_socket', tcp: 'public_tcp_socket', wss: 'public_webrtc_socket' } as const;

/** Who calls: a client calling the media servers, or a media server calling alice registered over `callee`. */
const flow = fc.oneof(
  callerClient.map((c) => ({ kind: 'client-calls' as const, caller: { kind: 'client', ...c, socket: SOCKET_OF[c.proto] } satisfies Source })),
  fc.record({ kind: fc.constant('media-calls' as const), callee: callerClient as fc.Arbitrary<Registration>, tcp: fc.boolean() }),
);

const INVITE_PLAN: RequestPlan = {
  method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, fromUser: 'alice', fromDomain: DOMAIN, toUser: null, toTag: false, route: 'none', sdp: true,
  credentials: 'valid', contact: '<sip:alice@192.168.1.20:5060>', maxForwards: 70, expires: null, userAgent: null,
};

function checkOutcome(o: Outcome): void {
  expect(o.end).not.toBe('error');
  expect(crashLogs(o)).toEqual([]);
}

/** A request along the INVITE's transaction: same Via branch, Call-ID, From tag and CSeq number. */
function sameTransaction(invite: string, method: 'CANCEL' | 'ACK', toTag: string | null): string {
  let text = invite
    .replace(/^INVITE /, `${method} `)
    .replace(/CSeq: 1 INVITE/, `CSeq: 1 ${method}`)
    .replace(/\r\nContent-Type[^]*$/, '\r\nContent-Length: 0\r\n\r\n')
    .replace(/\r\nProxy-Authorization:[^\r]*/, '');
  if (toTag !== null) text = text.replace(/\r\nTo: ([^\r]*)/, `\r\nTo: $1;tag=${toTag}`);
  return text;
}

describe('a call through the proxy, with random follow-ups', () => {
  it('never crashes, fails over only to media servers from the private port, answers the caller exactly once', () => {
    fc.assert(
      fc.property(flow, fc.array(event, { minLength: 1, maxLength: 6 }), (f, events) => {
        let kam: Kamailio;
        let caller: Source;
        let invite: string;
        if (f.kind === 'client-calls') {
          kam = world(null);
          caller = f.caller;
          invite = buildRequest(kam, INVITE_PLAN, caller).text;
        } else {
          kam = world(f.callee);
          caller = f.tcp
            ? { kind: 'media', proto: 'tcp', ip: '10.0.0.22', port: 53123, socket: 'private_tcp_socket' }
            : { kind: 'media', proto: 'udp', ip: MEDIA_UDP, port: 5080, socket: 'private_socket' };
          invite = buildRequest(kam, { ...INVITE_PLAN, ruri: `sip:alice@${DOMAIN}`, fromUser: '1000', credentials: 'none' }, caller).text;
        }
        const toMedia = f.kind === 'client-calls';
        const allowed = toMedia ? MEDIA_IPS : registeredHosts(kam);
        const out: RequestOutcome = kam.request(invite, transport(caller));
        checkOutcome(out);
        expect(out.relays).toHaveLength(1);

        const toCaller: SentReply[] = [...out.replies];
        const relays: Relay[] = [...out.relays];
        let finalToTag: string | null = null;
        const follow = (o: Outcome & { forwarded?: SentReply | undefined }): void => {
          checkOutcome(o);
          relays.push(...o.relays);
          if (o.forwarded) toCaller.push(o.forwarded);
        };
        for (const e of events) {
          switch (e.kind) {
            case 'reply': {
              const r = kam.replyFromUpstream(out, e.code, { toTag: 'callee-tag', ...(e.sdp ? { body: SDP } : {}), headers: [['Contact', '<sip:callee@192.168.1.30:5060>']] });
              if (e.code >= 300) finalToTag = 'callee-tag';
              follow(r);
              break;
            }
            case 'timeout':
              follow(kam.timeout(out));
              break;
            case 'cancel': {
              const c = kam.request(sameTransaction(invite, 'CANCEL', null), transport(caller));
              checkOutcome(c);
              // The CANCEL is answered (200 canceling) and follows the INVITE's pending branches only.
              expect(c.replies.map((r) => r.code)).toEqual([200]);
              for (const r of c.relays) expect(r.method).toBe('CANCEL');
              relays.push(...c.relays);
              break;
            }
            case 'retransmit': {
              const again = kam.request(invite, transport(caller));
              checkOutcome(again);
              expect(again.relays).toEqual([]);
              break;
            }
            case 'ack': {
              const ack = kam.request(sameTransaction(invite, 'ACK', finalToTag), transport(caller));
              checkOutcome(ack);
              expect(ack.replies).toEqual([]);
              break;
            }
          }
        }
        // Let every branch still pending time out: the caller must hear something in the end.
        for (let i = 0; i < 4 && !toCaller.some((r) => r.code >= 200); i++) follow(kam.timeout(out));

        for (const r of relays) {
          expect(allowed, `${r.method} relayed to ${r.destination.host}`).toContain(r.destination.host);
          const expected = expectedSocket(r.destination);
          expect(r.socket.name, `${r.method} to ${r.destination.proto}:${r.destination.host}`).toBe(expected);
        }
        const finals = toCaller.filter((r) => r.code >= 200).map((r) => r.code);
        const negative = finals.filter((c) => c >= 300);
        expect(finals.length, 'no final answer for the caller').toBeGreaterThan(0);
        // One negative final at most, and never a 2xx after it (2xx retransmissions pass).
        expect(negative.length).toBeLessThanOrEqual(1);
        if (negative.length === 1) expect(finals[finals.length - 1]).toBe(negative[0]);
        if (toMedia) {
          // What the client receives: our Via is gone, the private side does not show in the Via.
          for (const r of toCaller) expect(r.message.all('Via').map((h) => h.value).join(',')).not.toContain(LOCAL_IP);
        }
      }),
      { numRuns: 200 },
    );
  });
});
