/** PV reads and writes typed like KSR.pv in 5.6.3. */
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { TCP_CLIENT, inRoute } from './helpers.ts';

const INVITE = sipRequest({
  method: 'INVITE',
  ruri: 'sip:bob@198.51.100.7',
  source: '203.0.113.10:40123',
  proto: 'tcp',
  fromTag: 'ft1',
  callId: 'call-1',
  cseq: 20,
  headers: [['User-Agent', 'softphone/1.0'], ['X-Multi', 'a'], ['X-Multi', 'b']],
  body: 'v=0\r\n',
});

describe('pseudo-variables', () => {
  it('returns null, "" and "<null>" for an absent value through get, gete and getw', () => {
    expect(inRoute((k) => [k.pv.get('$hdr(X-None)'), k.pv.gete('$hdr(X-None)'), k.pv.getw('$hdr(X-None)'), k.pv.is_null('$hdr(X-None)')])).toEqual([
      null, '', '<null>', true,
    ]);
  });

  it('returns 0 for an unset $var and null for an unset $avp', () => {
    expect(inRoute((k) => [k.pv.get('$var(unset)'), k.pv.get('$avp(unset)')])).toEqual([0, null]);
  });

  it('types numeric PVs like Kamailio: $sp/$Rp/$cl/$T_reply_code numbers, $rp/$cs/$dp strings', () => {
    const r = inRoute(
      (k) => {
        k.setdsturi('sip:10.0.0.11:5080;transport=tcp');
        return ['$sp', '$Rp', '$cl', '$T_reply_code', '$rp', '$cs', '$dp', '$dP', '$pr', '$hdrc(X-Multi)'].map((p) => k.pv.get(p));
      },
      INVITE,
      TCP_CLIENT,
    );
    expect(r).toEqual([40123, 5060, 5, 0, '5060', '20', '5080', 'tcp', 'tcp', 2]);
  });

  it('reads request, From/To, transport and socket PVs', () => {
    const names = ['$rm', '$ru', '$rU', '$rd', '$rz', '$fu', '$fU', '$fd', '$ft', '$tU', '$tt', '$ci', '$ua', '$si', '$Rn', '$Ri', '$RAi', '$du', '$fs', '$fsn', '$hdr(X-Multi)'];
    const r = inRoute((k) => names.map((n) => k.pv.get(n)), INVITE, TCP_CLIENT);
    expect(Object.fromEntries(names.map((n, i) => [n, r[i]]))).toEqual({
      $rm: 'INVITE', $ru: 'sip:bob@198.51.100.7', $rU: 'bob', $rd: '198.51.100.7', $rz: 'sip',
      $fu: 'sip:alice@198.51.100.7', $fU: 'alice', $fd: '198.51.100.7', $ft: 'ft1', $tU: 'bob', $tt: null,
      $ci: 'call-1', $ua: 'softphone/1.0', $si: '203.0.113.10', $Rn: 'public_tcp_socket', $Ri: '10.0.0.5',
      $RAi: '198.51.100.7', $du: null, $fs: null, $fsn: null, '$hdr(X-Multi)': 'a',
    });
  });

  it('throws on a PV the mock does not know instead of returning null', () => {
    expect(() => inRoute((k) => k.pv.get('$xyz'))).toThrow('mock KSR: unknown PV $xyz');
  });

  it('writes $ru/$du/$fsn and reflects them in later reads', () => {
    const r = inRoute((k) => {
      k.pv.sets('$ru', 'sip:carol@10.0.0.11');
      k.pv.sets('$du', 'sip:10.0.0.11:5080');
      k.pv.sets('$fsn', 'private_socket');
      return [k.pv.get('$ru'), k.pv.get('$rU'), k.pv.get('$du'), k.pv.get('$fs'), k.pv.get('$fsn')];
    });
    expect(r).toEqual(['sip:carol@10.0.0.11', 'carol', 'sip:10.0.0.11:5080', 'udp:10.0.0.5:5070', 'private_socket']);
  });

  it('does not show header lumps in later reads of the received message (Kamailio needs msg_apply_changes)', () => {
    const r = inRoute((k) => {
      k.hdr.append('X-Added: 1\r\n');
      k.hdr.remove('User-Agent');
      return [k.pv.get('$hdr(X-Added)'), k.hdr.is_present('User-Agent'), k.pv.get('$ua')];
    }, INVITE);
    expect(r).toEqual([null, 1, 'softphone/1.0']);
  });

  it('rejects a header without its trailing CRLF', () => {
    expect(() => inRoute((k) => k.hdr.append('X-Bad: 1'))).toThrow(/trailing/);
  });
});

describe('pv’s static branch (pvx.sbranch_*)', () => {
  it('sbranch_set_ruri makes it the request’s R-URI and $du, and fails when it has no URI', () => {
    const r = inRoute(
      (k) => {
        const empty = k.pvx.sbranch_set_ruri();
        k.pv.sets('$sbranch(uri)', 'sip:alice@192.168.1.20:5060');
        k.pv.sets('$sbranch(dst_uri)', 'sip:203.0.113.10:32000');
        const set = k.pvx.sbranch_set_ruri();
        return [empty, set, k.pv.get('$ru'), k.pv.get('$du')];
      },
      INVITE,
      TCP_CLIENT,
    );
    expect(r).toEqual([-1, 1, 'sip:alice@192.168.1.20:5060', 'sip:203.0.113.10:32000']);
  });

  it('lives in the process, not the message: sbranch_reset empties it', () => {
    const r = inRoute(
      (k) => {
        k.pv.sets('$sbranch(uri)', 'sip:alice@192.168.1.20:5060');
        k.pvx.sbranch_reset();
        return k.pvx.sbranch_set_ruri();
      },
      INVITE,
      TCP_CLIENT,
    );
    expect(r).toBe(-1);
  });

  it('refuses the fields it does not model', () => {
    expect(() => inRoute((k) => k.pv.sets('$sbranch(q)', '1'), INVITE, TCP_CLIENT)).toThrow(/not modelled/);
  });
});
