/**
 * How tm matches a request to a transaction (t_check_trans, t_newtran,
 * t_relay on absorbed requests) and tmx's pre-transaction check.
 */
import { describe, expect, it } from 'vitest';
import { SipMessage, sipRequest } from '../../mocks/index.ts';
import { K, TCP_CLIENT, kam } from './helpers.ts';

const invite = (over: Partial<Parameters<typeof sipRequest>[0]> = {}) =>
  sipRequest({ method: 'INVITE', ruri: 'sip:5000@198.51.100.7', source: '203.0.113.10:40123', proto: 'tcp', branch: 'z9hG4bKinv1', callId: 'inv-1', fromTag: 'ft1', body: 'v=0\r\n', ...over });
/** The e2e ACK to a 2xx: a new transaction, so a new Via branch, and the To tag of the 2xx. */
const ack = (toTag: string, over: Partial<Parameters<typeof sipRequest>[0]> = {}) =>
  invite({ method: 'ACK', body: '', branch: 'z9hG4bKack1', toTag, ...over });

const toTag = (m: SipMessage): string => /;tag=([^;>]+)/.exec(m.get('To') ?? '')![1]!;

/** Relays everything to a media server, recording what t_check_trans and t_relay return. */
function proxy(seen: unknown[]) {
  return {
    ksr_request_route() {
      const k = K();
      seen.push(`check ${k.tm.t_check_trans()}`);
      k.setdsturi('sip:10.0.0.11:5080');
      seen.push(`relay ${k.tm.t_relay()}`);
    },
  };
}

describe('ACK matching (t_lookup.c t_lookup_request)', () => {
  it('the e2e ACK to a relayed 2xx matches no transaction: t_check_trans -1, and t_relay forwards it statelessly with 1', () => {
    // -2 ("possible e2e ACK", t_check_trans 1) needs TMCB_E2EACK_IN callbacks (acc report_ack, sca...),
    // which none of the modules in kamailio.cfg installs.
    const seen: unknown[] = [];
    const m = kam(proxy(seen));
    const out = m.request(invite(), TCP_CLIENT);
    const ok = m.replyFromUpstream(out, 200, { toTag: 'callee' });
    expect(ok.forwarded?.code).toBe(200);
    const a = m.request(ack('callee'), TCP_CLIENT);
    expect(seen).toEqual(['check -1', 'relay 1', 'check -1', 'relay 1']);
    expect(a.relays.map((r) => `${r.method} ${r.destination.host}:${r.destination.port}`)).toEqual(['ACK 10.0.0.11:5080']);
    expect(a.tx).toBeNull();
    expect(a.replies).toEqual([]);
  });

  it('absorbs the hop-by-hop ACK to a negative reply: t_check_trans 0, t_relay 1 without sending anything', () => {
    const seen: unknown[] = [];
    const m = kam(proxy(seen));
    const out = m.request(invite(), TCP_CLIENT);
    m.replyFromUpstream(out, 486);
    const a = m.request(ack('callee', { branch: 'z9hG4bKinv1' }), TCP_CLIENT);
    expect(seen.slice(2)).toEqual(['check 0', 'relay 1']);
    expect(a.relays).toEqual([]);
  });

  it('matches the ACK to a 2xx this proxy sent itself by dialog (To tag ours): t_check_trans 0', () => {
    const seen: unknown[] = [];
    const m = kam({
      ksr_request_route() {
        const k = K();
        if (k.is_ACK()) {
          seen.push(k.tm.t_check_trans());
          return;
        }
        k.tm.t_newtran();
        k.tm.t_reply(200, 'OK');
      },
    });
    const local = m.request(invite(), TCP_CLIENT);
    const tag = toTag(local.reply!.message);
    m.request(ack(tag), TCP_CLIENT);
    m.request(ack('someone-else', { branch: 'z9hG4bKack2' }), TCP_CLIENT);
    expect(seen).toEqual([0, -1]);
  });

  it('a sl_send_reply does not answer the transaction (its status stays 0, so an ACK does not match it)', () => {
    const seen: unknown[] = [];
    const m = kam({
      ksr_request_route() {
        const k = K();
        if (k.is_ACK()) {
          seen.push(k.tm.t_check_trans());
          return;
        }
        k.tm.t_newtran();
        k.sl.sl_send_reply(486, 'Busy Here');
        seen.push(k.tm.t_get_status_code());
      },
    });
    m.request(invite(), TCP_CLIENT);
    m.request(ack('x', { branch: 'z9hG4bKinv1' }), TCP_CLIENT);
    // t_get_status_code: -1 while the transaction has sent nothing (tm.c ki_t_get_status_code)
    expect(seen).toEqual([-1, -1]);
  });
});

describe('t_newtran and t_relay on requests tm absorbs', () => {
  it('t_relay returns 1 for a retransmission and sends nothing (t_funcs.c: t_newtran 0 -> 1)', () => {
    const seen: unknown[] = [];
    const m = kam({ ksr_request_route: () => { K().setdsturi('sip:10.0.0.11:5080'); seen.push(K().tm.t_relay()); } });
    m.request(invite(), TCP_CLIENT);
    const again = m.request(invite(), TCP_CLIENT);
    expect(seen).toEqual([1, 1]);
    expect(again.relays).toEqual([]);
  });

  it('t_newtran: 1 new, -10 (E_SCRIPT) when called again, 0 for a retransmission, 1 and no transaction for an ACK', () => {
    const seen: unknown[] = [];
    const m = kam({ ksr_request_route: () => { seen.push(K().tm.t_newtran()); if (!K().is_ACK()) seen.push(K().tm.t_newtran()); } });
    m.request(invite(), TCP_CLIENT);
    m.request(invite(), TCP_CLIENT);
    const a = m.request(ack('x'), TCP_CLIENT);
    expect(seen).toEqual([1, -10, 0, 0, 1]);
    expect(a.tx).toBeNull();
  });

  it('t_check_trans after t_relay in the same message finds that transaction (0)', () => {
    let rc: unknown;
    kam({ ksr_request_route: () => { K().setdsturi('sip:10.0.0.11:5080'); K().tm.t_relay(); rc = K().tm.t_check_trans(); } }).request(invite(), TCP_CLIENT);
    expect(rc).toBe(0);
  });
});

describe('tmx.t_precheck_trans (tmx_pretran.c)', () => {
  const check = (message: string, inFlightElsewhere = false) => {
    const seen: unknown[] = [];
    kam({ ksr_request_route: () => { seen.push(K().tmx.t_precheck_trans(), K().tm.t_check_trans()); } })
      .request(message, { ...TCP_CLIENT, inFlightElsewhere });
    return seen;
  };

  it('returns 1 while another worker processes a copy of the request; no transaction exists yet (t_check_trans -1)', () => {
    expect(check(invite(), true)).toEqual([1, -1]);
  });

  it('returns -1 when no other worker has the request', () => {
    expect(check(invite())).toEqual([-1, -1]);
  });

  it('returns -2 ("error") for ACK and CANCEL, and for a request without From tag', () => {
    expect(check(ack('x'), true)[0]).toBe(-2);
    expect(check(invite({ method: 'CANCEL', body: '' }), true)[0]).toBe(-2);
    const noTag = invite().replace(/(From: [^\r]*);tag=ft1/, '$1');
    expect(check(noTag, true)[0]).toBe(-2);
  });

  it('returns -2 outside request_route', () => {
    let rc: unknown;
    const m = kam({
      ksr_request_route: () => { K().setdsturi('sip:10.0.0.11:5080'); K().tm.t_on_failure('ksr_failure'); K().tm.t_relay(); },
      ksr_failure: () => { rc = K().tmx.t_precheck_trans(); },
    });
    m.replyFromUpstream(m.request(invite(), { ...TCP_CLIENT, inFlightElsewhere: true }), 486);
    expect(rc).toBe(-2);
  });
});
