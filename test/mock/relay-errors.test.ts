/**
 * t_relay failures: an unresolvable next hop (the mock has no DNS), a branch
 * dropped in the branch route, the delayed error reply tm sends after the
 * script, and what sl_reply_error reports under KEMI (prev_ser_error).
 */
import { describe, expect, it } from 'vitest';
import { sipRequest, type RequestOutcome } from '../../mocks/index.ts';
import { K, MEDIA_UDP, TCP_CLIENT, kam } from './helpers.ts';

const invite = (ruri = 'sip:5000@198.51.100.7', over: Partial<Parameters<typeof sipRequest>[0]> = {}) =>
  sipRequest({ method: 'INVITE', ruri, source: '203.0.113.10:40123', proto: 'tcp', body: 'v=0\r\n', ...over });

const replies = (out: RequestOutcome) => out.replies.map((r) => `${r.code} ${r.reason} [${r.by}]`);

/** The article's relay block: `if (t_relay() < 0) sl_reply_error()`, recording t_relay's code. */
function relayTo(dst: string | null, seen: unknown[], after?: () => void) {
  return {
    ksr_request_route() {
      const k = K();
      if (dst !== null) k.setdsturi(dst);
      const rc = k.tm.t_relay();
      seen.push(rc);
      after?.();
      if (rc < 0) k.sl.sl_reply_error();
      k.x.exit();
    },
  };
}

describe('t_relay to a next hop that does not resolve', () => {
  it('returns E_BAD_ADDRESS (-478), relays nothing, and the client gets sl_reply_error\'s 500 then tm\'s delayed 478', () => {
    const seen: unknown[] = [];
    const out = kam(relayTo('sip:media.invalid:5080', seen)).request(invite(), TCP_CLIENT);
    expect(seen).toEqual([-478]);
    expect(out.relays).toEqual([]);
    // sl_reply_error reports prev_ser_error, which no do_action has set yet: E_UNSPEC (-1).
    // tm's post-script t_unref answers the failed relay: err2reason(E_BAD_ADDRESS) signed "TM".
    expect(replies(out)).toEqual([
      "500 I'm terribly sorry, server error occurred (1/SL) [sl]",
      '478 Unresolvable destination (478/TM) [tm]',
    ]);
    expect(out.reply?.message.start).toMatchObject({ status: 478 });
  });

  it('uses $du before the R-URI, and takes IP literals and our own names (listen, advertise, alias) as resolved', () => {
    const run = (ruri: string, dst: string | null) => {
      const seen: unknown[] = [];
      kam(relayTo(dst, seen)).request(invite(ruri), TCP_CLIENT);
      return seen[0];
    };
    expect(run('sip:5000@media.invalid', 'sip:10.0.0.11:5080')).toBe(1);
    expect(run('sip:5000@10.0.0.11:5080', 'sip:media.invalid')).toBe(-478);
    expect(run('sip:5000@sip.example.com', null)).toBe(1);
    expect(run('sip:5000@198.51.100.7', null)).toBe(1);
    expect(run('sip:5000@[2001:db8::1]:5060', null)).toBe(1);
  });

  it('sl_reply_error reports the error only after something ran a core action (here an $rU assignment)', () => {
    const seen: unknown[] = [];
    const out = kam(relayTo('sip:media.invalid', seen, () => K().pv.sets('$rU', '5001'))).request(invite(), TCP_CLIENT);
    expect(replies(out)).toEqual(['478 Unresolvable destination (478/SL) [sl]', '478 Unresolvable destination (478/TM) [tm]']);
  });

  it('keeps ser_error per process: a later message that runs a core action reports the earlier failure', () => {
    const m = kam({
      ksr_request_route() {
        const k = K();
        if (k.is_INVITE()) {
          k.tm.t_relay();
          return;
        }
        k.sethost('example.com');
        k.sl.sl_reply_error();
      },
    });
    m.request(invite('sip:5000@media.invalid'), TCP_CLIENT);
    const options = m.request(sipRequest({ method: 'OPTIONS', ruri: 'sip:198.51.100.7' }), TCP_CLIENT);
    expect(options.reply).toMatchObject({ code: 478, reason: 'Unresolvable destination (478/SL)' });
  });

  it('after a successful relay ser_error is E_OK: sl_reply_error then sends "500 No error (0/SL)"', () => {
    const out = kam({
      ksr_request_route() {
        const k = K();
        k.setdsturi('sip:10.0.0.11:5080');
        k.tm.t_relay();
        k.sethost('example.com');
        k.sl.sl_reply_error();
      },
    }).request(invite(), TCP_CLIENT);
    expect(out.reply).toMatchObject({ code: 500, reason: 'No error (0/SL)', by: 'sl' });
  });

  it('sends no delayed reply when the script answered statefully or released the transaction', () => {
    const replied = kam({ ksr_request_route: () => { K().setdsturi('sip:media.invalid'); K().tm.t_relay(); K().tm.t_reply(503, 'Unavailable'); } })
      .request(invite(), TCP_CLIENT);
    expect(replies(replied)).toEqual(['503 Unavailable [tm]']);
    const released = kam({ ksr_request_route: () => { K().setdsturi('sip:media.invalid'); K().tm.t_relay(); K().tm.t_release(); } })
      .request(invite(), TCP_CLIENT);
    expect(released.replies).toEqual([]);
  });

  it('still sends the delayed reply when the script throws after the failed relay (post-script callbacks run)', () => {
    const out = kam({ ksr_request_route: () => { K().setdsturi('sip:media.invalid'); K().tm.t_relay(); throw new Error('boom'); } })
      .request(invite(), TCP_CLIENT);
    expect(out.end).toBe('error');
    expect(replies(out)).toEqual(['478 Unresolvable destination (478/TM) [tm]']);
  });

  it('in the failure route returns -1 and the received reply is relayed', () => {
    let rc: unknown;
    const m = kam({
      ksr_request_route: () => { K().setdsturi('sip:10.0.0.11:5080'); K().tm.t_on_failure('ksr_failure'); K().tm.t_relay(); },
      ksr_failure: () => { K().setdsturi('sip:media.invalid'); rc = K().tm.t_relay(); },
    });
    const r = m.replyFromUpstream(m.request(invite(), TCP_CLIENT), 486);
    expect(rc).toBe(-1);
    expect(r.relays).toEqual([]);
    expect(r.forwarded?.code).toBe(486);
  });

  it('a stateless ACK returns -478; an unmatched CANCEL forwarded statelessly returns forward_request\'s 0', () => {
    const seen: unknown[] = [];
    const m = kam({ ksr_request_route: () => { seen.push(K().tm.t_relay()); } });
    const a = m.request(invite('sip:5000@media.invalid', { method: 'ACK', body: '', toTag: 't' }), TCP_CLIENT);
    const c = m.request(invite('sip:5000@10.0.0.11:5080', { method: 'CANCEL', body: '' }), TCP_CLIENT);
    expect(seen).toEqual([-478, 0]);
    expect(a.replies).toEqual([]);
    expect(c.relays.map((r) => r.method)).toEqual(['CANCEL']);
  });
});

describe('t_relay when the branch route drops the branch', () => {
  it('returns E_CFG (-6) and tm answers "500 I\'m terribly sorry, server error occurred (6/TM)" after the script', () => {
    let rc: unknown;
    const out = kam({
      ksr_request_route: () => { K().setdsturi('sip:10.0.0.11:5080'); K().tm.t_on_branch('ksr_branch'); rc = K().tm.t_relay(); },
      ksr_branch: () => K().x.drop(),
    }).request(invite(), TCP_CLIENT);
    expect(rc).toBe(-6);
    expect(out.relays).toEqual([]);
    expect(replies(out)).toEqual(["500 I'm terribly sorry, server error occurred (6/TM) [tm]"]);
  });
});

describe('dispatcher destinations given by host name', () => {
  const list = '1 sip:media.invalid:5080 16 0\n2 sip:10.0.0.20:5060 0 0\n';

  it('loads one with flag 16 (DS_NODNSARES_DST) unresolved: selectable, never matched by address, and t_relay to it fails', () => {
    const seen: unknown[] = [];
    const out = kam({
      ksr_request_route() {
        const k = K();
        seen.push(k.dispatcher.ds_is_from_list(1), k.dispatcher.ds_is_from_list_uri(1, 3, 'sip:media.invalid:5080'), k.dispatcher.ds_select_dst(1, 4));
        seen.push(k.tm.t_relay());
      },
    }, { dispatcherList: list }).request(invite(), MEDIA_UDP);
    expect(seen).toEqual([-1, -1, 1, -478]);
    expect(out.dstUri).toBe('sip:media.invalid:5080');
    expect(out.reply).toMatchObject({ code: 478, reason: 'Unresolvable destination (478/TM)' });
  });

  it('refuses one without flag 16, which Kamailio would resolve when loading the list (and skip, without DNS)', () => {
    expect(() => kam({}, { dispatcherList: '1 sip:media.invalid:5080 0 0\n' })).toThrow(/needs DNS when the list loads/);
  });
});
