/**
 * Fidelity of the mock against the API list: every implementation is a
 * listed function with the same parameter count, every mock module is
 * loaded in the list, and each function returns its declared type when
 * called with plausible arguments in a message context.
 */
import { describe, expect, it } from 'vitest';
import { kemiPath, loadApiList } from '../../build/kemi/api-list.ts';
import { sipRequest } from '../../mocks/index.ts';
import { allModules } from '../../mocks/modules/index.ts';
import type { Engine } from '../../mocks/runtime/engine.ts';
import { EXIT_MARKER } from '../../mocks/surface.ts';
import { ENV, K, TCP_CLIENT, kam, rawKsr, type Fn } from './helpers.ts';

const api = loadApiList();

/** Every implemented function as [path, declared arity]; factories only capture the engine. */
const implemented: Array<[string, number]> = allModules(ENV).flatMap((def) =>
  Object.entries(def.create(new Proxy({}, { get: () => undefined }) as Engine)).map(([name, fn]): [string, number] => [kemiPath(def.module, name), fn.length]),
);

/** Arguments that make sense for functions whose defaults ('x', 1) would be rejected. */
const ARGS: Readonly<Record<string, unknown[]>> = {
  'pv.get': ['$ru'], 'pv.gete': ['$ru'], 'pv.getw': ['$ru'], 'pv.geti': ['$sp'], 'pv.getvs': ['$ru', 'd'], 'pv.getvn': ['$sp', 0],
  'pv.sets': ['$var(x)', 'v'], 'pv.seti': ['$var(x)', 1], 'pv.unset': ['$var(x)'], 'pv.is_null': ['$du'],
  'hdr.append': ['X-A: 1\r\n'], 'hdr.insert': ['X-A: 1\r\n'], 'hdr.append_to_reply': ['X-A: 1\r\n'],
  'tm.t_on_failure': ['ksr_cb'], 'tm.t_on_reply': ['ksr_cb'], 'tm.t_on_branch': ['ksr_cb'], 'tm.t_on_branch_failure': ['ksr_cb'],
  'tm.t_is_set': ['failure_route'], 'tm.t_check_status': ['^4'],
  'corex.set_send_socket': ['udp:10.0.0.5:5070'], 'corex.set_send_socket_name': ['private_socket'],
  'seturi': ['sip:bob@example.com'], 'setdsturi': ['sip:10.0.0.11:5080'], 'is_myself': ['sip:10.0.0.5'], 'log': ['info', 'x'],
  'htable.sht_get': ['ipban', 'k'], 'htable.sht_gete': ['ipban', 'k'], 'htable.sht_getw': ['ipban', 'k'],
  'htable.sht_sets': ['ipban', 'k', 'v'], 'htable.sht_seti': ['ipban', 'k', 1], 'htable.sht_setex': ['ipban', 'k', 5],
  'htable.sht_setxi': ['ipban', 'k', 1, 5], 'htable.sht_setxs': ['ipban', 'k', 'v', 5], 'htable.sht_rm': ['ipban', 'k'],
  'htable.sht_is_null': ['ipban', 'k'], 'htable.sht_inc': ['ipban', 'k'], 'htable.sht_dec': ['ipban', 'k'], 'htable.sht_reset': ['ipban'],
  'htable.sht_match_name': ['ipban', 'eq', 'k'],
  'registrar.save': ['location', 0], 'registrar.lookup': ['location'], 'registrar.registered': ['location'],
  'auth_db.auth_check': ['example.com', 'subscriber', 1], 'auth_db.is_subscriber': ['sip:alice@example.com', 'subscriber', 0],
  'auth.auth_challenge': ['example.com', 0], 'auth.pv_auth_check': ['example.com', 'pw', 0, 0], 'auth.has_credentials': ['example.com'],
  'dispatcher.ds_select_dst': [1, 4], 'dispatcher.ds_select_dst_limit': [1, 4, 1], 'dispatcher.ds_select_domain': [1, 4],
  'dispatcher.ds_select_domain_limit': [1, 4, 1], 'dispatcher.ds_is_from_list_uri': [1, 2, 'sip:10.0.0.11:5080'],
  'dispatcher.ds_mark_dst_state': ['i'], 'sanity.sanity_check': [1511, 7], 'maxfwd.process_maxfwd': [10], 'maxfwd.is_maxfwd_lt': [10],
  'textops.is_present_hf_re': ['^Via$'], 'textops.remove_hf_re': ['^X-'], 'textops.search': ['INVITE'], 'textops.search_body': ['v=0'],
  'textops.set_body': ['x', 'text/plain'], 'textops.in_list': ['a', 'a,b', ','],
  'xhttp.xhttp_reply': [200, 'OK', 'text/plain', 'x'], 'is_proto': ['t'], 'nathelper.is_rfc1918': ['10.1.2.3'],
};

const INVITE = sipRequest({ method: 'INVITE', ruri: 'sip:bob@198.51.100.7', proto: 'tcp', source: '203.0.113.10:40123', body: 'v=0\r\nc=IN IP4 192.168.1.2\r\n' });

function typeOk(ret: string, v: unknown): boolean {
  switch (ret) {
    case 'int':
      return Number.isInteger(v);
    case 'bool':
      return typeof v === 'boolean';
    case 'none':
      return v === false;
    default:
      return v === null || v === undefined || typeof v === 'string' || Number.isInteger(v);
  }
}

describe('mock fidelity to the API list', () => {
  it('implements only listed functions, with the listed parameter count', () => {
    const problems = implemented.flatMap(([path, arity]) => {
      const decl = api.byPath.get(path);
      if (!decl) return [`${path}: not in the API list`];
      return decl.params.length === arity ? [] : [`${path}: ${arity} params, list says ${decl.params.length}`];
    });
    expect(problems).toEqual([]);
  });

  it('has every mock module loaded in the API list (none skipped)', () => {
    expect(kam({}).unloadedModules).toEqual([]);
  });

  it.each(implemented.map(([path]) => path))('%s returns its declared type', (path) => {
    const decl = api.byPath.get(path)!;
    const args = ARGS[path] ?? decl.params.map((t) => (t === 'int' ? 1 : 'x'));
    let value: unknown = 'not called';
    const m = kam({
      ksr_cb: () => undefined,
      ksr_request_route() {
        const ksr = rawKsr();
        const fn = decl.module === '' ? (ksr[decl.name] as unknown as Fn) : ksr[decl.module]![decl.name]!;
        value = fn(...args);
      },
    });
    const out = m.request(INVITE, TCP_CLIENT);
    if (out.end === 'error') throw out.error;
    if (value === 'not called') expect(out.end === 'exit' || out.end === 'drop').toBe(true);
    else expect(typeOk(decl.ret, value), `${path} -> ${JSON.stringify(value)} (declared ${decl.ret})`).toBe(true);
  });

  it('exit and drop are built in (KSR.x), not in the list', () => {
    expect(api.byPath.has('x.exit')).toBe(false);
    let caught: unknown;
    kam({ ksr_request_route: () => { try { K().x.drop(); } catch (e) { caught = e; } } }).request(INVITE, TCP_CLIENT);
    expect(caught).toBe(EXIT_MARKER);
  });
});
