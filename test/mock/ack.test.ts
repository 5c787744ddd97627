/**
 * ACK, CANCEL and PRACK as Kamailio 5.6.3 treats them outside tm: sl never
 * answers an ACK (sl_funcs.c sl_reply_helper), and auth lets ACK, CANCEL and
 * PRACK through without credentials and without auth_check's identity check
 * (auth/api.c pre_auth, auth_db/authorize.c ki_auth_check needs the header).
 */
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { K, UDP_CLIENT, kam } from './helpers.ts';

const REALM = 'sip.example.com';
const request = (method: string) =>
  sipRequest({ method, ruri: `sip:bob@${REALM}`, from: `<sip:alice@${REALM}>`, source: '203.0.113.10:5060' });

describe('sl never answers an ACK', () => {
  it('sl_send_reply and a stateless send_reply return -1 and send nothing; sl_reply_error returns 1 and sends nothing', () => {
    const codes: unknown[] = [];
    const out = kam({
      ksr_request_route() {
        const k = K();
        codes.push(k.sl.sl_send_reply(403, 'Forbidden'), k.sl.send_reply(404, 'Not Found'), k.sl.sl_reply_error());
      },
    }).request(request('ACK'), UDP_CLIENT);
    expect(codes).toEqual([-1, -1, 1]);
    expect(out.replies).toEqual([]);
  });

  it('still answers the same calls for any other method', () => {
    const out = kam({ ksr_request_route: () => { K().sl.sl_send_reply(403, 'Forbidden'); } }).request(request('BYE'), UDP_CLIENT);
    expect(out.reply?.code).toBe(403);
  });

  it('auth_challenge on an ACK sends no 407 and returns -3 (auth_send_reply failed)', () => {
    let rc: unknown;
    const out = kam({ ksr_request_route: () => { rc = K().auth.auth_challenge(REALM, 0); } }).request(request('ACK'), UDP_CLIENT);
    expect(rc).toBe(-3);
    expect(out.replies).toEqual([]);
  });
});

describe('auth_check lets ACK, CANCEL and PRACK through', () => {
  it.each(['ACK', 'CANCEL', 'PRACK'])('%s without credentials is authenticated, identity check (flag 1) included', (method) => {
    let rc: unknown;
    kam({ ksr_request_route: () => { rc = K().auth_db.auth_check(REALM, 'subscriber', 1); } }, { subscribers: [{ user: 'alice', password: 'x' }] }).request(
      request(method),
      UDP_CLIENT,
    );
    expect(rc).toBe(1);
  });

  it('challenges any other method without credentials (-5)', () => {
    let rc: unknown;
    kam({ ksr_request_route: () => { rc = K().auth_db.auth_check(REALM, 'subscriber', 1); } }).request(request('INVITE'), UDP_CLIENT);
    expect(rc).toBe(-5);
  });
});
