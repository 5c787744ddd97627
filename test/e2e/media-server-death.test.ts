/**
 * Issue #7, faults: a media server dies in the middle of a call load, on the
 * namespace stack. Clients on c1 call the media servers (uac-call-bye.xml,
 * 2-s calls through rtpengine) at RATE calls/s for LOAD_S seconds; half way
 * through, ms1's SIPp is killed by its PID (SIGKILL: a crash, it sends
 * nothing more). What someone running this cares about:
 *   - only the calls ms1 held at that moment can fail (their BYE to ms1
 *     times out): failed <= in flight at ms1, and every failed call is one
 *     of those;
 *   - new calls stop going to ms1 once the dispatcher knows (the first
 *     INVITE to the dead ms1 times out after fr_timer 5 s and marks it
 *     inactive); calls started after that all succeed, on ms2 alone.
 * "In flight at ms1": calls whose INVITE reached ms1 before its death and
 * whose dialog with ms1 had not ended (no 200 to the BYE, no final refusal),
 * read in ms1's own SIPp trace and on the vm's wire (tcpdump) together.
 * Figures are printed; timings are noisy on a shared 2-core machine.
 */
import { describe, expect, it } from 'vitest';
import { uasMessageLog } from '../../stack/services.ts';
import { readMessageLog, type TracedMessage } from '../../stack/sipp.ts';
import type { SipMessage } from '../support/sip-client.ts';
import { callOutcomes, loadDir, startCallLoad, summarize } from '../../stack/load.ts';
import { readState } from '../../stack/state.ts';
import { MEDIA_SERVERS } from '../../stack/topology.ts';
import { useStack } from './support.ts';

const ctx = useStack('media-server-death');

const RATE = 8;
const LOAD_S = 20;
const HOLD_MS = 2000;
const KILL_AFTER_MS = 6000;
const [MS1] = MEDIA_SERVERS;

const callIdOf = (m: SipMessage): string => m.header('call-id') ?? '';
const cseqOf = (m: SipMessage): string => m.header('cseq') ?? '';

describe('a media server dies under call load', { timeout: 120_000 }, () => {
  it('only the calls it held fail; once the dispatcher marks it inactive, every new call succeeds on the other media server', async () => {
    const load = startCallLoad({ rate: RATE, calls: RATE * LOAD_S, holdMs: HOLD_MS, dir: loadDir(ctx.stack.dir, 'media-server-death'), nextPort: ctx.nextPort, name: 'load' });
    await new Promise((r) => setTimeout(r, KILL_AFTER_MS));

    const uas = readState(ctx.stack.dir)?.processes.find((p) => p.name === `uas-${MS1.host}`);
    expect(uas, 'ms1 SIPp recorded in the state file').toBeDefined();
    const diedAt = Date.now() / 1000;
    process.kill(uas!.pid, 'SIGKILL');

    const results = await load.done;
    const outcomes = callOutcomes(load.messages());
    const { placed, failed, failures } = summarize(outcomes);

    // Where calls went: each media server's own SIPp trace (ms1's ends at its
    // death) and the vm's wire. Both, because tcpdump drops a packet now and
    // then on this busy machine, and a killed SIPp may lose its trace's tail.
    const trace = (host: 'ms1' | 'ms2'): TracedMessage[] => readMessageLog(uasMessageLog(ctx.stack.paths, host));
    const traceMs1 = trace('ms1');
    const answeredByMs2 = new Set(trace('ms2').filter((t) => t.direction === 'sent' && t.message.status === 200 && cseqOf(t.message).endsWith('INVITE')).map((t) => callIdOf(t.message)));
    const wire = ctx.wire('vm');
    const toMs1 = wire.filter((m) => m.dst === MS1.address && m.message.method === 'INVITE');
    const startedAtMs1 = new Map<string, number>();
    for (const m of toMs1) if (!startedAtMs1.has(callIdOf(m.message))) startedAtMs1.set(callIdOf(m.message), m.time);
    const endedAtMs1 = (m: SipMessage): boolean => (m.status === 200 && cseqOf(m).endsWith('BYE')) || ((m.status ?? 0) >= 300 && cseqOf(m).endsWith('INVITE'));
    const startedBeforeDeath = new Set([
      ...traceMs1.filter((t) => t.direction === 'received' && t.message.method === 'INVITE').map((t) => callIdOf(t.message)),
      ...[...startedAtMs1].filter(([, t]) => t < diedAt).map(([id]) => id),
    ]);
    const endedBeforeDeath = new Set([
      ...traceMs1.filter((t) => t.direction === 'sent' && endedAtMs1(t.message)).map((t) => callIdOf(t.message)),
      ...wire.filter((m) => m.src === MS1.address && m.time < diedAt && endedAtMs1(m.message)).map((m) => callIdOf(m.message)),
    ]);
    const inFlightAtDeath = [...startedBeforeDeath].filter((id) => !endedBeforeDeath.has(id));

    // Detection: the last call whose first INVITE still went to the dead ms1.
    const sentToDeadMs1 = [...startedAtMs1.values()].filter((t) => t >= diedAt);
    const detectedAt = sentToDeadMs1.length > 0 ? Math.max(...sentToDeadMs1) : diedAt;
    const afterDetection = outcomes.filter((c) => c.startedAt / 1000 > detectedAt);
    const duringDetection = outcomes.filter((c) => c.startedAt / 1000 >= diedAt && c.startedAt / 1000 <= detectedAt);

    process.stdout.write(
      [
        `media server death: ${RATE} calls/s for ${LOAD_S} s, ${HOLD_MS} ms calls, ms1 killed (SIGKILL) after ${KILL_AFTER_MS} ms`,
        `  calls total ${placed}, failed ${failed}, in flight at ms1 at death ${inFlightAtDeath.length}`,
        `  new calls went to ms2 only ${((detectedAt - diedAt) * 1000).toFixed(0)} ms after the death (${sentToDeadMs1.length} calls sent to the dead ms1 meanwhile, failed over after fr_timer)`,
        `  calls started in that window: ${duringDetection.length}, failed ${duringDetection.filter((c) => !c.ok).length}; after it: ${afterDetection.length}, failed ${afterDetection.filter((c) => !c.ok).length}`,
        ...failures.slice(0, 5).map((c) => `  failed: ${c.callId} last ${c.last}`),
      ].join('\n') + '\n',
    );

    expect(placed, 'every call was placed').toBe(RATE * LOAD_S);
    expect(inFlightAtDeath.length, 'ms1 held calls when it died').toBeGreaterThan(0);
    expect(failed).toBeLessThanOrEqual(inFlightAtDeath.length);
    expect(failures.map((c) => c.callId).filter((id) => !inFlightAtDeath.includes(id)), 'failed calls that ms1 did not hold').toEqual([]);
    // Detection needs one INVITE to time out (fr_timer 5 s) or a failed probe (every 10 s).
    expect(detectedAt - diedAt, 'seconds until ms1 gets no new calls').toBeLessThan(16);
    expect(afterDetection.length, 'calls started after detection').toBeGreaterThanOrEqual(RATE * 2);
    expect(afterDetection.filter((c) => !c.ok).map((c) => `${c.callId}: ${c.last}`)).toEqual([]);
    for (const c of afterDetection) {
      expect(startedAtMs1.has(c.callId), `${c.callId} never offered to ms1`).toBe(false);
      expect(answeredByMs2.has(c.callId), `${c.callId} answered by ms2`).toBe(true);
    }
    // The SIPp runs report the same failures as their traces.
    expect(results.filter((r) => r.code !== 0).length > 0).toBe(failed > 0);
  });
});
