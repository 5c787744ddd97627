/**
 * More than one node (README "More than one node"): two real Kamailio 5.6.3
 * nodes started from the same kamailio.cfg and bundle, told apart only by
 * their environment (ports, NODE_ID), share registrations over DMQ
 * (dmq + dmq_usrloc, on when DMQ_NOTIFICATION_ADDRESS is set). Loopback only.
 *
 * - node B starts knowing only node A's private socket; DMQ makes each know
 *   the other;
 * - a REGISTER taken by one node is in the other's location table;
 * - KDMQ on the public port is refused (403);
 * - a node started again (a new process, empty memory) gets every
 *   registration from the other in a full sync.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { projectBundle } from '../support/bundle.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { allocatePorts, releasePorts } from '../support/ports.ts';
import { SipClient, sendRequest } from '../support/sip-client.ts';

const DOMAIN = 'example.test';
const SUBSCRIBERS = [
  { user: 'alice', password: 'alice-secret' },
  { user: 'bob', password: 'bob-secret' },
];
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

async function startNode(name: string, nodeId: number, peer: string): Promise<KamailioInstance> {
  return startKamailio({
    name,
    bundle: projectBundle().path,
    tls: false,
    env: { SIP_DOMAIN: DOMAIN, NODE_ID: String(nodeId), DMQ_NOTIFICATION_ADDRESS: peer },
    subscribers: SUBSCRIBERS,
  });
}

const privateUri = (kam: KamailioInstance): string => `sip:127.0.0.1:${kam.ports.private}`;

/** Registers `user` over UDP at `kam`'s public port (401, then 200 with the digest). */
async function register(kam: KamailioInstance, user: string, password: string): Promise<number> {
  const c = await SipClient.open({ transport: 'udp', remoteAddress: kam.localIp, remotePort: kam.ports.sip, localAddress: '127.0.0.3' });
  try {
    const uri = `sip:${DOMAIN}`;
    const base = {
      method: 'REGISTER',
      uri,
      from: `<sip:${user}@${DOMAIN}>;tag=${user}-reg`,
      to: `<sip:${user}@${DOMAIN}>`,
      callId: `reg-${user}-${Date.now()}@127.0.0.3`,
      headers: [`Contact: <sip:${user}@127.0.0.3:${c.localPort}>`, 'Expires: 300'],
    };
    const challenge = (await c.request({ ...base, cseq: 1 })).pop()!;
    if (challenge.status !== 401) return challenge.status ?? 0;
    const nonce = /nonce="([^"]+)"/.exec(challenge.header('WWW-Authenticate') ?? '')?.[1] ?? '';
    const response = md5(`${md5(`${user}:${DOMAIN}:${password}`)}:${nonce}:${md5(`REGISTER:${uri}`)}`);
    const authorization =
      `Authorization: Digest username="${user}", realm="${DOMAIN}", nonce="${nonce}", ` +
      `uri="${uri}", response="${response}", algorithm=MD5`;
    return (await c.request({ ...base, cseq: 2, headers: [...base.headers, authorization] })).pop()!.status ?? 0;
  } finally {
    c.close();
  }
}

/** Polls `probe` every 100 ms until it is true; the elapsed ms, or a failure after `ms`. */
async function eventually(what: string, probe: () => Promise<boolean>, ms = 8000): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const knows = (kam: KamailioInstance, other: KamailioInstance) => async (): Promise<boolean> =>
  (await kam.rpc('dmq.list_nodes')).includes(`port: ${other.ports.private}`);

const hasContact = (kam: KamailioInstance, user: string) => async (): Promise<boolean> => {
  try {
    return (await kam.rpc('ul.lookup', 'location', user)).includes(`sip:${user}@127.0.0.3:`);
  } catch {
    return false; // "AOR not found"
  }
};

describe('two nodes sharing registrations over DMQ', () => {
  let a: KamailioInstance | undefined;
  let b: KamailioInstance | undefined;
  let deadPort: number[] = [];
  let failed = false;

  beforeAll(async () => {
    projectBundle();
    // Node A's one peer is not up yet (nothing listens there): it learns
    // node B when B announces itself.
    deadPort = await allocatePorts(1);
    a = await startNode('dmq-node-a', 1, `sip:127.0.0.1:${deadPort[0]}`);
    b = await startNode('dmq-node-b', 2, privateUri(a));
  });
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    await a?.stop({ failed });
    await b?.stop({ failed });
    releasePorts(deadPort);
  });

  it('each node learns the other from one notification address', async () => {
    await eventually('node A lists node B', knows(a!, b!));
    await eventually('node B lists node A', knows(b!, a!));
    expect(await hasContact(b!, 'carol')()).toBe(false);
  });

  it('a registration on either node is in the other node’s location table', async () => {
    expect(await register(a!, 'alice', 'alice-secret')).toBe(200);
    expect(await register(b!, 'bob', 'bob-secret')).toBe(200);
    const aliceOnB = await eventually('alice replicated to node B', hasContact(b!, 'alice'));
    const bobOnA = await eventually('bob replicated to node A', hasContact(a!, 'bob'));
    console.log(`dmq replication: alice on B after ${aliceOnB} ms, bob on A after ${bobOnA} ms`);
  });

  it('refuses KDMQ on the public port with 403: nobody outside injects a contact', async () => {
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      action: 1, aor: 'mallory', ruid: 'forged-1', c: 'sip:mallory@203.0.113.66:5060', callid: 'forged@203.0.113.66',
      user_agent: 'x', instance: '', expires: now + 300, cseq: 1, flags: 0, cflags: 0, q: -1, last_modified: now,
      methods: 4294967295, reg_id: 0, server_id: 0,
    });
    const reply = await sendRequest(
      { transport: 'udp', remoteAddress: a!.localIp, remotePort: a!.ports.sip, localAddress: '127.0.0.3' },
      { method: 'KDMQ', uri: `sip:usrloc@127.0.0.1:${a!.ports.sip}`, body, contentType: 'application/json' },
    );
    // 403 Forbidden from src/routing/dmq.ts (without it: a challenge, 407).
    expect(`${reply.status} ${reply.reason}`).toBe('403 Forbidden');
    expect(await hasContact(a!, 'mallory')()).toBe(false);
  });

  it('a node started again gets every registration from the other (full sync)', async () => {
    await a!.stop();
    a = await startNode('dmq-node-a2', 1, privateUri(b!));
    const ms = await eventually('node A (new) has alice and bob', async () => (await hasContact(a!, 'alice')()) && (await hasContact(a!, 'bob')()));
    console.log(`dmq full sync: node A restarted had both registrations after ${ms} ms`);
  });
});
