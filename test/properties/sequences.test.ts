/**
 * Properties of the routing over sequences of random requests from a few
 * sources with random pauses, so floods, bans, guesses and their expiry
 * interleave: a request is dropped only when its source is banned (or it is
 * a scanner), a ban always lifts after its 5 minutes, and everything else is
 * answered or relayed as for a single request.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BAN_TABLE } from '../../src/routing/config';
import { buildRequest, clientSource, crashLogs, isFinal, requestPlan, transport, world, type RequestPlan, type Source } from './model.ts';

const BAN_MS = 300_000;

const step = fc.record({
  who: fc.nat(2),
  plan: requestPlan,
  pause: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 150 }) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 400_000 }) }),
  burst: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 5, max: 20 }) }),
});

describe('sequences of requests from a few sources', () => {
  it('drop only banned sources and scanners, lift every ban after its expiry, answer the rest', () => {
    fc.assert(
      fc.property(fc.array(clientSource, { minLength: 1, maxLength: 3 }), fc.array(step, { minLength: 5, maxLength: 15 }), fc.constantFrom(null, 'friendly-scanner'), (sources, steps, scannerAgent) => {
        const kam = world(null);
        const bannedAt = new Map<string, number>();
        for (const s of steps) {
          kam.clock.advance(s.pause);
          const source: Source = sources[s.who % sources.length]!;
          const plan: RequestPlan = { ...s.plan, userAgent: scannerAgent !== null && s.who === 2 ? scannerAgent : s.plan.userAgent };
          for (let i = 0; i < s.burst; i++) {
            const out = kam.request(buildRequest(kam, plan, source).text, transport(source));
            expect(out.end).not.toBe('error');
            expect(crashLogs(out)).toEqual([]);
            const banned = kam.htable.get(BAN_TABLE, source.ip) !== null;
            const since = bannedAt.get(source.ip);
            if (banned && since === undefined) bannedAt.set(source.ip, kam.clock.now());
            if (!banned) bannedAt.delete(source.ip);
            if (banned && since !== undefined) expect(kam.clock.now() - since, 'a ban outlived its expiry').toBeLessThan(BAN_MS);
            if (out.end === 'drop') {
              expect(banned || plan.userAgent === 'friendly-scanner', 'dropped but neither banned nor a scanner').toBe(true);
              expect(out.replies).toEqual([]);
              expect(out.relays).toEqual([]);
            } else if (plan.method !== 'ACK' && plan.method !== 'CANCEL') {
              expect(out.replies.filter(isFinal).length + out.relays.length, `${plan.method} unanswered`).toBeGreaterThan(0);
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
