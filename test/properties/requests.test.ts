/**
 * Properties of ksr_request_route over random, well-formed requests from any
 * source on any socket (test/properties/model.ts): it never crashes, every
 * request SIP wants answered is answered or relayed, nothing is relayed
 * anywhere but to a media server or a registered client, always from the
 * socket of that side and transport, and nothing from the public side
 * reaches a media server unauthenticated unless it is in-dialog.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Kamailio, RequestOutcome } from '../../mocks/index.ts';
import { DOMAIN, LOCAL_IP, PUBLIC_IP } from '../routing/scenario.ts';
import {
  MEDIA_IPS,
  anySource,
  buildRequest,
  clientSource,
  crashLogs,
  expectedSocket,
  hostOf,
  isFinal,
  isTrustedMediaServer,
  mediaSource,
  registeredHosts,
  registration,
  requestPlan,
  ROUTES as ROUTE_TEXT,
  transport,
  world,
  type RequestPlan,
  type Source,
} from './model.ts';

const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) };

interface Run {
  kam: Kamailio;
  plan: RequestPlan;
  source: Source;
  authenticated: boolean;
  registered: string[];
  out: RequestOutcome;
}

function run(reg: Parameters<typeof world>[0], plan: RequestPlan, source: Source): Run {
  const kam = world(reg);
  const registered = registeredHosts(kam);
  const built = buildRequest(kam, plan, source);
  const out = kam.request(built.text, transport(source));
  return { kam, plan, source, authenticated: built.authenticated, registered, out };
}

/** Hosts a trusted media server's in-dialog request names as its next hop: R-URI, its alias, its Route entries. */
function namedByRequest(plan: RequestPlan): string[] {
  const alias = /;alias=([^~]+)~/.exec(plan.ruri)?.[1];
  const routes = (plan.route === 'none' ? '' : ROUTE_TEXT[plan.route]).split(',').map((r) => hostOf(r.trim().replace(/^</, '')));
  return [hostOf(plan.ruri), ...(alias ? [alias] : []), ...routes];
}

function checkNoCrash({ out }: Run): void {
  expect(out.end).not.toBe('error');
  expect(crashLogs(out)).toEqual([]);
}

/** SIP answers every request but ACK; the routing may stay silent only on purpose. */
function checkAnswered({ plan, out }: Run): void {
  const finals = out.replies.filter(isFinal);
  expect(finals.length).toBeLessThanOrEqual(1);
  if (plan.method === 'ACK') {
    expect(out.replies).toEqual([]);
    return;
  }
  if (out.end === 'drop') {
    // Only scanners (and banned or flooding sources, never on a fresh proxy) are dropped.
    expect(plan.userAgent ?? '').toMatch(/scanner|sipvicious/i);
    return;
  }
  if (plan.method === 'CANCEL' && out.relays.length === 0) {
    // A CANCEL that matches no transaction: nothing to cancel, and no one to tell
    // (REQINIT may still have refused it: 403 on the private port, 483).
    return;
  }
  expect(finals.length + out.relays.length, `no final reply and no relay (end: ${out.end})`).toBeGreaterThan(0);
}

function checkDestinations(r: Run): void {
  const { plan, source, out, registered } = r;
  for (const relay of out.relays) {
    const host = relay.destination.host;
    if (!isTrustedMediaServer(source)) {
      expect(MEDIA_IPS, `public-side request relayed to ${host}`).toContain(host);
    } else if (!plan.toTag) {
      expect([...MEDIA_IPS, ...registered], `media server's initial request relayed to ${host}`).toContain(host);
    } else {
      expect(namedByRequest(plan), `media server's in-dialog request relayed to ${host}`).toContain(host);
    }
    // A loop, unless only an existing connection may be used (none leads to ourselves).
    if (!relay.noConnect) expect([LOCAL_IP, PUBLIC_IP, DOMAIN], 'relayed to the proxy itself').not.toContain(host);
  }
}

function checkSockets({ out }: Run): void {
  for (const relay of out.relays) {
    const expected = expectedSocket(relay.destination);
    if (expected === null) continue;
    expect(relay.socket.name, `${relay.method} to ${relay.destination.proto}:${relay.destination.host}`).toBe(expected);
    const via = relay.message.get('Via') ?? '';
    expect(via).toContain(MEDIA_IPS.includes(relay.destination.host) ? LOCAL_IP : PUBLIC_IP);
  }
}

/** An initial request goes where the proxy decides: a Route its sender preloaded (ours or not) is not passed on. */
function checkNoPreloadedRoute({ plan, out }: Run): void {
  if (plan.toTag) return;
  for (const relay of out.relays) expect(relay.message.get('Route'), `${relay.method} to ${relay.destination.host}`).toBeUndefined();
}

function checkAuthenticated({ plan, source, out, authenticated }: Run): void {
  if (isTrustedMediaServer(source)) return;
  for (const relay of out.relays) {
    if (plan.toTag) continue; // in-dialog: along a route set, to a media server (checkDestinations)
    expect(authenticated, `unauthenticated initial ${relay.method} reached ${relay.destination.host}`).toBe(true);
    // Credentials are for the proxy, not for the media server.
    expect(relay.message.get('Proxy-Authorization')).toBeUndefined();
  }
}

/** Headers the proxy adds to what a client receives never name the private side. */
function checkTopology({ source, out }: Run): void {
  if (isTrustedMediaServer(source)) return;
  for (const reply of out.replies) {
    for (const h of reply.headers) {
      // (A client's own address, which a media server's may be on a public socket, is no secret to it.)
      for (const secret of [LOCAL_IP, ...MEDIA_IPS].filter((ip) => ip !== source.ip)) expect(`${h.name}: ${h.value}`).not.toContain(secret);
    }
  }
}

const ALL_CHECKS = [checkNoCrash, checkAnswered, checkDestinations, checkSockets, checkNoPreloadedRoute, checkAuthenticated, checkTopology];

describe('ksr_request_route on random requests', () => {
  it('from any source on any socket: no crash, answered, allowed destinations and sockets, authenticated, no private topology in replies', () => {
    fc.assert(
      fc.property(registration, requestPlan, anySource, (reg, plan, source) => {
        const r = run(reg, plan, source);
        for (const check of ALL_CHECKS) check(r);
      }),
      RUNS,
    );
  });

  it('from clients (public addresses, every transport): the same, with more of them', () => {
    fc.assert(
      fc.property(registration, requestPlan, clientSource, (reg, plan, source) => {
        const r = run(reg, plan, source);
        for (const check of ALL_CHECKS) check(r);
      }),
      RUNS,
    );
  });

  it('from media servers (any port, transport and socket): the same; on a public socket they are clients', () => {
    fc.assert(
      fc.property(registration, requestPlan, mediaSource, (reg, plan, source) => {
        const r = run(reg, plan, source);
        for (const check of ALL_CHECKS) check(r);
      }),
      { numRuns: 100 },
    );
  });
});
