/**
 * src/routing/message.ts: what every route block asks about the request is
 * read from Kamailio once, first thing in ksr_request_route.
 */
import { describe, expect, it } from 'vitest';
import { createKamailio, sipRequest } from '../../mocks/index.ts';
import { readRequest, receivedOnPrivatePort, receivedOnPrivateSocket, receivedSocket, requestMethod } from '../../src/routing/message';
import { DISPATCHER_LIST, ENV, FROM_CLIENT_UDP, SUBSCRIBERS } from './scenario.ts';

function observe(method: string, transport: { proto: 'udp'; source: string; socket: string }) {
  let seen: unknown[] = [];
  const kam = createKamailio({
    routing: {
      ksr_request_route: () => {
        readRequest();
        seen = [requestMethod, receivedSocket(), receivedOnPrivatePort, receivedOnPrivateSocket()];
      },
    },
    env: ENV,
    dispatcherList: DISPATCHER_LIST,
    subscribers: SUBSCRIBERS,
  });
  kam.request(sipRequest({ method, ruri: 'sip:100@198.51.100.10' }), transport);
  return seen;
}

describe('the request facts read once per request', () => {
  it('has the method in upper case (Kamailio matches method names regardless of case) and the receiving socket', () => {
    expect(observe('invite', FROM_CLIENT_UDP)).toEqual(['INVITE', 'public_socket', false, false]);
  });

  it('takes the usual spelling of a method as it is, and an unknown method as received', () => {
    expect(observe('MESSAGE', FROM_CLIENT_UDP)[0]).toBe('MESSAGE');
    expect(observe('FOOBAR', FROM_CLIENT_UDP)[0]).toBe('FOOBAR');
    expect(observe('Register', FROM_CLIENT_UDP)[0]).toBe('REGISTER');
  });

  it('knows the private port', () => {
    expect(observe('BYE', { ...FROM_CLIENT_UDP, socket: 'private_socket' })).toEqual(['BYE', 'private_socket', true, true]);
  });
});
