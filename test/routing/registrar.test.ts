import { describe, expect, it } from 'vitest';
import { BRANCH_FLAG } from '../../src/routing/config';
import { CLIENT, DOMAIN, FROM_CLIENT_TCP, FROM_CLIENT_UDP, clientRequest, newKamailio } from './scenario.ts';

const REGISTER = { method: 'REGISTER', ruri: `sip:${DOMAIN}`, to: `<sip:alice@${DOMAIN}>`, headers: [['Expires', '600']] as Array<[string, string]> };

describe('REGISTRAR', () => {
  it('challenges a REGISTER without credentials with 401 and saves nothing', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, REGISTER), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(401);
    expect(out.reply?.headers.map((h) => h.name)).toContain('WWW-Authenticate');
    expect(out.registrations).toEqual([]);
  });

  it('challenges again when the password is wrong', () => {
    const kam = newKamailio();
    const wrong = clientRequest(kam, REGISTER, 'alice').replace(/response="[0-9a-f]+"/, 'response="00000000000000000000000000000000"');
    expect(kam.request(wrong, FROM_CLIENT_UDP).reply?.code).toBe(401);
  });

  it('saves an authenticated REGISTER over UDP from behind NAT with the real source as received, and pings it', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, REGISTER, 'alice'), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(200);
    expect(out.registrations).toHaveLength(1);
    expect(out.registrations[0]).toMatchObject({ aor: 'alice', received: `sip:${CLIENT}:32000`, proto: 'udp' });
    expect(out.registrations[0]!.socket.name).toBe('public_socket');
    expect(out.bflags).toEqual([BRANCH_FLAG.natContact, BRANCH_FLAG.natSipPing]);
  });

  it('saves a REGISTER over TCP with the connection as received, even when the Contact looks public', () => {
    const kam = newKamailio();
    const request = clientRequest(kam, { ...REGISTER, contact: `<sip:alice@${CLIENT}:5060;transport=tcp>` }, 'alice');
    const out = kam.request(request, FROM_CLIENT_TCP);
    expect(out.reply?.code).toBe(200);
    expect(out.registrations[0]).toMatchObject({ received: `sip:${CLIENT}:41000;transport=tcp`, proto: 'tcp' });
    expect(out.registrations[0]!.socket.name).toBe('public_tcp_socket');
  });

  it('refuses a subscriber registering somebody else (auth user must be the To user)', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, { ...REGISTER, to: `<sip:bob@${DOMAIN}>` }, 'alice'), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(401);
    expect(out.registrations).toEqual([]);
  });

  it('answers an error instead of silence when registrar refuses the bindings (Contact: * without Expires: 0)', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, { ...REGISTER, contact: '*' }, 'alice'), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBeGreaterThanOrEqual(400);
    expect(out.registrations).toEqual([]);
  });

  it('refuses with 403 a REGISTER for a foreign domain', () => {
    const kam = newKamailio();
    const out = kam.request(clientRequest(kam, { ...REGISTER, ruri: 'sip:evil.example.net' }, 'alice'), FROM_CLIENT_UDP);
    expect(out.reply?.code).toBe(403);
  });
});
