/**
 * src/routing/dmq.ts: KDMQ between the nodes sharing registrations (README
 * "More than one node"). On with DMQ_NOTIFICATION_ADDRESS (kamailio.cfg
 * WITH_DMQ), taken on the private port only.
 */
import { describe, expect, it } from 'vitest';
import * as routing from '../../src/main';
import { createKamailio, sipRequest } from '../../mocks/index.ts';
import { DISPATCHER_LIST, ENV, FROM_CLIENT_TCP, FROM_CLIENT_UDP, LOCAL_IP, SUBSCRIBERS, newKamailio } from './scenario.ts';

const PEER = '10.0.0.11';
const DMQ_ENV = { ...ENV, NODE_ID: '1', DMQ_SERVER_ADDRESS: `sip:${LOCAL_IP}:5070`, DMQ_NOTIFICATION_ADDRESS: `sip:${PEER}:5070` };
const FROM_PEER = { proto: 'udp', source: `${PEER}:5070`, socket: 'private_socket' } as const;

function node() {
  return createKamailio({ routing, env: DMQ_ENV, dispatcherList: DISPATCHER_LIST, subscribers: SUBSCRIBERS });
}

function kdmq(peer: string): string {
  return sipRequest({
    method: 'KDMQ',
    ruri: `sip:${peer}@${LOCAL_IP}:5070`,
    from: `<sip:${peer}@${PEER}:5070>`,
    to: `<sip:${peer}@${LOCAL_IP}:5070>`,
    body: '{"action":1}',
    headers: [['Content-Type', 'application/json']],
  });
}

describe('KDMQ from the other nodes', () => {
  it('goes to dmq on the private port: a known peer is answered 200 by its worker, nothing is relayed', () => {
    const out = node().request(kdmq('usrloc'), FROM_PEER);
    expect(out.end).toBe('exit');
    expect(out.relays).toHaveLength(0);
    expect(out.replies.map((r) => r.code)).toEqual([200]);
  });

  it('an unknown peer name gets 404 from dmq', () => {
    const out = node().request(kdmq('dialog'), FROM_PEER);
    expect(out.replies.map((r) => r.code)).toEqual([404]);
  });

  it('is refused with 403 on the public ports, where anyone could inject contacts', () => {
    for (const transport of [FROM_CLIENT_UDP, FROM_CLIENT_TCP]) {
      const out = node().request(kdmq('usrloc'), transport);
      expect(out.end).toBe('exit');
      expect(out.replies.map((r) => `${r.code} ${r.reason}`)).toEqual(['403 Forbidden']);
    }
  });

  it('without DMQ (one node) KDMQ is a method like any other: dmq is not asked', () => {
    const out = newKamailio().request(kdmq('usrloc'), FROM_PEER);
    expect(out.replies.map((r) => r.code)).not.toContain(200);
  });
});
