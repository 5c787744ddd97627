/** maxfwd, sanity, nathelper, rr, htable, pike, kx. */
import { describe, expect, it } from 'vitest';
import { SipMessage, sipRequest } from '../../mocks/index.ts';
import { K, MEDIA_UDP, OPTIONS, TCP_CLIENT, UDP_CLIENT, inRoute, kam } from './helpers.ts';

describe('maxfwd.process_maxfwd', () => {
  it('decrements (1), inserts when absent (2), returns -1 at 0 and caps at max_limit 70', () => {
    expect(inRoute((k) => [k.maxfwd.process_maxfwd(10), k.pv.get('$hdr(Max-Forwards)')])).toEqual([1, '69']);
    expect(inRoute((k) => k.maxfwd.process_maxfwd(10), sipRequest({ method: 'OPTIONS', ruri: 'sip:x@y', maxForwards: null }))).toBe(2);
    expect(inRoute((k) => k.maxfwd.process_maxfwd(10), sipRequest({ method: 'OPTIONS', ruri: 'sip:x@y', maxForwards: 0 }))).toBe(-1);
    expect(inRoute((k) => [k.maxfwd.process_maxfwd(10), k.pv.get('$hdr(Max-Forwards)')], sipRequest({ method: 'OPTIONS', ruri: 'sip:x@y', maxForwards: 200 }))).toEqual([1, '70']);
  });
});

describe('sanity.sanity_check', () => {
  const check = (raw: string) => {
    let rc: unknown;
    const out = kam({ ksr_request_route: () => { rc = K().sanity.sanity_check(17895, 7); } }).request(raw, UDP_CLIENT);
    return { rc, reply: out.reply ? `${out.reply.code} ${out.reply.reason}` : null };
  };

  it('passes a well-formed request', () => {
    expect(check(OPTIONS)).toEqual({ rc: 1, reply: null });
  });

  it('replies 400 itself and returns -1 when the CSeq method differs or Content-Length is wrong', () => {
    expect(check(OPTIONS.replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'))).toEqual({ rc: -1, reply: '400 CSeq method does not match request method' });
    expect(check(OPTIONS.replace('Content-Length: 0', 'Content-Length: 12'))).toEqual({ rc: -1, reply: '400 Content-Length mis-match' });
  });

  it('sends no reply when a transaction header is missing (FL_MSG_NOREPLY)', () => {
    expect(check(OPTIONS.replace(/Call-ID: .*\r\n/, ''))).toEqual({ rc: -1, reply: null });
  });
});

describe('nathelper', () => {
  const natMsg = sipRequest({
    method: 'INVITE', ruri: 'sip:bob@198.51.100.7', source: '192.168.1.20:5060', contact: '<sip:alice@192.168.1.20:5060>',
    body: 'v=0\r\nc=IN IP4 192.168.1.20\r\n',
  });
  const natted = { proto: 'udp', source: '203.0.113.10:61000', socket: 'public_socket' } as const;

  it('applies the nat_uac_test bits separately', () => {
    const bits = [1, 2, 4, 8, 16, 32, 64, 128, 256];
    expect(inRoute((k) => bits.map((b) => k.nathelper.nat_uac_test(b)), natMsg, natted)).toEqual([1, 1, 1, 1, 1, -1, -1, 1, 1]);
    expect(inRoute((k) => k.nathelper.nat_uac_test(64), OPTIONS, { proto: 'ws', source: '203.0.113.10:50000', socket: 'public_tcp_socket' })).toBe(1);
    expect(inRoute((k) => k.nathelper.nat_uac_test(19), OPTIONS, { proto: 'udp', source: '203.0.113.10:5060', socket: 'public_socket' })).toBe(-1);
  });

  it('adds ;alias to the Contact that is sent (not to $ct) and handle_ruri_alias turns it into $du', () => {
    const out = kam({ ksr_request_route() { K().nathelper.set_contact_alias(); K().tm.t_relay(); } }).request(natMsg, natted);
    expect(out.relay?.message.get('Contact')).toBe('<sip:alice@192.168.1.20:5060;alias=203.0.113.10~61000~1>');
    const r = inRoute((k) => [k.nathelper.handle_ruri_alias(), k.pv.get('$du'), k.pv.get('$ru')], sipRequest({ method: 'BYE', ruri: 'sip:alice@192.168.1.20:5060;alias=203.0.113.10~61000~2', toTag: 't' }), MEDIA_UDP);
    expect(r).toEqual([1, 'sip:203.0.113.10:61000;transport=tcp', 'sip:alice@192.168.1.20:5060']);
    expect(inRoute((k) => k.nathelper.handle_ruri_alias(), OPTIONS)).toBe(2);
  });

  it('fix_nated_contact rewrites the Contact host:port to the source', () => {
    const out = kam({ ksr_request_route() { K().nathelper.fix_nated_contact(); K().tm.t_relay(); } }).request(natMsg, natted);
    expect(out.relay?.message.get('Contact')).toBe('<sip:alice@203.0.113.10:61000>');
  });
});

describe('rr.loose_route', () => {
  const inDialog = (route: string | null, toTag: string | null = 'tt') =>
    sipRequest({ method: 'BYE', ruri: 'sip:bob@203.0.113.50:5060', toTag, headers: route === null ? [] : [['Route', route]] });

  it('returns -1 without Route headers', () => {
    expect(inRoute((k) => k.rr.loose_route(), inDialog(null))).toBe(-1);
  });

  it('pops both of our double Route entries, keeps the R-URI and exposes our params to check_route_param', () => {
    const route = '<sip:10.0.0.5:5070;r2=on;lr;ftag=ft;nat=yes>, <sip:198.51.100.7:5060;r2=on;lr;ftag=ft;nat=yes>';
    const r = inRoute((k) => [k.rr.loose_route(), k.pv.get('$du'), k.rr.check_route_param('nat=yes')], inDialog(route), MEDIA_UDP);
    expect(r).toEqual([1, null, 1]);
    const out = kam({ ksr_request_route() { K().rr.loose_route(); K().tm.t_relay(); } }).request(inDialog(route), MEDIA_UDP);
    expect(out.relay?.message.has('Route')).toBe(false);
  });

  it('routes to the next Route after ours, and to a foreign first Route as is', () => {
    const r1 = inRoute((k) => [k.rr.loose_route(), k.pv.get('$du')], inDialog('<sip:198.51.100.7;lr>, <sip:192.0.2.9;lr>'));
    expect(r1).toEqual([1, 'sip:192.0.2.9;lr']);
    const r2 = inRoute((k) => [k.rr.loose_route(), k.pv.get('$du')], inDialog('<sip:192.0.2.9;lr>'));
    expect(r2).toEqual([1, 'sip:192.0.2.9;lr']);
  });

  it('returns -3 for an initial request whose only Route is ours (preloaded)', () => {
    expect(inRoute((k) => k.rr.loose_route(), inDialog('<sip:198.51.100.7;lr>', null))).toBe(-3);
  });
});

describe('htable and pike', () => {
  it('expires ipban entries after the declared autoexpire on the mock clock', () => {
    const seen: unknown[] = [];
    const m = kam({
      ksr_request_route() {
        const k = K();
        seen.push(k.htable.sht_match_name('ipban', 'eq', String(k.pv.get('$si'))), k.pv.get('$sht(ipban=>203.0.113.10)'));
        k.htable.sht_seti('ipban', String(k.pv.get('$si')), 1);
      },
    });
    m.request(OPTIONS, UDP_CLIENT);
    m.request(OPTIONS, UDP_CLIENT);
    m.clock.advance(300_000);
    m.request(OPTIONS, UDP_CLIENT);
    expect(seen).toEqual([-1, null, 1, 1, -1, null]);
  });

  it('fails the test on a table not declared in kamailio.cfg', () => {
    expect(() => inRoute((k) => k.htable.sht_get('nosuch', 'k'))).toThrow(/htable "nosuch" is not declared/);
  });

  it('pike flags a source above reqs_density_per_unit within one sampling window', () => {
    const rcs: unknown[] = [];
    const m = kam({ ksr_request_route: () => { rcs.push(K().pike.pike_check_req()); } });
    for (let i = 0; i < 17; i++) m.request(OPTIONS, UDP_CLIENT);
    m.clock.advance(2000);
    m.request(OPTIONS, UDP_CLIENT);
    expect(rcs.slice(15)).toEqual([1, -1, 1]);
  });
});

describe('kx getters', () => {
  it('return the real types: strings, numbers, null for absent', () => {
    const r = inRoute((k) => [k.kx.get_srcip(), k.kx.get_srcport(), k.kx.get_proto(), k.kx.get_status(), k.kx.gets_status(), k.kx.get_duri(), k.kx.get_rcv_sock_name(), k.kx.ifdef('WEBRTC_PORT')], OPTIONS, TCP_CLIENT);
    expect(r).toEqual(['203.0.113.10', 40123, 'tcp', -1, null, null, 'public_tcp_socket', true]);
  });

  it('see the reply status in reply routes', () => {
    let st: unknown[] = [];
    const m = kam({
      ksr_request_route: () => { K().setdsturi('sip:10.0.0.11:5080'); K().tm.t_relay(); },
      ksr_reply_route: () => { st = [K().kx.get_status(), K().kx.gets_status(), K().pv.get('$rs')]; },
    });
    const out = m.request(OPTIONS, UDP_CLIENT);
    m.replyFromUpstream(out, 404);
    expect(st).toEqual([404, '404', 404]);
    expect(SipMessage.parse(out.relay!.message.toString()).method).toBe('OPTIONS');
  });
});
