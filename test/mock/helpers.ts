/** Shared setup for the mock's own tests: the fixture cfg, its env and a loosely typed KSR. */
import { fileURLToPath } from 'node:url';
import { createKamailio, type KamailioOptions, type Kamailio, type TransportSpec } from '../../mocks/index.ts';
import type { KsrValue } from '../../mocks/surface.ts';
import type { ModuleDef } from '../../mocks/modules/define.ts';
import type { auth, authDb } from '../../mocks/modules/auth.ts';
import type core from '../../mocks/modules/core.ts';
import type corex from '../../mocks/modules/corex.ts';
import type dispatcher from '../../mocks/modules/dispatcher.ts';
import type hdr from '../../mocks/modules/hdr.ts';
import type htable from '../../mocks/modules/htable.ts';
import type { kxModule } from '../../mocks/modules/kx.ts';
import type maxfwd from '../../mocks/modules/maxfwd.ts';
import type nathelper from '../../mocks/modules/nathelper.ts';
import type pike from '../../mocks/modules/pike.ts';
import type pv from '../../mocks/modules/pv.ts';
import type pvx from '../../mocks/modules/pvx.ts';
import type registrar from '../../mocks/modules/registrar.ts';
import type rr from '../../mocks/modules/rr.ts';
import type rtpengine from '../../mocks/modules/rtpengine.ts';
import type sanity from '../../mocks/modules/sanity.ts';
import type siputils from '../../mocks/modules/siputils.ts';
import type sl from '../../mocks/modules/sl.ts';
import type textops from '../../mocks/modules/textops.ts';
import type tm from '../../mocks/modules/tm.ts';
import type tmx from '../../mocks/modules/tmx.ts';
import type { websocket, xhttp } from '../../mocks/modules/websocket.ts';

export const FIXTURE_CFG = fileURLToPath(new URL('../fixtures/mock/kamailio.cfg', import.meta.url));
export const FIXTURE_DISPATCHER = fileURLToPath(new URL('../fixtures/mock/dispatcher.list', import.meta.url));
export const ENV = { LOCAL_IP: '10.0.0.5', PUBLIC_IP: '198.51.100.7' } as const;

export type Fn = (...args: unknown[]) => KsrValue;
/** app_jsdt turns a "none" result into false. */
type Returned<R> = [R] extends [void] ? false : R;
/** The functions a mock module implements with their return types, callable with any arguments (arity errors are under test too). */
type Fns<D> = D extends ModuleDef<infer T>
  ? { readonly [N in keyof T]: (...args: unknown[]) => Returned<ReturnType<T[N]>> }
  : never;
/**
 * KSR as routing code sees it, typed from the mock's own modules rather than
 * the routing's generated facade, so the mock is tested on its own.
 */
export type LooseKsr = Fns<typeof core> & {
  readonly pv: Fns<typeof pv>; readonly pvx: Fns<typeof pvx>; readonly hdr: Fns<typeof hdr>; readonly textops: Fns<typeof textops>; readonly sl: Fns<typeof sl>;
  readonly tm: Fns<typeof tm>; readonly tmx: Fns<typeof tmx>; readonly rr: Fns<typeof rr>; readonly siputils: Fns<typeof siputils>;
  readonly maxfwd: Fns<typeof maxfwd>; readonly sanity: Fns<typeof sanity>; readonly corex: Fns<typeof corex>;
  readonly kx: Fns<ReturnType<typeof kxModule>>; readonly htable: Fns<typeof htable>; readonly pike: Fns<typeof pike>;
  readonly rtpengine: Fns<typeof rtpengine>; readonly nathelper: Fns<typeof nathelper>; readonly registrar: Fns<typeof registrar>;
  readonly auth: Fns<typeof auth>; readonly auth_db: Fns<typeof authDb>; readonly dispatcher: Fns<typeof dispatcher>;
  readonly websocket: Fns<typeof websocket>; readonly xhttp: Fns<typeof xhttp>;
  readonly x: { readonly exit: Fn; readonly drop: Fn; readonly modf: Fn };
};
export const K = (): LooseKsr => (globalThis as unknown as { KSR: LooseKsr }).KSR;
/** The same object seen as a plain map, for calls to functions the mock does not implement. */
export const rawKsr = (): Record<string, Record<string, Fn | undefined> | undefined> =>
  (globalThis as unknown as { KSR: Record<string, Record<string, Fn | undefined> | undefined> }).KSR;

export function kam(routing: KamailioOptions['routing'], extra: Partial<KamailioOptions> = {}): Kamailio {
  return createKamailio({ routing, cfgPath: FIXTURE_CFG, env: ENV, dispatcherList: { file: FIXTURE_DISPATCHER }, ...extra });
}

export const UDP_CLIENT: TransportSpec = { proto: 'udp', source: '203.0.113.10:5060', socket: 'public_socket' };
export const TCP_CLIENT: TransportSpec = { proto: 'tcp', source: '203.0.113.10:40123', socket: 'public_tcp_socket' };
export const MEDIA_UDP: TransportSpec = { proto: 'udp', source: '10.0.0.11:5080', socket: 'private_socket' };

/** Runs `fn` inside ksr_request_route on a fresh message and returns what it returned. */
export function inRoute<T>(fn: (ksr: LooseKsr) => T, message?: string, transport: TransportSpec = UDP_CLIENT, extra: Partial<KamailioOptions> = {}): T {
  let result: { v: T } | undefined;
  const k = kam({ ksr_request_route: () => { result = { v: fn(K()) }; } }, extra);
  const out = k.request(message ?? OPTIONS, transport);
  if (out.end === 'error') throw out.error;
  if (!result) throw new Error('route did not run');
  return result.v;
}

export const OPTIONS = [
  'OPTIONS sip:198.51.100.7:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-opt-1;rport',
  'Max-Forwards: 70',
  'From: <sip:alice@example.com>;tag=f1',
  'To: <sip:198.51.100.7>',
  'Call-ID: opt-1@example.com',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');
