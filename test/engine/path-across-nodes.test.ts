/**
 * Calls to a subscriber go through the node that holds their connection
 * (README "More than one node"): two real Kamailio 5.6.3 nodes from the same
 * kamailio.cfg and bundle, sharing registrations over DMQ, each on its own
 * loopback address (LOCAL_IP 127.0.0.10 and 127.0.0.11, as two VMs have two
 * addresses: registrar's path_check_local tells them apart by host), one
 * rtpengine for both, one media server agent (dispatcher set 1 of both) and
 * the nodes as each other's trusted peers (set 2).
 *
 * - alice registers over TCP with node A and keeps the connection; the
 *   media server calls her through node B's private port: node B hands the
 *   call to node A, and alice gets it down her own connection (no
 *   connection is opened to her Contact); ACK and BYE reach both ends;
 * - the media server calls her through node A itself: no hand-over, no loop;
 * - bob registers over UDP with node B (his flow is pinned to node B, so node
 *   B's Path too); the media server calls him through node A, which hands
 *   the call to node B, which sends it to bob from its public socket; only
 *   node B keeps bob's NAT binding open (nathelper's keepalive, every 30 s);
 * - node A dies (SIGKILL) with bob registered over UDP and alice over TCP
 *   there: once node B's dispatcher probing marks A inactive (measured and
 *   printed), a call for bob sent to node B reaches him from node B's own
 *   public socket, and one for alice gets 480 (her connection died with A);
 *   in the window before probing notices, a call handed to A fails over the
 *   same way after fr_timer (node B's failure route marks A inactive).
 *
 * Run with the TypeScript bundle and with its native twin
 * (bench/native/routing.cfg, as `-A WITH_NATIVE_ROUTING` includes it).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { projectBundle } from '../support/bundle.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { allocatePorts, releasePorts } from '../support/ports.ts';
import { startRtpengine, type RtpengineInstance } from '../support/rtpengine.ts';
import { MediaServer, Phone, offerSdp, replyTo } from '../support/sip-agents.ts';
import { SipClient, newBranch, newTag, type SipMessage } from '../support/sip-client.ts';

const DOMAIN = 'example.test';
const ALICE = { user: 'alice', password: 'alice-secret' };
const BOB = { user: 'bob', password: 'bob-secret' };
const NODE_A_IP = '127.0.0.10';
const NODE_B_IP = '127.0.0.11';
const MEDIA_IP = '127.0.0.1';
const ALICE_IP = '127.0.0.3';
const BOB_IP = '127.0.0.4';
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** Polls `probe` every 100 ms until it is true; a failure after `ms`. */
async function eventually(what: string, probe: () => Promise<boolean>, ms = 8000): Promise<void> {
  const start = Date.now();
  while (!(await probe())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const contactsOf = async (kam: KamailioInstance, user: string): Promise<string> => {
  try {
    return await kam.rpc('ul.lookup', 'location', user);
  } catch {
    return ''; // "AOR not found"
  }
};

/** REGISTER over `client` (401, then 200 with the digest): the final status.
 * The R-URI names the port: native cfg's `uri == myself` takes a port-less
 * URI for port 5060, which is no alias of a test node. */
async function registerOver(client: SipClient, contact: string, port: number): Promise<number> {
  const uri = `sip:${DOMAIN}:${port}`;
  const base = {
    method: 'REGISTER',
    uri,
    from: `<sip:alice@${DOMAIN}>;tag=${newTag()}`,
    to: `<sip:alice@${DOMAIN}>`,
    callId: `reg-alice-${Date.now()}@${ALICE_IP}`,
    headers: [`Contact: <${contact}>`, 'Expires: 300'],
  };
  const challenge = (await client.request({ ...base, cseq: 1 })).pop()!;
  if (challenge.status !== 401) return challenge.status ?? 0;
  const nonce = /nonce="([^"]+)"/.exec(challenge.header('WWW-Authenticate') ?? '')?.[1] ?? '';
  const response = md5(`${md5(`alice:${DOMAIN}:${ALICE.password}`)}:${nonce}:${md5(`REGISTER:${uri}`)}`);
  const authorization = `Authorization: Digest username="alice", realm="${DOMAIN}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
  return (await client.request({ ...base, cseq: 2, headers: [...base.headers, authorization] })).pop()!.status ?? 0;
}

/** A request as the media server sends it (UDP, its own Via). */
function mediaRequest(media: MediaServer, method: string, ruri: string, d: { callId: string; from: string; to: string; cseq: number; routes?: string[]; body?: string }): string {
  const body = d.body ?? '';
  return [
    `${method} ${ruri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${media.ip}:${media.port};branch=${newBranch()};rport`,
    'Max-Forwards: 70',
    `From: ${d.from}`,
    `To: ${d.to}`,
    `Call-ID: ${d.callId}`,
    `CSeq: ${d.cseq} ${method}`,
    `Contact: <sip:ms@${media.ip}:${media.port}>`,
    ...(d.routes ?? []).map((r) => `Route: ${r}`),
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

describe.each(['typescript', 'native'] as const)('calls reach a subscriber through the node that holds their connection (%s routing)', (engine) => {
  let rtp: RtpengineInstance | undefined;
  let a: KamailioInstance | undefined;
  let b: KamailioInstance | undefined;
  let media: MediaServer | undefined;
  let alice: SipClient | undefined;
  let aliceListener: Server | undefined;
  let bob: Phone | undefined;
  let spare: number[] = [];
  let failed = false;
  let nativeDir: string | undefined;
  /** Connections opened to alice's Contact address (the proxy must open none). */
  let connectionsToAlice = 0;
  let aliceContactPort = 0;
  let bobRegisteredAt = 0;

  beforeAll(async () => {
    projectBundle();
    rtp = await startRtpengine({ name: `path-${engine}-rtpengine` });
    spare = [...(await allocatePorts(1, MEDIA_IP)), ...(await allocatePorts(1, NODE_B_IP)), ...(await allocatePorts(1, ALICE_IP))];
    const [mediaPort, deadPeerPort, alicePort] = spare as [number, number, number];
    media = await MediaServer.start(MEDIA_IP, mediaPort);
    const setOne = `1 sip:${MEDIA_IP}:${mediaPort} 0 0\n`;
    let cfgFile: string | undefined;
    if (engine === 'native') {
      // kamailio.cfg with WITH_NATIVE_ROUTING defined, as `-A WITH_NATIVE_ROUTING` does.
      nativeDir = mkdtempSync(join(tmpdir(), 'ksr-path-native-'));
      cfgFile = join(nativeDir, 'kamailio.cfg');
      writeFileSync(cfgFile, `#!define WITH_NATIVE_ROUTING\ninclude_file "${join(PROJECT_DIR, 'kamailio.cfg')}"\n`);
    }
    const node = (name: string, ip: string, id: number, peer: string): Promise<KamailioInstance> =>
      startKamailio({
        name,
        bundle: projectBundle().path,
        tls: false,
        rtpengineNg: rtp!.ng,
        dispatcherList: setOne,
        env: { LOCAL_IP: ip, SIP_DOMAIN: DOMAIN, NODE_ID: String(id), DMQ_NOTIFICATION_ADDRESS: peer },
        subscribers: [ALICE, BOB],
        ...(cfgFile === undefined ? {} : { cfgFile }),
      });
    a = await node(`path-${engine}-node-a`, NODE_A_IP, 1, `sip:${NODE_B_IP}:${deadPeerPort}`);
    b = await node(`path-${engine}-node-b`, NODE_B_IP, 2, `sip:${NODE_A_IP}:${a.ports.private}`);
    // Each node's trusted peers (set 2): both nodes' private sockets, as an
    // operator lists them once for every node.
    const peers = `2 sip:${NODE_A_IP}:${a.ports.private} 0 0\n2 sip:${NODE_B_IP}:${b.ports.private} 0 0\n`;
    for (const kam of [a, b]) {
      writeFileSync(join(kam.runDir, 'dispatcher.list'), setOne + peers);
      await kam.rpc('dispatcher.reload');
    }
    // alice's Contact names a port she listens on: any connection the
    // proxies opened to her would show up here.
    aliceContactPort = alicePort;
    aliceListener = createServer((socket) => {
      connectionsToAlice++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => aliceListener!.listen(alicePort, ALICE_IP, resolve));
    alice = await SipClient.open({ transport: 'tcp', remoteAddress: NODE_A_IP, remotePort: a.ports.sip, localAddress: ALICE_IP });
    bob = await Phone.open(BOB_IP);
  }, 60_000);
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    alice?.close();
    bob?.close();
    media?.close();
    await new Promise((r) => (aliceListener ? aliceListener.close(r) : r(undefined)));
    await a?.stop({ failed });
    await b?.stop({ failed });
    await rtp?.stop({ failed });
    releasePorts(spare);
    if (nativeDir !== undefined) rmSync(nativeDir, { recursive: true, force: true });
  });

  it('alice registers over TCP with node A: node B has her contact with node A’s Path', async () => {
    expect(await registerOver(alice!, `sip:alice@${ALICE_IP}:${aliceContactPort};transport=tcp`, a!.ports.sip)).toBe(200);
    const path = `sip:${NODE_A_IP}:${a!.ports.private};lr;received=sip:${ALICE_IP}:${alice!.localPort}%3Btransport%3Dtcp`;
    await eventually('alice replicated to node B with her Path', async () => (await contactsOf(b!, 'alice')).includes(path));
    const onA = await contactsOf(a!, 'alice');
    expect(onA).toContain(path);
    // NAT contact (6), but no SIP pings (7): nathelper would aim them at the Path's first entry.
    const cflags = Number(/CFlags: (\d+)/.exec(onA)?.[1]);
    expect([(cflags >> 6) & 1, (cflags >> 7) & 1]).toEqual([1, 0]);
  });

  it('a call for alice sent to node B reaches her over her own connection through node A, and ACK and BYE reach both ends', async () => {
    const callId = `across-${newTag()}@${MEDIA_IP}`;
    const from = `<sip:ms@${DOMAIN}>;tag=${newTag()}`;
    const to = `<sip:alice@${DOMAIN}>`;
    media!.send(mediaRequest(media!, 'INVITE', `sip:alice@${DOMAIN}`, { callId, from, to, cseq: 1, body: offerSdp(MEDIA_IP, 30000) }), b!.ports.private, NODE_B_IP);

    const invite = await alice!.waitFor((m) => m.method === 'INVITE' && m.header('call-id') === callId, 5000, 'the INVITE at alice');
    // Node A's Via on top (its public side), then node B's (private), then the media server's.
    const vias = invite.headerValues('Via');
    expect(vias).toHaveLength(3);
    expect(vias[0]).toContain(`127.0.0.2:${a!.ports.sip}`);
    expect(vias[1]).toContain(`${NODE_B_IP}:${b!.ports.private}`);
    // The Path entry was consumed by node A; only node A record-routed.
    expect(invite.header('Route')).toBeUndefined();
    const recordRoutes = invite.headerValues('Record-Route');
    expect(recordRoutes.join(',')).toContain(`${NODE_A_IP}:${a!.ports.private}`);
    expect(recordRoutes.join(',')).not.toContain(NODE_B_IP);
    // Node A's rtpengine anchored the offer (not the media server's address).
    expect(/^c=IN IP4 (\S+)/m.exec(invite.body)?.[1]).not.toBe(MEDIA_IP);

    alice!.send(replyTo(invite, 200, 'OK', [`Contact: <sip:alice@${ALICE_IP}:${aliceContactPort};transport=tcp>`], offerSdp(ALICE_IP, 40000)));
    const ok = await media!.wait((m) => m.status === 200 && m.header('call-id') === callId, 5000);
    expect(ok, 'the 200 at the media server').not.toBeNull();
    // The route set leads the media server to node A, not B.
    const routeSet = ok!.headerValues('Record-Route').slice().reverse();
    expect(routeSet[0]).toContain(`${NODE_A_IP}:${a!.ports.private}`);

    const target = /<([^>]+)>/.exec(ok!.header('contact') ?? '')![1]!;
    const dialog = { callId, from, to: ok!.header('to')!, routes: routeSet };
    media!.send(mediaRequest(media!, 'ACK', target, { ...dialog, cseq: 1 }), a!.ports.private, NODE_A_IP);
    await alice!.waitFor((m) => m.method === 'ACK' && m.header('call-id') === callId, 5000, 'the ACK at alice');

    // alice hangs up along her route set (the Record-Route as received).
    const bye = alice!.buildRequest({
      method: 'BYE',
      uri: `sip:ms@${MEDIA_IP}:${media!.port}`,
      callId,
      from: ok!.header('to')!,
      to: from,
      cseq: 1,
      headers: recordRoutes.map((r) => `Route: ${r}`),
    });
    alice!.send(bye.raw);
    expect(await media!.wait((m) => m.method === 'BYE' && m.header('call-id') === callId, 5000), 'the BYE at the media server').not.toBeNull();
    const byeOk = await alice!.waitFor((m) => m.status === 200 && (m.header('cseq') ?? '').includes('BYE') && m.header('call-id') === callId, 5000, '200 to the BYE');
    expect(byeOk.status).toBe(200);
    expect(connectionsToAlice).toBe(0);
  });

  it('a call for alice cancelled by the media server at node B is cancelled at alice through node A', async () => {
    const callId = `cancel-${newTag()}@${MEDIA_IP}`;
    const from = `<sip:ms@${DOMAIN}>;tag=${newTag()}`;
    const to = `<sip:alice@${DOMAIN}>`;
    const invite = mediaRequest(media!, 'INVITE', `sip:alice@${DOMAIN}`, { callId, from, to, cseq: 1, body: offerSdp(MEDIA_IP, 30006) });
    media!.send(invite, b!.ports.private, NODE_B_IP);
    const atAlice = await alice!.waitFor((m) => m.method === 'INVITE' && m.header('call-id') === callId, 5000, 'the INVITE at alice');
    alice!.send(replyTo(atAlice, 180, 'Ringing'));
    expect(await media!.wait((m) => m.status === 180 && m.header('call-id') === callId, 5000), 'the 180 at the media server').not.toBeNull();
    // CANCEL: the INVITE's Via branch, to node B, which has the transaction.
    const cancel = invite.replace(/^INVITE /, 'CANCEL ').replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL').replace(/Content-Type: application\/sdp\r\n/, '').replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, 'Content-Length: 0\r\n\r\n');
    media!.send(cancel, b!.ports.private, NODE_B_IP);
    const cancelAtAlice = await alice!.waitFor((m) => m.method === 'CANCEL' && m.header('call-id') === callId, 5000, 'the CANCEL at alice');
    alice!.send(replyTo(cancelAtAlice, 200, 'OK'));
    alice!.send(replyTo(atAlice, 487, 'Request Terminated'));
    const terminated = await media!.wait((m) => m.status === 487 && m.header('call-id') === callId, 5000);
    expect(terminated?.status).toBe(487);
    expect(connectionsToAlice).toBe(0);
  });

  it('a call for alice sent to node A itself goes down her connection, without a loop through the Path', async () => {
    const callId = `local-${newTag()}@${MEDIA_IP}`;
    const from = `<sip:ms@${DOMAIN}>;tag=${newTag()}`;
    media!.send(mediaRequest(media!, 'INVITE', `sip:alice@${DOMAIN}`, { callId, from, to: `<sip:alice@${DOMAIN}>`, cseq: 1, body: offerSdp(MEDIA_IP, 30002) }), a!.ports.private, NODE_A_IP);
    const invite = await alice!.waitFor((m) => m.method === 'INVITE' && m.header('call-id') === callId, 5000, 'the INVITE at alice');
    // Node A and the media server only: node A did not send it to itself.
    expect(invite.headerValues('Via')).toHaveLength(2);
    alice!.send(replyTo(invite, 486, 'Busy Here'));
    const busy = await media!.wait((m) => m.status === 486 && m.header('call-id') === callId, 5000);
    expect(busy?.status).toBe(486);
    expect(connectionsToAlice).toBe(0);
  });

  it('bob registers over UDP with node B and a call through node A reaches him from node B', async () => {
    expect(await bob!.register({ host: NODE_B_IP, sipPort: b!.ports.sip, domain: DOMAIN }, BOB)).toBe(200);
    bobRegisteredAt = Date.now();
    const path = `sip:${NODE_B_IP}:${b!.ports.private};lr;received=sip:${BOB_IP}:${bob!.port}>`;
    await eventually('bob replicated to node A with node B’s Path', async () => (await contactsOf(a!, 'bob')).includes(path));

    const callId = `udp-${newTag()}@${MEDIA_IP}`;
    const from = `<sip:ms@${DOMAIN}>;tag=${newTag()}`;
    media!.send(mediaRequest(media!, 'INVITE', `sip:bob@${DOMAIN}`, { callId, from, to: `<sip:bob@${DOMAIN}>`, cseq: 1, body: offerSdp(MEDIA_IP, 30004) }), a!.ports.private, NODE_A_IP);
    const invite: SipMessage | null = await bob!.wait((m) => m.method === 'INVITE' && m.header('call-id') === callId, 5000);
    expect(invite, 'the INVITE at bob').not.toBeNull();
    // Node B's Via on top (the node whose packets bob's NAT lets in), then node A's, then the media server's.
    const vias = invite!.headerValues('Via');
    expect(vias).toHaveLength(3);
    expect(vias[0]).toContain(`127.0.0.2:${b!.ports.sip}`);
    expect(vias[1]).toContain(`${NODE_A_IP}:${a!.ports.private}`);
    // Answered to where it came from (node B's public socket), as bob's NAT would.
    bob!.send(replyTo(invite!, 486, 'Busy Here'), b!.ports.sip, NODE_B_IP);
    const busy = await media!.wait((m) => m.status === 486 && m.header('call-id') === callId, 5000);
    expect(busy?.status).toBe(486);
  });

  // nathelper pings each contact once per natping_interval (30 s): one engine is enough.
  it.runIf(engine === 'typescript')(
    'only node B, which took bob’s REGISTER, keeps his NAT binding open, with plain keepalives (no OPTIONS through the Path)',
    async () => {
      const isKeepalive = (m: SipMessage): boolean => m.raw === '\0\0\0\0';
      expect(await bob!.wait(isKeepalive, 33_000), 'a keepalive at bob within 33 s').not.toBeNull();
      // A whole interval since bob registered: node A had its timer slot for him too.
      await new Promise((r) => setTimeout(r, Math.max(0, bobRegisteredAt + 32_000 - Date.now())));
      const senders = bob!.received.map((m, i) => (isKeepalive(m) ? bob!.receivedFrom[i] : null)).filter((x) => x !== null);
      expect(new Set(senders)).toEqual(new Set([`${NODE_B_IP}:${b!.ports.sip}`]));
      expect(bob!.received.filter((m) => m.method === 'OPTIONS')).toEqual([]);
      // On loopback node A could not even pick a socket toward bob (mhomed finds the
      // kernel's source 127.0.0.1, which it does not listen on): that it did not try
      // is what shows nathelper's filter_server_id at work there.
      expect(a!.daemon.log()).not.toMatch(/nathelper.*(can't get sending socket|udp_send failed)/);
    },
    40_000,
  );

  // Last: node A is dead from here on.
  it('node A dies: bob (UDP at A) is called by node B itself once probing marks A inactive, alice (TCP at A) gets 480', async () => {
    // bob moves to node A (his flow now pinned there), alice is still on her connection to node A.
    expect(await bob!.register({ host: NODE_A_IP, sipPort: a!.ports.sip, domain: DOMAIN }, BOB)).toBe(200);
    const pathOfA = `sip:${NODE_A_IP}:${a!.ports.private};lr;received=sip:${BOB_IP}:${bob!.port}>`;
    await eventually('bob’s binding on node B names node A’s Path', async () => (await contactsOf(b!, 'bob')).includes(pathOfA));
    const peerA = `sip:${NODE_A_IP}:${a!.ports.private}`;
    const flagsOfA = async (): Promise<string> => {
      const list = await b!.rpc('dispatcher.list');
      const at = list.indexOf(`URI: ${peerA}`);
      return at < 0 ? '' : (/FLAGS: (\w+)/.exec(list.slice(at))?.[1] ?? '');
    };
    expect(await flagsOfA()).toMatch(/^A/);

    // A crash: no goodbye to anyone.
    const diedAt = Date.now();
    process.kill(-a!.daemon.pid, 'SIGKILL');
    await a!.daemon.exited;
    // ds_ping_interval 10 s + an OPTIONS unanswered for fr_timer 5 s: 15 s at worst.
    await eventually('node B’s dispatcher marks node A inactive', async () => (await flagsOfA()).startsWith('I'), 20_000);
    const detectedMs = Date.now() - diedAt;
    console.log(`[${engine}] node A killed: node B marked it inactive after ${detectedMs} ms (flags ${await flagsOfA()})`);

    const callId = `dead-owner-${newTag()}@${MEDIA_IP}`;
    const from = `<sip:ms@${DOMAIN}>;tag=${newTag()}`;
    const sentAt = Date.now();
    media!.send(mediaRequest(media!, 'INVITE', `sip:bob@${DOMAIN}`, { callId, from, to: `<sip:bob@${DOMAIN}>`, cseq: 1, body: offerSdp(MEDIA_IP, 30008) }), b!.ports.private, NODE_B_IP);
    const invite = await bob!.wait((m) => m.method === 'INVITE' && m.header('call-id') === callId, 3000);
    expect(invite, 'the INVITE at bob').not.toBeNull();
    const inviteMs = Date.now() - sentAt;
    // From node B's public UDP socket: PUBLIC_IP:SIP_PORT behind the balancer.
    expect(bob!.receivedFrom[bob!.received.indexOf(invite!)]).toBe(`${NODE_B_IP}:${b!.ports.sip}`);
    const vias = invite!.headerValues('Via');
    expect(vias).toHaveLength(2);
    expect(vias[0]).toContain(`127.0.0.2:${b!.ports.sip}`);
    // The dead node's Path is gone: no Route naming its private socket.
    expect(invite!.header('Route')).toBeUndefined();
    expect(invite!.raw).not.toContain(NODE_A_IP);
    expect(invite!.headerValues('Record-Route').join(',')).toContain(`${NODE_B_IP}:${b!.ports.private}`);
    // Anchored in node B's rtpengine.
    expect(/^c=IN IP4 (\S+)/m.exec(invite!.body)?.[1]).not.toBe(MEDIA_IP);
    bob!.send(replyTo(invite!, 486, 'Busy Here'), b!.ports.sip, NODE_B_IP);
    expect((await media!.wait((m) => m.status === 486 && m.header('call-id') === callId, 5000))?.status).toBe(486);

    const aliceCall = `dead-owner-tcp-${newTag()}@${MEDIA_IP}`;
    const aliceSentAt = Date.now();
    media!.send(mediaRequest(media!, 'INVITE', `sip:alice@${DOMAIN}`, { callId: aliceCall, from, to: `<sip:alice@${DOMAIN}>`, cseq: 1, body: offerSdp(MEDIA_IP, 30010) }), b!.ports.private, NODE_B_IP);
    const final = await media!.wait((m) => (m.status ?? 0) >= 200 && m.header('call-id') === aliceCall, 3000);
    expect(final?.status).toBe(480);
    console.log(`[${engine}] after detection: bob's INVITE at bob in ${inviteMs} ms, alice's 480 in ${Date.now() - aliceSentAt} ms`);
    expect(connectionsToAlice).toBe(0);
  }, 40_000);

  it('a call handed to the dead node A before probing noticed: after fr_timer node B marks A inactive and calls bob itself, alice gets 480', async () => {
    // The window before B's probe notices: A still counts as active at B.
    const peerA = `sip:${NODE_A_IP}:${a!.ports.private}`;
    await b!.rpc('dispatcher.set_state', 'a', '2', peerA);
    expect(a!.daemon.isRunning()).toBe(false);
    const from = `<sip:ms@${DOMAIN}>;tag=${newTag()}`;
    const bobCall = `window-${newTag()}@${MEDIA_IP}`;
    const aliceCall = `window-tcp-${newTag()}@${MEDIA_IP}`;
    const sentAt = Date.now();
    media!.send(mediaRequest(media!, 'INVITE', `sip:bob@${DOMAIN}`, { callId: bobCall, from, to: `<sip:bob@${DOMAIN}>`, cseq: 1, body: offerSdp(MEDIA_IP, 30012) }), b!.ports.private, NODE_B_IP);
    media!.send(mediaRequest(media!, 'INVITE', `sip:alice@${DOMAIN}`, { callId: aliceCall, from, to: `<sip:alice@${DOMAIN}>`, cseq: 1, body: offerSdp(MEDIA_IP, 30014) }), b!.ports.private, NODE_B_IP);

    const invite = await bob!.wait((m) => m.method === 'INVITE' && m.header('call-id') === bobCall, 8000);
    expect(invite, 'the INVITE at bob').not.toBeNull();
    const bobMs = Date.now() - sentAt;
    expect(bob!.receivedFrom[bob!.received.indexOf(invite!)]).toBe(`${NODE_B_IP}:${b!.ports.sip}`);
    expect(invite!.header('Route')).toBeUndefined();
    expect(invite!.raw).not.toContain(NODE_A_IP);
    expect(invite!.headerValues('Via')[0]).toContain(`127.0.0.2:${b!.ports.sip}`);
    bob!.send(replyTo(invite!, 486, 'Busy Here'), b!.ports.sip, NODE_B_IP);
    expect((await media!.wait((m) => m.status === 486 && m.header('call-id') === bobCall, 5000))?.status).toBe(486);

    const final = await media!.wait((m) => (m.status ?? 0) >= 200 && m.header('call-id') === aliceCall, 8000);
    expect(final?.status).toBe(480);
    // Marked by the failed hand-over (or by a probe meanwhile): inactive either way.
    expect(await b!.rpc('dispatcher.list')).toMatch(new RegExp(`URI: ${peerA}\\s+FLAGS: I`));
    console.log(`[${engine}] before detection: bob's INVITE at bob after ${bobMs} ms (fr_timer 5 s), alice's 480 after ${Date.now() - sentAt} ms`);
  }, 30_000);
});
