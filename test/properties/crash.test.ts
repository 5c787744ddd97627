/**
 * The entry wrapper (src/ksr/entry.ts guardEntry, applied to every export of
 * src/main.ts) under injected faults: the N-th KSR call a route makes throws
 * something (an Error, a TypeError, a string, undefined) or ends the route
 * with KSR.x.exit()/drop() instead. A request then gets a 500 (an ACK
 * nothing) and the log a line with the stack; a failure route answers the
 * caller with 500; the reply and event callbacks only log; exit and drop
 * still end the route normally.
 *
 * The fault is injected by a routing module wrapper that swaps the KSR
 * global for a proxy while the real entry point runs, so every call site of
 * the real routing is a candidate.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKamailio, sipRequest, type Kamailio } from '../../mocks/index.ts';
import * as main from '../../src/main';
import { DISPATCHER_LIST, DOMAIN, ENV, PUBLIC_IP, SUBSCRIBERS } from '../routing/scenario.ts';
import { anySource, buildRequest, requestPlan, transport, type RequestPlan, type Source } from './model.ts';

type Fault = 'Error' | 'TypeError' | 'string' | 'undefined' | 'exit' | 'drop';
type Entry = 'ksr_request_route' | 'ksr_failure_manage' | 'ksr_onreply_manage' | 'ksr_xhttp_event' | 'ksr_websocket_event';
interface Injection {
  entry: Entry;
  /** The fault replaces the at-th KSR call of that entry point (x.exit/x.drop not counted). */
  at: number;
  fault: Fault;
}

type AnyFn = (...args: unknown[]) => unknown;
type KsrLike = Record<string, unknown>;

/** KSR with every function but x.exit/x.drop going through `before`. */
function proxied(real: KsrLike, before: (real: KsrLike) => void): KsrLike {
  const wrap = (fn: AnyFn, self: unknown): AnyFn =>
    (...args) => {
      before(real);
      return fn.apply(self, args);
    };
  return new Proxy(real, {
    get(target, key: string) {
      const value = target[key];
      if (typeof value === 'function') return wrap(value as AnyFn, target);
      if (value === null || typeof value !== 'object') return value;
      const mod = value as Record<string, unknown>;
      return new Proxy(mod, {
        get(m, name: string) {
          const fn = m[name];
          if (typeof fn !== 'function') return fn;
          return key === 'x' && (name === 'exit' || name === 'drop') ? fn : wrap(fn as AnyFn, m);
        },
      });
    },
  });
}

/** Did the fault fire (the entry made at least `at` KSR calls)? */
interface Fired {
  value: boolean;
}

function faultyRouting(injection: Injection, fired: Fired): Record<string, unknown> {
  const routing: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(main)) {
    if (typeof fn !== 'function') continue;
    routing[name] = (...args: unknown[]) => {
      if (name !== injection.entry) return (fn as AnyFn)(...args);
      const g = globalThis as unknown as { KSR: KsrLike };
      const real = g.KSR;
      let calls = 0;
      g.KSR = proxied(real, (ksr) => {
        if (++calls !== injection.at) return;
        fired.value = true;
        const x = ksr['x'] as { exit(): void; drop(): void };
        switch (injection.fault) {
          case 'Error':
            throw new Error('injected fault');
          case 'TypeError':
            throw new TypeError('undefined not callable (injected)');
          case 'string':
            throw 'injected string';
          case 'undefined':
            throw undefined;
          case 'exit':
            x.exit();
            break;
          case 'drop':
            x.drop();
            break;
        }
      });
      try {
        return (fn as AnyFn)(...args);
      } finally {
        g.KSR = real;
      }
    };
  }
  return routing;
}

function proxy(injection: Injection, fired: Fired): Kamailio {
  return createKamailio({ routing: faultyRouting(injection, fired), env: ENV, dispatcherList: DISPATCHER_LIST, subscribers: SUBSCRIBERS });
}

const fault = fc.constantFrom<Fault>('Error', 'TypeError', 'string', 'undefined', 'exit', 'drop');
const throws = (f: Fault): boolean => f !== 'exit' && f !== 'drop';
const crashLine = (entry: string) => (l: { text: string }): boolean => l.text.includes(`routing error in ${entry} (build test)`);

const CLIENT: Source = { kind: 'client', proto: 'udp', ip: '203.0.113.50', port: 32000, socket: 'public_socket' };
const INVITE: RequestPlan = {
  method: 'INVITE', ruri: `sip:1000@${DOMAIN}`, fromUser: 'alice', fromDomain: DOMAIN, toUser: null, toTag: false, route: 'none', sdp: true,
  credentials: 'valid', contact: '<sip:alice@192.168.1.20:5060>', maxForwards: 70, expires: null, userAgent: null,
};

describe('the entry wrapper under faults injected anywhere in the routing', () => {
  it('ksr_request_route: a thrown fault gets the request a 500 (an ACK nothing) and a log line; exit/drop end it normally', () => {
    fc.assert(
      fc.property(requestPlan, anySource, fc.integer({ min: 1, max: 60 }), fault, (plan, source, at, f) => {
        const fired = { value: false };
        const kam = proxy({ entry: 'ksr_request_route', at, fault: f }, fired);
        const out = kam.request(buildRequest(kam, plan, source).text, transport(source));
        expect(out.end).not.toBe('error');
        if (!fired.value) return;
        const crashed = out.logs.filter(crashLine('ksr_request_route'));
        if (throws(f)) {
          expect(crashed).toHaveLength(1);
          const finals = out.replies.filter((r) => r.code >= 200).map((r) => r.code);
          expect(finals).toEqual(plan.method === 'ACK' ? [] : [500]);
          expect(out.relays).toEqual([]);
        } else {
          expect(crashed).toEqual([]);
          expect(out.end).toBe(f);
          expect(out.replies.filter((r) => r.code === 500)).toEqual([]);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('ksr_failure_manage: a thrown fault answers the caller with 500 through the transaction; exit/drop let tm forward the failure', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fault, fc.constantFrom<'timeout' | 503 | 486>('timeout', 503, 486), (at, f, failure) => {
        const fired = { value: false };
        const kam = proxy({ entry: 'ksr_failure_manage', at, fault: f }, fired);
        const out = kam.request(buildRequest(kam, INVITE, CLIENT).text, transport(CLIENT));
        expect(out.relays).toHaveLength(1);
        const r = failure === 'timeout' ? kam.timeout(out) : kam.replyFromUpstream(out, failure);
        for (const route of r.routes) expect(route.end).not.toBe('error');
        const crashed = r.logs.filter(crashLine('ksr_failure_manage'));
        if (fired.value && throws(f)) {
          expect(crashed).toHaveLength(1);
          expect(r.forwarded?.code).toBe(500);
          expect(r.relays).toEqual([]);
        } else {
          expect(crashed).toEqual([]);
          // Failover or a final answer, never silence.
          expect(r.relays.length + (r.forwarded !== undefined && r.forwarded.code >= 200 ? 1 : 0)).toBeGreaterThan(0);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('ksr_onreply_manage: a thrown fault is logged and the reply still reaches the caller', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fault, fc.constantFrom(180, 183, 200), (at, f, code) => {
        const fired = { value: false };
        const kam = proxy({ entry: 'ksr_onreply_manage', at, fault: f }, fired);
        const out = kam.request(buildRequest(kam, INVITE, CLIENT).text, transport(CLIENT));
        const r = kam.replyFromUpstream(out, code, { body: 'v=0\r\nc=IN IP4 10.0.0.21\r\n' });
        for (const route of r.routes) expect(route.end).not.toBe('error');
        expect(r.logs.filter(crashLine('ksr_onreply_manage'))).toHaveLength(fired.value && throws(f) ? 1 : 0);
        if (f !== 'drop' || code >= 200) expect(r.forwarded?.code).toBe(code);
      }),
      { numRuns: 60 },
    );
  });

  it('ksr_xhttp_event and ksr_websocket_event: a thrown fault is logged, never escapes to app_jsdt', () => {
    const upgrade = ['GET / HTTP/1.1', `Host: ${PUBLIC_IP}:7777`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: sip', '', ''].join('\r\n');
    const wss = { proto: 'tls' as const, source: '203.0.113.50:50123', socket: 'public_webrtc_socket' };
    fc.assert(
      fc.property(fc.constantFrom<Entry>('ksr_xhttp_event', 'ksr_websocket_event'), fc.integer({ min: 1, max: 6 }), fault, (entry, at, f) => {
        const fired = { value: false };
        const kam = proxy({ entry, at, fault: f }, fired);
        const http = kam.httpRequest(upgrade, wss);
        expect(http.end).not.toBe('error');
        const outcomes = [http];
        if (http.upgraded) outcomes.push(kam.websocketClosed({ source: wss.source, socket: wss.socket }));
        for (const o of outcomes) expect(o.end).not.toBe('error');
        const crashed = outcomes.flatMap((o) => o.logs.filter(crashLine(entry)));
        expect(crashed).toHaveLength(fired.value && throws(f) ? 1 : 0);
      }),
      { numRuns: 60 },
    );
  });

  it('never lets the wrapper itself answer an ACK, whatever the fault', () => {
    const ack = sipRequest({ method: 'ACK', ruri: `sip:1000@${DOMAIN}`, toTag: 'x', source: '203.0.113.50:32000' });
    for (let at = 1; at <= 30; at++) {
      const fired = { value: false };
      const out = proxy({ entry: 'ksr_request_route', at, fault: 'Error' }, fired).request(ack, transport(CLIENT));
      expect(out.replies).toEqual([]);
      if (fired.value) expect(out.logs.filter(crashLine('ksr_request_route'))).toHaveLength(1);
    }
  });
});
