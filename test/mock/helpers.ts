/** Shared setup for the mock's own tests: the fixture cfg, its env and a loosely typed KSR. */
import { fileURLToPath } from 'node:url';
import { createKamailio, type KamailioOptions, type Kamailio, type TransportSpec } from '../../mocks/index.ts';
import type { KsrValue } from '../../mocks/surface.ts';

export const FIXTURE_CFG = fileURLToPath(new URL('../fixtures/mock/kamailio.cfg', import.meta.url));
export const FIXTURE_DISPATCHER = fileURLToPath(new URL('../fixtures/mock/dispatcher.list', import.meta.url));
export const ENV = { LOCAL_IP: '10.0.0.5', PUBLIC_IP: '198.51.100.7' } as const;

type Fn = (...args: unknown[]) => KsrValue;
/** KSR as routing code sees it, without the generated facade (the mock is tested on its own). */
export type LooseKsr = { readonly [name: string]: Fn & { readonly [fn: string]: Fn } };
export const K = (): LooseKsr => (globalThis as unknown as { KSR: LooseKsr }).KSR;

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
