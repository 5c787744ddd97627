/** registrar save/lookup on the in-memory location table. */
import { describe, expect, it } from 'vitest';
import { sipRequest } from '../../mocks/index.ts';
import { K, MEDIA_UDP, TCP_CLIENT, kam } from './helpers.ts';

function setup() {
  const codes: unknown[] = [];
  const m = kam({
    ksr_request_route() {
      const k = K();
      if (k.is_REGISTER()) {
        if (k.nathelper.nat_uac_test(19) > 0) k.nathelper.fix_nated_register();
        codes.push(k.registrar.save('location', 0));
        k.x.exit();
      }
      const rc = k.registrar.lookup('location');
      codes.push(rc);
      if (rc < 0) {
        k.sl.sl_send_reply(404, 'Not Found');
        k.x.exit();
      }
      k.tm.t_relay();
    },
  });
  return { m, codes };
}

const register = (contact: string, extra: Array<[string, string]> = []) =>
  sipRequest({ method: 'REGISTER', ruri: 'sip:198.51.100.7', from: '<sip:alice@198.51.100.7>', to: '<sip:alice@198.51.100.7>', contact, proto: 'tcp', source: '203.0.113.10:40123', headers: extra });

describe('registrar', () => {
  it('saves a binding from a REGISTER and answers 200 with the Contact and its expires', () => {
    const { m, codes } = setup();
    const out = m.request(register('<sip:alice@192.168.1.20:5060;transport=tcp>', [['Expires', '30']]), TCP_CLIENT);
    expect(codes).toEqual([1]);
    expect(out.reply?.code).toBe(200);
    expect(out.reply?.message.get('Contact')).toBe('<sip:alice@192.168.1.20:5060;transport=tcp>;expires=60;received="sip:203.0.113.10:40123;transport=tcp"');
    expect(out.registrations).toMatchObject([{ aor: 'alice', expires: 60, received: 'sip:203.0.113.10:40123;transport=tcp', proto: 'tcp' }]);
    expect(out.registrations[0]?.socket.name).toBe('public_tcp_socket');
  });

  it('looks the binding up: R-URI = contact, $du = received, send socket = the one it registered on', () => {
    const { m, codes } = setup();
    m.request(register('<sip:alice@192.168.1.20:5060;transport=tcp>'), TCP_CLIENT);
    const out = m.request(sipRequest({ method: 'INVITE', ruri: 'sip:alice@198.51.100.7' }), MEDIA_UDP);
    expect(codes).toEqual([1, 1]);
    expect(out.relay).toMatchObject({ ruri: 'sip:alice@192.168.1.20:5060;transport=tcp', dstUri: 'sip:203.0.113.10:40123;transport=tcp' });
    expect(out.relay?.socket.name).toBe('public_tcp_socket');
  });

  it('returns -1 for an unknown user and after the binding expired', () => {
    const { m, codes } = setup();
    m.request(sipRequest({ method: 'INVITE', ruri: 'sip:nobody@198.51.100.7' }), MEDIA_UDP);
    m.request(register('<sip:alice@192.168.1.20>', [['Expires', '120']]), TCP_CLIENT);
    m.clock.advance(121_000);
    m.request(sipRequest({ method: 'INVITE', ruri: 'sip:alice@198.51.100.7' }), MEDIA_UDP);
    expect(codes).toEqual([-1, 1, -1]);
  });

  it('returns -2 when method_filtering is on and the binding does not allow the method', () => {
    const { m, codes } = setup();
    m.request(register('<sip:alice@192.168.1.20>', [['Allow', 'INVITE, ACK, BYE']]), TCP_CLIENT);
    m.request(sipRequest({ method: 'MESSAGE', ruri: 'sip:alice@198.51.100.7', body: 'hi', contentType: 'text/plain' }), MEDIA_UDP);
    expect(codes).toEqual([1, -2]);
  });

  it('updates, then removes a binding with expires=0 (2 then 3), and caps expires at max_expires', () => {
    const { m, codes } = setup();
    m.request(register('<sip:alice@192.168.1.20>;expires=7200'), TCP_CLIENT);
    const upd = m.request(register('<sip:alice@192.168.1.20>'), TCP_CLIENT);
    m.request(register('<sip:alice@192.168.1.20>;expires=0'), TCP_CLIENT);
    expect(codes).toEqual([1, 2, 3]);
    expect(upd.registrations[0]?.expires).toBe(3600);
  });
});
