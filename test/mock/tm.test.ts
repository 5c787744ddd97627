/** Relaying, sockets, Record-Route and transaction follow-ups. */
import { describe, expect, it } from 'vitest';
import { SipMessage, sipRequest } from '../../mocks/index.ts';
import { K, MEDIA_UDP, TCP_CLIENT, UDP_CLIENT, kam } from './helpers.ts';

/** A cut-down version of the article's routing, enough to drive tm. */
function routing(log: string[] = []) {
  return {
    ksr_request_route() {
      const k = K();
      if (k.is_CANCEL()) {
        if (k.tm.t_check_trans() > 0) k.tm.t_relay();
        k.x.exit();
      }
      const t = k.tm.t_check_trans();
      log.push(`t_check_trans=${t}`);
      if (t === 0) k.x.exit();
      if (k.is_ACK()) k.x.exit();
      k.rr.record_route();
      if (k.dispatcher.ds_select_dst(1, 8) < 0) {
        k.sl.sl_send_reply(503, 'No media server');
        k.x.exit();
      }
      k.rtpengine.rtpengine_manage('ICE=remove replace-origin UDP/RTP external internal');
      k.tm.t_on_failure('ksr_failure_manage');
      k.tm.t_on_reply('ksr_onreply_manage');
      k.tm.t_relay();
      k.x.exit();
    },
    ksr_onreply_manage() {
      log.push(`onreply ${String(K().pv.get('$rs'))}`);
    },
    ksr_failure_manage() {
      const k = K();
      log.push(`failure ${k.tm.t_get_status_code()} ${String(k.pv.get('$T_reply_code'))} replied=${k.tm.t_branch_replied()}`);
      if (k.tm.t_is_canceled() > 0) k.x.exit();
      if (k.dispatcher.ds_next_dst() > 0) {
        k.tm.t_on_failure('ksr_failure_manage');
        k.tm.t_relay();
      }
    },
  };
}

const invite = (over: Partial<Parameters<typeof sipRequest>[0]> = {}) =>
  sipRequest({ method: 'INVITE', ruri: 'sip:5000@198.51.100.7', source: '203.0.113.10:40123', proto: 'tcp', branch: 'z9hG4bKinv1', callId: 'inv-1', fromTag: 'ft1', body: 'v=0\r\n', ...over });

describe('t_relay', () => {
  it('INVITE from a subscriber over TCP leaves on the private TCP socket with external->internal rtpengine flags', () => {
    const m = kam(routing());
    m.dispatcher.setState('sip:10.0.0.11:5080', 'inactive');
    const out = m.request(invite(), TCP_CLIENT);
    expect(out.end).toBe('exit');
    expect(out.relay?.socket.name).toBe('private_tcp_socket');
    expect(out.relay?.destination).toEqual({ proto: 'tcp', host: '10.0.0.12', port: 5090 });
    const sent = out.relay!.message;
    expect(sent.headers[0]).toEqual({ name: 'Via', value: expect.stringMatching(/^SIP\/2.0\/TCP 10.0.0.5:5070;branch=z9hG4bK/) });
    expect(sent.all('Record-Route').map((h) => h.value)).toEqual([
      expect.stringMatching(/^<sip:10.0.0.5:5070;transport=tcp;r2=on;lr;ftag=\w+>$/),
      expect.stringMatching(/^<sip:198.51.100.7:5060;transport=tcp;r2=on;lr;ftag=\w+>$/),
    ]);
    expect(sent.all('Via')[1]?.value).toContain('received=203.0.113.10;rport=40123');
    expect(out.rtpengine).toEqual([
      { fn: 'rtpengine_manage', flags: 'ICE=remove replace-origin UDP/RTP external internal', route: 'request', method: 'INVITE', status: null },
    ]);
    expect(out.callbacks).toEqual({ failure: 'ksr_failure_manage', onreply: 'ksr_onreply_manage', branch: null });
  });

  it('uses a single Record-Route with the advertised address when in and out socket are the same', () => {
    const out = kam({
      ksr_request_route() {
        K().rr.record_route();
        K().tm.t_relay();
      },
    }).request(sipRequest({ method: 'MESSAGE', ruri: 'sip:bob@203.0.113.99:5060', body: 'hi', contentType: 'text/plain' }), UDP_CLIENT);
    expect(out.relay?.socket.name).toBe('public_socket');
    expect(out.relay?.message.all('Record-Route').map((h) => h.value)).toEqual([expect.stringMatching(/^<sip:198.51.100.7:5060;lr;ftag=\w+>$/)]);
    expect(out.relay?.message.get('Via')).toMatch(/^SIP\/2.0\/UDP 198.51.100.7:5060;branch=/);
  });

  it('swaps a forced UDP socket for the TCP socket on the same address and port (get_send_socket2)', () => {
    const out = kam({
      ksr_request_route() {
        K().corex.set_send_socket_name('public_socket');
        K().setdsturi('sip:203.0.113.10:40123;transport=tcp');
        K().tm.t_relay();
      },
    }).request(sipRequest({ method: 'BYE', ruri: 'sip:alice@203.0.113.10:40123;transport=tcp', toTag: 'tt' }), MEDIA_UDP);
    expect(out.relay?.socket.name).toBe('public_tcp_socket');
    expect(out.sendSocket).toBe('public_socket');
  });

  it('fails the test for an unknown socket name or address that Kamailio would only warn about', () => {
    const run = (fn: () => void) => kam({ ksr_request_route: fn }).request(invite(), TCP_CLIENT);
    const byName = run(() => K().corex.set_send_socket_name('privat_socket'));
    expect(byName.end).toBe('error');
    expect(String(byName.error)).toMatch(/no listen socket has that name/);
    expect(String(run(() => K().corex.set_send_socket('udp:10.9.9.9:5060')).error)).toMatch(/matches no listen socket/);
    expect(run(() => K().corex.set_send_socket('garbage')).end).toBe('return');
  });

  it('fails the test for a t_on_* name that the routing module does not export', () => {
    const out = kam({ ksr_request_route: () => K().tm.t_on_failure('ksr_failure_typo') }).request(invite(), TCP_CLIENT);
    expect(String(out.error)).toMatch(/"ksr_failure_typo" is not a function exported/);
  });

  it('t_reply without a transaction returns -1 and sends nothing; t_send_reply creates one', () => {
    const rcs: unknown[] = [];
    const out = kam({
      ksr_request_route() {
        rcs.push(K().tm.t_reply(404, 'Not Found'));
        rcs.push(K().tm.t_send_reply(404, 'Not Found'));
      },
    }).request(invite(), TCP_CLIENT);
    expect(rcs).toEqual([-1, 1]);
    expect(out.replies.map((r) => `${r.code} ${r.by}`)).toEqual(['404 tm']);
  });
});

describe('transaction follow-ups', () => {
  it('runs onreply for provisional and final replies and forwards them without our Via', () => {
    const log: string[] = [];
    const m = kam(routing(log));
    const out = m.request(invite(), TCP_CLIENT);
    const ringing = m.replyFromUpstream(out, 180);
    const ok = m.replyFromUpstream(out, 200);
    expect(log).toEqual(['t_check_trans=-1', 'onreply 180', 'onreply 200']);
    expect(ringing.forwarded?.code).toBe(180);
    expect(ok.forwarded?.message.all('Via').map((h) => h.value)).toEqual([expect.stringContaining('203.0.113.10:40123')]);
    expect(m.replyFromUpstream(out, 100).forwarded).toBeUndefined();
  });

  it('fails over to the next media server from the failure route and forwards 503 as 500 at the end', () => {
    const log: string[] = [];
    const m = kam(routing(log));
    const out = m.request(invite(), TCP_CLIENT);
    expect(out.relay?.destination.host).toBe('10.0.0.11');
    const first = m.replyFromUpstream(out, 503);
    expect(first.relays.map((r) => `${r.route} ${r.destination.host} ${r.socket.name}`)).toEqual(['failure 10.0.0.12 private_tcp_socket']);
    expect(first.forwarded).toBeUndefined();
    const second = m.replyFromUpstream(out, 503);
    expect(second.relays).toEqual([]);
    expect(second.forwarded).toMatchObject({ code: 500, reason: 'Service Unavailable' });
    expect(log).toEqual(['t_check_trans=-1', 'onreply 503', 'failure 503 503 replied=1', 'onreply 503', 'failure 503 503 replied=1']);
  });

  it('reports a timeout as 408 in the failure route and to the caller when nothing else is tried', () => {
    const log: string[] = [];
    const m = kam(routing(log));
    m.dispatcher.setState('sip:10.0.0.12:5090;transport=tcp', 'disabled');
    const out = m.request(invite(), TCP_CLIENT);
    const t = m.timeout(out);
    expect(log).toContain('failure 408 408 replied=-1');
    expect(t.forwarded).toMatchObject({ code: 408, reason: 'Request Timeout' });
  });

  it('t_branch_replied: a branch that got a 100 Trying before its timeout has replied; -1 outside a failure route', () => {
    const log: string[] = [];
    const m = kam(routing(log));
    m.dispatcher.setState('sip:10.0.0.12:5090;transport=tcp', 'disabled');
    const out = m.request(invite(), TCP_CLIENT);
    m.replyFromUpstream(out, 100);
    m.timeout(out);
    expect(log).toContain('failure 408 408 replied=1');
    let outside = 0;
    kam({ ksr_request_route: () => { outside = K().tm.t_branch_replied(); } }).request(invite(), TCP_CLIENT);
    expect(outside).toBe(-1);
  });

  it('absorbs a retransmission: t_check_trans returns 0 and the script stops', () => {
    const log: string[] = [];
    const m = kam(routing(log));
    m.request(invite(), TCP_CLIENT);
    const again = m.request(invite(), TCP_CLIENT);
    expect(log).toEqual(['t_check_trans=-1', 't_check_trans=0']);
    expect(again.relays).toEqual([]);
  });

  it('matches a CANCEL to the INVITE, answers 200 and cancels the pending branch', () => {
    const m = kam(routing());
    const out = m.request(invite(), TCP_CLIENT);
    const cancel = m.request(invite({ method: 'CANCEL', body: '' }), TCP_CLIENT);
    expect(cancel.reply).toMatchObject({ code: 200, reason: 'canceling' });
    expect(cancel.relays.map((r) => `${r.method} ${r.destination.host}`)).toEqual(['CANCEL 10.0.0.11']);
    const terminated = m.replyFromUpstream(out, 487);
    expect(terminated.forwarded?.code).toBe(487);
  });

  it('a CANCEL for an unknown transaction gets t_check_trans -1', () => {
    let rc: unknown;
    kam({ ksr_request_route: () => { rc = K().tm.t_check_trans(); } }).request(invite({ method: 'CANCEL', body: '' }), TCP_CLIENT);
    expect(rc).toBe(-1);
  });

  it('absorbs the hop-by-hop ACK to a negative reply (t_check_trans 0) but not an ACK to 2xx (-1)', () => {
    const seen: unknown[] = [];
    const r = routing();
    const m = kam({ ...r, ksr_request_route() {
      if (K().is_ACK()) {
        seen.push(K().tm.t_check_trans());
        K().x.exit();
      }
      r.ksr_request_route();
    } });
    m.dispatcher.setState('sip:10.0.0.12:5090;transport=tcp', 'disabled');
    const out = m.request(invite(), TCP_CLIENT);
    m.replyFromUpstream(out, 486);
    m.request(invite({ method: 'ACK', body: '' }), TCP_CLIENT);
    m.request(invite({ method: 'ACK', body: '', branch: 'z9hG4bKnew', toTag: 'x' }), TCP_CLIENT);
    expect(seen).toEqual([0, -1]);
  });

  it('sends a reply out with the lumps added in ksr_reply_route and the onreply route', () => {
    const m = kam({
      ...routing(),
      ksr_reply_route: () => K().hdr.append('X-Core: 1\r\n'),
      ksr_onreply_manage: () => K().nathelper.set_contact_alias(),
    });
    const out = m.request(invite(), TCP_CLIENT);
    const r = m.replyFromUpstream(out, 200, { headers: [['Contact', '<sip:bob@192.168.5.5:5060>']] });
    expect(r.forwarded?.message.get('Contact')).toBe('<sip:bob@192.168.5.5:5060;alias=10.0.0.11~5080~1>');
    expect(r.forwarded?.message.get('X-Core')).toBe('1');
  });

  it('drops a reply in ksr_reply_route with KSR.x.drop()', () => {
    const m = kam({ ...routing(), ksr_reply_route: () => K().x.drop() });
    const out = m.request(invite(), TCP_CLIENT);
    const r = m.replyFromUpstream(out, 180);
    expect(r.dropped).toBe(true);
    expect(r.forwarded).toBeUndefined();
  });

  it('accepts a raw reply text from upstream', () => {
    const m = kam(routing());
    const out = m.request(invite(), TCP_CLIENT);
    const sent = out.relay!.message;
    const raw = SipMessage.parse(`SIP/2.0 486 Busy Here\r\n${sent.headers.filter((h) => /^(Via|From|To|Call-ID|CSeq)$/.test(h.name)).map((h) => `${h.name}: ${h.value}`).join('\r\n')}\r\n\r\n`);
    expect(m.replyFromUpstream(out, raw.toString()).relays.map((r) => r.destination.host)).toEqual(['10.0.0.12']);
  });
});
