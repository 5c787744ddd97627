/**
 * The mock's rtpengine module (rtpengine.c 5.6.3) and its daemon state,
 * and the stray-reply path of core (reply route, then forward_reply).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sipReply, sipRequest, SipMessage, type RtpengineState } from '../../mocks/index.ts';
import { kamailioParsesSdp } from '../../mocks/modules/rtpengine.ts';
import { FIXTURE_CFG, K, MEDIA_UDP, UDP_CLIENT, kam } from './helpers.ts';

const SDP = ['v=0', 'o=- 1 1 IN IP4 203.0.113.10', 's=-', 'c=IN IP4 203.0.113.10', 't=0 0', 'm=audio 40000 RTP/AVP 0', ''].join('\r\n');

/** The fixture cfg with the rtpengine modparams of the project's kamailio.cfg. */
function cfgWithInstancePv(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mock-rtpengine-'));
  const path = join(dir, 'kamailio.cfg');
  writeFileSync(
    path,
    readFileSync(FIXTURE_CFG, 'utf8').replace(/dispatcher\.list/g, join(FIXTURE_CFG, '..', 'dispatcher.list')) +
      '\nmodparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:2223")\nmodparam("rtpengine", "rtp_inst_pvar", "$avp(rtpengine_node)")\n',
  );
  return path;
}

/** Runs `fn` in the request route of `message` with rtpengine in `state`; returns its result and what $avp(rtpengine_node) holds after. */
function manage(state: RtpengineState, message: string, fn: () => number): { result: number; node: unknown } {
  let seen = { result: 0, node: undefined as unknown };
  const m = kam(
    {
      ksr_request_route: () => {
        seen = { result: fn(), node: K().pv.get('$avp(rtpengine_node)') };
      },
    },
    { cfgPath: cfgWithInstancePv() },
  );
  m.rtpengine.setState(state);
  const out = m.request(message, UDP_CLIENT);
  if (out.end === 'error') throw out.error;
  return seen;
}

const invite = (body: string, method = 'INVITE'): string =>
  sipRequest({ method, ruri: 'sip:5000@198.51.100.7', source: '203.0.113.10:5060', body });

describe('rtpengine_manage', () => {
  it('offers an INVITE with SDP, deletes on BYE and CANCEL, and sets rtp_inst_pvar to the node that answered', () => {
    expect(manage('up', invite(SDP), () => K().rtpengine.rtpengine_manage('trust-address'))).toEqual({ result: 1, node: 'udp:127.0.0.1:2223' });
    expect(manage('up', invite('', 'BYE'), () => K().rtpengine.rtpengine_manage('')).result).toBe(1);
    expect(manage('up', invite('', 'CANCEL'), () => K().rtpengine.rtpengine_manage('')).result).toBe(1);
  });

  it('returns -1 without asking rtpengine for a method it does not handle, or an INVITE without SDP', () => {
    expect(manage('up', invite(SDP, 'MESSAGE'), () => K().rtpengine.rtpengine_manage(''))).toEqual({ result: -1, node: null });
    expect(manage('up', invite(''), () => K().rtpengine.rtpengine_manage(''))).toEqual({ result: -1, node: null });
  });

  it('parses the SDP itself first, as core parse_sdp does: no v=, o=, m= or c= means -1 and no rtpengine asked', () => {
    for (const broken of ['garbage\r\n', SDP.replace('v=0\r\n', ''), SDP.replace(/^o=.*\r\n/m, ''), SDP.replace(/^m=.*\r\n/m, ''), SDP.replace(/^c=.*\r\n/m, '')]) {
      expect(kamailioParsesSdp(broken), broken).toBe(false);
      expect(manage('up', invite(broken), () => K().rtpengine.rtpengine_manage('')), broken).toEqual({ result: -1, node: null });
    }
    expect(kamailioParsesSdp(SDP)).toBe(true);
    // A c= per media section is enough.
    expect(kamailioParsesSdp(SDP.replace(/^c=.*\r\n/m, '').replace(/^(m=.*)$/m, '$1\r\nc=IN IP4 203.0.113.10'))).toBe(true);
  });

  it('fails every command while rtpengine is down, leaving rtp_inst_pvar unset', () => {
    expect(manage('down', invite(SDP), () => K().rtpengine.rtpengine_manage(''))).toEqual({ result: -1, node: null });
    expect(manage('down', invite('', 'BYE'), () => K().rtpengine.rtpengine_manage('')).result).toBe(-1);
    expect(manage('down', invite(SDP), () => K().rtpengine.rtpengine_query0())).toEqual({ result: -1, node: null });
  });

  it('fails offers and answers rtpengine refuses, with rtp_inst_pvar set: a node did answer', () => {
    expect(manage('refusing', invite(SDP), () => K().rtpengine.rtpengine_manage(''))).toEqual({ result: -1, node: 'udp:127.0.0.1:2223' });
    expect(manage('refusing', invite('', 'BYE'), () => K().rtpengine.rtpengine_delete0()).result).toBe(1);
  });

  it('answers a query whenever rtpengine is reachable, setting rtp_inst_pvar (how a caller learns it is)', () => {
    expect(manage('up', invite('garbage\r\n'), () => K().rtpengine.rtpengine_query0())).toEqual({ result: 1, node: 'udp:127.0.0.1:2223' });
  });

  it('sends the body as it is with rtpengine_offer: rtpengine\'s own parser refuses what is no SDP', () => {
    expect(manage('up', invite('garbage\r\n'), () => K().rtpengine.rtpengine_offer(''))).toEqual({ result: -1, node: 'udp:127.0.0.1:2223' });
    expect(manage('up', invite(''), () => K().rtpengine.rtpengine_offer0()).result).toBe(-1);
  });

  it('answers an SDP reply in the onreply route and deletes on a negative one', () => {
    const results: number[] = [];
    const m = kam({
      ksr_request_route: () => {
        K().tm.t_on_reply('ksr_onreply');
        K().rtpengine.rtpengine_manage('');
        K().tm.t_relay();
      },
      ksr_onreply: () => {
        results.push(K().rtpengine.rtpengine_manage(''));
      },
    });
    const out = m.request(invite(SDP).replace('sip:5000@198.51.100.7', 'sip:5000@10.0.0.11:5080'), UDP_CLIENT);
    m.replyFromUpstream(out, sipReply(out.relay!.message, 200, { body: SDP }));
    const second = m.request(invite(SDP).replace('sip:5000@198.51.100.7', 'sip:5000@10.0.0.11:5080').replace(/branch=[^;\r]+/, 'branch=z9hG4bKother'), UDP_CLIENT);
    m.replyFromUpstream(second, 486);
    expect(results).toEqual([1, 1]);
    expect(out.rtpengine.map((c) => c.method)).toEqual(['INVITE']);
  });
});

describe('a reply that matches no transaction', () => {
  const stray = (firstVia: string): SipMessage =>
    SipMessage.parse(
      [
        'SIP/2.0 200 OK',
        `Via: ${firstVia}`,
        'Via: SIP/2.0/UDP 10.0.0.11:5080;branch=z9hG4bK-ms;rport=5099;received=10.0.0.11',
        'From: <sip:a@example.com>;tag=1',
        'To: <sip:b@example.com>;tag=2',
        'Call-ID: stray-1',
        'CSeq: 1 INVITE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );

  it('is forwarded statelessly to its next Via when the reply route lets it through (core forward_reply)', () => {
    let check = 0;
    const m = kam({ ksr_reply_route: () => { check = K().tm.t_check_trans(); } });
    const out = m.strayReply(stray('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-x'), UDP_CLIENT);
    expect(check).toBe(-1);
    expect(out.dropped).toBe(false);
    expect(out.forwarded?.destination).toEqual({ host: '10.0.0.11', port: 5099, proto: 'udp' });
    expect(out.forwarded?.message.all('Via').map((h) => h.value)).toEqual(['SIP/2.0/UDP 10.0.0.11:5080;branch=z9hG4bK-ms;rport=5099;received=10.0.0.11']);
  });

  it('is dropped by core when its first Via is not this proxy, and by a reply route that drops it', () => {
    expect(kam({}).strayReply(stray('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-x'), UDP_CLIENT)).toMatchObject({ dropped: false, forwarded: undefined });
    const dropping = kam({ ksr_reply_route: () => K().x.drop() });
    expect(dropping.strayReply(stray('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-x'), MEDIA_UDP)).toMatchObject({ end: 'drop', dropped: true, forwarded: undefined });
  });

  it('has a transaction in the reply route when it matches one (t_check_trans 1)', () => {
    let check = 0;
    const m = kam({
      ksr_request_route: () => {
        K().tm.t_relay();
      },
      ksr_reply_route: () => {
        check = K().tm.t_check_trans();
      },
    });
    const out = m.request(invite(SDP).replace('sip:5000@198.51.100.7', 'sip:5000@10.0.0.11:5080'), UDP_CLIENT);
    m.replyFromUpstream(out, 180);
    expect(check).toBe(1);
  });
});

describe('sanity and maxfwd details the routing relies on', () => {
  const options = (extra: Array<[string, string]>, maxForwards?: number): string =>
    sipRequest({ method: 'OPTIONS', ruri: 'sip:198.51.100.7:5060', source: '203.0.113.10:5060', headers: extra, ...(maxForwards !== undefined ? { maxForwards } : {}) });

  it('sanity 512 answers a Proxy-Require extension with 420 and Unsupported (no proxy_require modparam: none supported)', () => {
    const m = kam({ ksr_request_route: () => { K().sanity.sanity_check(512, 7); } });
    const out = m.request(options([['Proxy-Require', 'foo, bar']]), UDP_CLIENT);
    expect(out.reply).toMatchObject({ code: 420, reason: 'Bad Proxy Require Extension', headers: [{ name: 'Unsupported', value: 'foo' }] });
    expect(m.request(options([]), UDP_CLIENT).reply).toBeUndefined();
  });

  it('process_maxfwd reads the value as str2s does: -2 for a non-digit or 6 digits, 0 (-1) for empty or 65536, 1 for one it caps', () => {
    const results: number[] = [];
    const m = kam({ ksr_request_route: () => { results.push(K().maxfwd.process_maxfwd(10)); } });
    for (const value of ['123456', '-1', '', '65536', '65535']) m.request(options([]).replace('Max-Forwards: 70', `Max-Forwards: ${value}`), UDP_CLIENT);
    expect(results).toEqual([-2, -2, -1, -1, 1]);
  });
});
