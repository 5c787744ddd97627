/**
 * Issue #7, sustained load: the one-minute version of `npm run soak`
 * (stack/soak.ts) on the namespace stack. Calls from c1 to the media servers
 * through rtpengine at 5 calls/s, registrations over UDP (behind the home
 * NAT) and over TCP through HAProxy at 1/s each, for 60 s. What someone
 * running this cares about: no call and no registration fails, Kamailio's
 * shared and private memory are back at their baseline (within
 * MEMORY_TOLERANCE, with the same registrations in place and after a drain),
 * the same number of contacts, and rtpengine holds no session. The figures
 * are printed; the ten-minute run's are in README.
 */
import { describe, expect, it } from 'vitest';
import { describeSoak, MEMORY_TOLERANCE, runSoak } from '../../stack/soak.ts';
import { useStack } from './support.ts';

const ctx = useStack('soak');
const SECONDS = 60;
const RATE = 5;

describe('sustained load', { timeout: 180_000 }, () => {
  it(`${RATE} calls/s and registrations over UDP and TCP for ${SECONDS} s: nothing fails, memory back to baseline, no rtpengine session left`, async () => {
    const report = await runSoak({ stack: ctx.stack, seconds: SECONDS, rate: RATE, nextPort: ctx.nextPort });
    process.stdout.write(`${describeSoak(report).join('\n')}\n`);

    expect(report.calls.placed).toBe(SECONDS * RATE);
    expect(report.calls.failures).toEqual([]);
    expect(report.registrations.placed).toBe(2 * SECONDS);
    expect(report.registrations.failed).toBe(0);
    expect(report.rtpengineSessions.peak, 'rtpengine held the calls while they ran').toBeGreaterThan(0);
    expect(report.rtpengineSessions.end).toBe(0);
    expect(report.contacts.end).toBe(report.contacts.baseline);
    expect(report.end.shmUsed - report.baseline.shmUsed, 'shm growth (bytes)').toBeLessThanOrEqual(MEMORY_TOLERANCE.shmBytes);
    expect(report.end.pkgUsed - report.baseline.pkgUsed, 'pkg growth (bytes)').toBeLessThanOrEqual(MEMORY_TOLERANCE.pkgBytes);
  });
});
