/**
 * Issue #7, faults: Kamailio restarted under load, on the namespace stack.
 * Four subscribers hold registrations (alice from c1 and bob behind the home
 * NAT over UDP; carol from c1 and dave behind the home NAT over TCP through
 * HAProxy) and a bounded call stream runs from c1 to the media servers. Then
 * Kamailio is stopped with SIGTERM and started again exactly as the stack
 * starts it (the CONTRACT command line). What someone running this cares
 * about:
 *   - the registrations survive the restart: usrloc (db_mode 2, write-back
 *     every timer_interval = 10 s) writes them to the sqlite location table
 *     at shutdown, and `preload` reads them back; a media server's call to a
 *     UDP subscriber reaches it without it registering again;
 *   - a TCP subscriber's connection dies with the process, and the proxy
 *     never opens one toward a client: it is unreachable until it registers
 *     again (through HAProxy), then reachable;
 *   - the call stream: how many calls fail in the restart window, how long
 *     from the start to the first answered call, and every call started
 *     once Kamailio answers again succeeds.
 * A second case measures what SIGKILL loses: registrations younger than the
 * last write-back (at most timer_interval = 10 s) are gone after the restart.
 * Figures are printed; timings are noisy on a shared 2-core machine.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locationRows, registeredContacts, startKamailioAgain, stopKamailio } from '../../stack/kamailio-control.ts';
import { callOutcomes, loadDir, startCallLoad, summarize, traceTime } from '../../stack/load.ts';
import { SIPP_DIR } from '../../stack/services.ts';
import { startSipp, type RunningSipp, type SippResult } from '../../stack/sipp.ts';
import { ADDR, MEDIA_SERVERS, NS, PORT, SIP_DOMAIN } from '../../stack/topology.ts';
import { CLIENTS, ENTRIES, password, useStack, waitFor, type Client, type Entry } from './support.ts';

const ctx = useStack('kamailio-restart');
const dir = (): string => loadDir(ctx.stack.dir, 'kamailio-restart');
const PRIVATE = `${ADDR.LOCAL_IP}:${PORT.PRIVATE}`;
const HOLD_S = 150;

interface Registered {
  user: string;
  client: Client;
  entry: Entry;
  /** Its SIP port: in its Contact, so its row in the location table is told from older ones. */
  port: number;
  sipp: RunningSipp;
}

let runs = 0;
/** A SIP port whose media ports (+1000: RTP, RTCP, video RTP, RTCP) no other SIPp of the file takes. */
function spacedPort(): number {
  const port = ctx.nextPort();
  for (let i = 1; i < 4; i++) ctx.nextPort();
  return port;
}
/** A subscriber that registers and then holds its registration (and TCP connection), answering calls (and, -aa, the proxy's NAT keepalive OPTIONS). */
function holdRegistration(user: string, client: Client, entry: Entry): Registered {
  const port = spacedPort();
  const sipp = startSipp({
    name: `hold-${user}-${++runs}`,
    ns: client.ns,
    scenario: 'uac-register-await-call',
    remote: `${entry.address}:${entry.port}`,
    localIp: client.ip,
    localPort: port,
    transport: entry.transport,
    args: ['-key', 'domain', SIP_DOMAIN, '-oocsf', join(SIPP_DIR, 'uas-client-answer-call.xml'), '-s', user, '-au', user, '-ap', password(user), '-d', String(HOLD_S * 1000), '-aa'],
    dir: dir(),
    timeoutS: HOLD_S + 20,
  });
  return { user, client, entry, port, sipp };
}

const registeredOk = (r: Registered): boolean => r.sipp.messages().some((t) => t.direction === 'received' && t.message.status === 200 && (t.message.header('cseq') ?? '').endsWith('REGISTER'));
/** REGISTERs it sent with credentials (the one after the 401). */
const registers = (r: Registered): number => r.sipp.messages().filter((t) => t.direction === 'sent' && t.message.method === 'REGISTER' && t.message.header('authorization') !== undefined).length;
/** Its binding is in the location table (as Kamailio last wrote it). */
const inDatabase = (r: Registered): boolean => locationRows(ctx.stack).some((row) => row.username === r.user && row.contact.includes(`:${r.port}`));
const invitesReceived = (r: Registered): number => r.sipp.messages().filter((t) => t.direction === 'received' && t.message.method === 'INVITE').length;

/** A media server (ms1) calls the subscriber through the private port. */
function mediaServerCalls(user: string): Promise<SippResult> {
  return startSipp({
    name: `ms-calls-${user}-${++runs}`,
    ns: NS[MEDIA_SERVERS[0].host],
    scenario: 'uac-media-server-call-bye',
    remote: PRIVATE,
    localIp: MEDIA_SERVERS[0].address,
    localPort: spacedPort(),
    transport: 'udp',
    args: ['-key', 'domain', SIP_DOMAIN, '-s', user, '-d', '300'],
    dir: dir(),
    timeoutS: 15,
  }).done;
}

/** The final answer the media server got for its INVITE. */
const finalToInvite = (r: SippResult): number | undefined =>
  r.messages.find((t) => t.direction === 'received' && (t.message.status ?? 0) >= 200 && (t.message.header('cseq') ?? '').endsWith('INVITE'))?.message.status;

const usersIn = (rows: ReturnType<typeof locationRows>): string[] => [...new Set(rows.map((r) => r.username))].sort();

describe('Kamailio restarted under load', { timeout: 180_000 }, () => {
  it('SIGTERM: registrations survive in the database, UDP subscribers are reached without registering again, TCP ones once they register again; calls resume', async () => {
    // bob and the TCP subscribers register first; alice (UDP) just before the
    // stop, younger than any write-back: only the shutdown can write hers.
    const bob = holdRegistration('bob', CLIENTS.c2, ENTRIES.udpNat);
    const tcp = [holdRegistration('carol', CLIENTS.c1, ENTRIES.tcpLb), holdRegistration('dave', CLIENTS.c2, ENTRIES.tcpLb)];
    const held = [bob, ...tcp];
    try {
      await waitFor('bob, carol and dave registered', () => (held.every(registeredOk) ? true : undefined), 10_000);
      const load = startCallLoad({ rate: 2, calls: 2 * 40, holdMs: 1000, dir: dir(), nextPort: ctx.nextPort, name: 'stream' });
      await new Promise((r) => setTimeout(r, 6000));

      const young = holdRegistration('alice', CLIENTS.c1, ENTRIES.udpNat);
      const udp = [young, bob];
      held.push(young);
      await waitFor('alice registered', () => (registeredOk(young) ? true : undefined), 5000, 20);
      const youngWrittenBeforeStop = inDatabase(young);
      const rowsBefore = usersIn(locationRows(ctx.stack));

      const stoppingAt = Date.now();
      const stopMs = await stopKamailio(ctx.stack, 'SIGTERM');
      const rowsAtShutdown = locationRows(ctx.stack);
      const youngWrittenAtShutdown = inDatabase(young);
      const startingAt = Date.now();
      const rpcMs = await startKamailioAgain(ctx.stack);
      const contactsLoaded = await registeredContacts(ctx.stack);

      // UDP subscribers, registered before the restart, called by a media server.
      const udpCalls = await Promise.all(udp.map((r) => mediaServerCalls(r.user)));
      // TCP subscribers: their connections went with the old process.
      const tcpBefore = await mediaServerCalls(tcp[0]!.user);
      const reRegisteredAt: number[] = [];
      const again: Registered[] = [];
      for (const old of tcp) {
        old.sipp.stop();
        // HAProxy may still count the restarted server down (health check every 5 s, rise 2): retry.
        const fresh = await waitFor(
          `${old.user} registered again through HAProxy`,
          async () => {
            const r = holdRegistration(old.user, old.client, old.entry);
            const ok = await waitFor(`${old.user}'s 200`, () => (registeredOk(r) ? true : undefined), 3000).catch(() => false);
            if (ok === true) return r;
            r.sipp.stop();
            await r.sipp.done;
            return undefined;
          },
          30_000,
          0,
        );
        reRegisteredAt.push(Date.now());
        again.push(fresh);
        held.push(fresh);
      }
      const tcpCalls = await Promise.all(again.map((r) => mediaServerCalls(r.user)));

      await load.done;
      const outcomes = callOutcomes(load.messages());
      const { placed, failed, failures } = summarize(outcomes);
      const answers = load
        .messages()
        .filter((t) => t.direction === 'received' && t.message.status === 200 && (t.message.header('cseq') ?? '').endsWith('INVITE'))
        .map((t) => traceTime(t.time))
        .filter((t) => t >= startingAt);
      const firstAnswerMs = answers.length > 0 ? Math.min(...answers) - startingAt : NaN;
      const window = outcomes.filter((c) => c.startedAt >= stoppingAt - 1500 && c.startedAt < startingAt + rpcMs);
      const afterBack = outcomes.filter((c) => c.startedAt >= startingAt + rpcMs);

      process.stdout.write(
        [
          `kamailio restart (SIGTERM): stopped in ${stopMs} ms, RPC answering ${rpcMs} ms after the start, ${contactsLoaded} contacts preloaded`,
          `  location rows: users just before the stop ${rowsBefore.join(',') || '(none yet)'}; at shutdown ${usersIn(rowsAtShutdown).join(',')} (${rowsAtShutdown.length} rows); alice's binding ${stoppingAt - traceTime(young.sipp.messages().find((t) => t.direction === 'received' && t.message.status === 200)!.time)} ms old at the stop: in the table before ${youngWrittenBeforeStop}, after ${youngWrittenAtShutdown}`,
          `  call stream: ${placed} calls, failed ${failed} (calls started in the restart window: ${window.length}, failed ${window.filter((c) => !c.ok).length}); after Kamailio answered: ${afterBack.length}, failed ${afterBack.filter((c) => !c.ok).length}`,
          `  first answered call ${firstAnswerMs} ms after the start`,
          `  UDP subscribers called after the restart: ${udpCalls.map((r, i) => `${udp[i]!.user} ${finalToInvite(r)}`).join(', ')}`,
          `  TCP subscriber before registering again: ${tcp[0]!.user} ${finalToInvite(tcpBefore)}; registered again ${reRegisteredAt.map((t) => `${t - startingAt} ms`).join(', ')} after the start, then ${tcpCalls.map((r, i) => `${again[i]!.user} ${finalToInvite(r)}`).join(', ')}`,
          ...failures.slice(0, 5).map((c) => `  failed: ${c.callId} ${c.last}`),
        ].join('\n') + '\n',
      );

      // usrloc wrote every registration at shutdown, and the new process loaded them.
      expect(usersIn(rowsAtShutdown)).toEqual(['alice', 'bob', 'carol', 'dave']);
      expect(youngWrittenAtShutdown, 'the binding registered just before the stop is in the table').toBe(true);
      expect(contactsLoaded).toBeGreaterThanOrEqual(4);
      // UDP subscribers: reached without registering again.
      for (const [i, r] of udpCalls.entries()) {
        expect(r.code, `${udp[i]!.user}: ${r.command}\n${r.output}`).toBe(0);
        expect(invitesReceived(udp[i]!), `${udp[i]!.user} got the call`).toBe(1);
        expect(registers(udp[i]!), `${udp[i]!.user} registered once`).toBe(1);
      }
      // TCP subscribers: not reached over a connection that is gone; reached once registered again.
      expect(finalToInvite(tcpBefore), 'a TCP subscriber before registering again').not.toBe(200);
      expect(invitesReceived(tcp[0]!)).toBe(0);
      for (const [i, r] of tcpCalls.entries()) {
        expect(r.code, `${again[i]!.user}: ${r.command}\n${r.output}`).toBe(0);
        expect(invitesReceived(again[i]!), `${again[i]!.user} got the call`).toBe(1);
      }
      // The call stream: all placed, failures only around the restart, none once Kamailio answers.
      expect(placed).toBe(80);
      expect(afterBack.length).toBeGreaterThan(0);
      expect(afterBack.filter((c) => !c.ok).map((c) => `${c.callId}: ${c.last}`)).toEqual([]);
      expect(failures.filter((c) => c.startedAt < stoppingAt - 1500).map((c) => c.callId), 'no failure before the restart').toEqual([]);
      expect(Number.isFinite(firstAnswerMs)).toBe(true);
    } finally {
      for (const r of held) r.sipp.stop();
      await Promise.all(held.map((r) => r.sipp.done));
    }
  });

  it('SIGKILL: registrations younger than the last usrloc write-back (timer_interval 10 s) are lost, older ones survive', async () => {
    // Old registrations: older than one write-back.
    await Promise.all(['alice', 'bob', 'carol', 'dave'].map((u) => ctx.stack.rpc('ul.rm', 'location', u).catch(() => '')));
    const old = [holdRegistration('alice', CLIENTS.c1, ENTRIES.udpNat), holdRegistration('bob', CLIENTS.c2, ENTRIES.udpNat)];
    const young: Registered[] = [];
    try {
      await waitFor('alice and bob registered', () => (old.every(registeredOk) ? true : undefined), 10_000);
      await waitFor('the write-back of alice and bob', () => (old.every(inDatabase) ? true : undefined), 15_000, 200);
      // Young ones: registered just before the kill.
      young.push(holdRegistration('carol', CLIENTS.c1, ENTRIES.udpNat), holdRegistration('dave', CLIENTS.c2, ENTRIES.udpNat));
      await waitFor('carol and dave registered', () => (young.every(registeredOk) ? true : undefined), 10_000);
      const youngAgeMs = Date.now() - Math.min(...young.map((r) => traceTime(r.sipp.messages().find((t) => t.direction === 'received' && t.message.status === 200)!.time)));
      const youngInDbBeforeKill = young.filter(inDatabase).map((r) => r.user);

      await stopKamailio(ctx.stack, 'SIGKILL');
      const kept = [...old, ...young].filter(inDatabase).map((r) => r.user);
      await startKamailioAgain(ctx.stack);
      const udpCalls = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((u) => mediaServerCalls(u)));
      const lost = young.map((r) => r.user).filter((u) => !kept.includes(u));

      process.stdout.write(
        [
          `kamailio SIGKILL: registrations ${youngAgeMs} ms old at the kill (written before it: ${youngInDbBeforeKill.join(',') || 'none'}) lost ${lost.length} of 2; older than a write-back kept ${['alice', 'bob'].filter((u) => kept.includes(u)).length} of 2`,
          `  calls after the restart: ${udpCalls.map((r, i) => `${['alice', 'bob', 'carol', 'dave'][i]} ${finalToInvite(r)}`).join(', ')}`,
        ].join('\n') + '\n',
      );
      expect(kept).toEqual(expect.arrayContaining(['alice', 'bob']));
      expect(finalToInvite(udpCalls[0]!)).toBe(200);
      expect(finalToInvite(udpCalls[1]!)).toBe(200);
      // What was written before the kill survives; what was not is lost (no write at a kill).
      expect(lost.sort()).toEqual(['carol', 'dave'].filter((u) => !youngInDbBeforeKill.includes(u)));
      for (const [i, u] of ['carol', 'dave'].entries()) expect(finalToInvite(udpCalls[i + 2]!) === 200, u).toBe(!lost.includes(u));
    } finally {
      for (const r of [...old, ...young]) r.sipp.stop();
      await Promise.all([...old, ...young].map((r) => r.sipp.done));
    }
  });
});
