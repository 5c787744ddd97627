/**
 * rtpengine down or not answering, on a real Kamailio 5.6.3 (kamailio.cfg
 * and the built bundle): a call offered while no rtpengine answers gets a
 * clear 503 and never reaches the media server unanchored; calls in
 * progress still end; a silent rtpengine stalls one worker for
 * rtpengine_tout_ms x rtpengine_retr, not the proxy; once rtpengine is back,
 * calls work again within rtpengine_disable_tout (20 s).
 */
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { projectBundle } from '../support/bundle.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { allocatePorts, releasePorts } from '../support/ports.ts';
import { startRtpengine, type RtpengineInstance } from '../support/rtpengine.ts';
import { MediaServer, Phone } from '../support/sip-agents.ts';
import { sendRequest } from '../support/sip-client.ts';

const CALLER = { user: 'carol', password: 'carol-secret' };
const DOMAIN = 'rtpdown.test';

/**
 * An ng socket that answers rtpengine's pings until hang(), and nothing at
 * all after it: an rtpengine that hangs after Kamailio found it alive.
 */
async function hangingRtpengine(): Promise<{ ng: string; hang: () => void; commands: () => number; close: () => void }> {
  const [port] = (await allocatePorts(1)) as [number];
  const socket: Socket = createSocket('udp4');
  let hung = false;
  let commands = 0;
  socket.on('message', (msg, from) => {
    const text = msg.toString('latin1');
    if (hung) commands++;
    else if (text.includes('4:ping')) socket.send(`${text.slice(0, text.indexOf(' '))} d6:result4:ponge`, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind({ address: '127.0.0.1', port }, () => r()));
  return {
    ng: `udp:127.0.0.1:${port}`,
    hang: () => {
      hung = true;
    },
    commands: () => commands,
    close: () => {
      socket.close();
      releasePorts([port]);
    },
  };
}

describe('rtpengine down or not answering', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  let failed = false;
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') failed = true;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function kamailio(ng: string): Promise<{ kam: KamailioInstance; media: MediaServer; address: { host: string; sipPort: number; domain: string } }> {
    const kam = await startKamailio({ name: 'rtpdown-kamailio', bundle: projectBundle().path, env: { SIP_DOMAIN: DOMAIN }, rtpengineNg: ng, subscribers: [CALLER] });
    cleanups.push(() => kam.stop({ failed }));
    const media = await MediaServer.start('127.0.0.1', kam.ports.mediaServer);
    cleanups.push(() => media.close());
    return { kam, media, address: { host: kam.localIp, sipPort: kam.ports.sip, domain: DOMAIN } };
  }

  async function phone(ip: string): Promise<Phone> {
    const p = await Phone.open(ip);
    cleanups.push(() => p.close());
    return p;
  }

  it('stopped: a new call gets 503 at once and never reaches the media server, a call in progress still ends, and calls work again once rtpengine is back', { timeout: 60_000 }, async () => {
    let rtp: RtpengineInstance = await startRtpengine({ name: 'rtpdown-rtpengine' });
    cleanups.push(() => rtp.stop({ failed }));
    const { kam, media, address } = await kamailio(rtp.ng);
    const alice = await phone('127.0.0.71');

    // rtpengine up: the call is anchored on both sides.
    const inProgress = await alice.establish(address, CALLER, media);
    expect(inProgress).toMatchObject({ answer: 200, mediaServerOffer: kam.localIp, answerConnection: kam.publicIp });

    await rtp.stop();
    // The call in progress ends: its BYE is relayed though rtpengine cannot delete the session.
    expect(await inProgress.hangup!()).toBe(200);
    const invitesBefore = media.received.filter((m) => m.method === 'INVITE').length;
    const refused = await alice.establish(address, CALLER, media);
    expect(refused).toMatchObject({ challenge: 407, answer: 503, mediaServerOffer: undefined });
    // Nothing listens on the ng port: the kernel refuses at once, no timeout.
    expect(refused.ms).toBeLessThan(500);
    expect(media.received.filter((m) => m.method === 'INVITE').length).toBe(invitesBefore);
    // Other requests are served as usual.
    expect((await sendRequest({ transport: 'udp', remoteAddress: kam.localIp, remotePort: kam.ports.sip, localAddress: '127.0.0.72' }, { method: 'OPTIONS', uri: `sip:${kam.publicIp}:${kam.ports.sip}` })).status).toBe(200);
    expect(kam.daemon.log()).toMatch(/rtpengine: no rtpengine answered, offer refused with 503/);

    // rtpengine back on the same ng port: Kamailio tries the node again after
    // rtpengine_disable_tout (20 s), with the first command after that.
    rtp = await startRtpengine({ name: 'rtpdown-rtpengine-again', ngPort: Number(rtp.ng.split(':').pop()) });
    cleanups.push(() => rtp.stop({ failed }));
    const backAt = Date.now();
    let again = await alice.establish(address, CALLER, media);
    while (again.answer !== 200 && Date.now() - backAt < 25_000) {
      expect(again.answer).toBe(503);
      await new Promise((r) => setTimeout(r, 1000));
      again = await alice.establish(address, CALLER, media);
    }
    expect(again).toMatchObject({ answer: 200, mediaServerOffer: kam.localIp, answerConnection: kam.publicIp });
    expect(Date.now() - backAt).toBeLessThan(22_000);
    expect(await again.hangup!()).toBe(200);
    // eslint-disable-next-line no-console
    console.log(`rtpengine stopped: 503 after ${refused.ms} ms; calls anchored again ${Math.round((Date.now() - backAt) / 1000)} s after it came back`);
  });

  it('not answering: the offer waits rtpengine_tout_ms x rtpengine_retr (2 s) in one worker, then 503; other workers serve meanwhile; the next call gets 503 at once', { timeout: 30_000 }, async () => {
    const hung = await hangingRtpengine();
    cleanups.push(() => hung.close());
    const { kam, media, address } = await kamailio(hung.ng);
    const alice = await phone('127.0.0.73');
    hung.hang();
    const pending = alice.establish(address, CALLER, media, 5000);
    // While one worker waits for rtpengine, a keepalive from elsewhere is answered at once.
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    const keepalive = await sendRequest({ transport: 'udp', remoteAddress: kam.localIp, remotePort: kam.ports.sip, localAddress: '127.0.0.74' }, { method: 'OPTIONS', uri: `sip:${kam.publicIp}:${kam.ports.sip}` });
    const keepaliveMs = Date.now() - started;
    expect(keepalive.status).toBe(200);
    expect(keepaliveMs).toBeLessThan(200);
    const first = await pending;
    expect(first).toMatchObject({ challenge: 407, answer: 503, mediaServerOffer: undefined });
    // 2 sends of 1 s each (kamailio.cfg rtpengine_retr 2, rtpengine_tout_ms 1000 by default).
    expect(first.ms).toBeGreaterThanOrEqual(1900);
    expect(first.ms).toBeLessThan(3000);
    expect(hung.commands()).toBe(2);
    // The node is disabled now for rtpengine_disable_tout: no wait, nothing
    // sent (aggressive_redetection 0: no ping of every node on every call).
    const second = await alice.establish(address, CALLER, media);
    expect(second).toMatchObject({ answer: 503 });
    expect(second.ms).toBeLessThan(300);
    expect(hung.commands()).toBe(2);
    expect(media.received.filter((m) => m.method === 'INVITE')).toEqual([]);
    // eslint-disable-next-line no-console
    console.log(`rtpengine not answering: 503 after ${first.ms} ms (keepalive meanwhile ${keepaliveMs} ms), then ${second.ms} ms while disabled`);
  });

  it('up, but the offer is no SDP it can use: 488, nothing reaches the media server', async () => {
    const rtp = await startRtpengine({ name: 'rtpdown-rtpengine-488' });
    cleanups.push(() => rtp.stop({ failed }));
    const { kam, media } = await kamailio(rtp.ng);
    const invite = async (body: string): Promise<number | undefined> => {
      const alice = await phone(`127.0.0.${75 + (body.length % 10)}`);
      // A 407 first, for the nonce; then the INVITE with credentials and the broken body.
      const md5 = (x: string): string => createHash('md5').update(x).digest('hex');
      const ruri = `sip:media@${DOMAIN}:${kam.ports.sip}`;
      const base = (cseq: number, extra: string[]): string =>
        [
          `INVITE ${ruri} SIP/2.0`,
          `Via: SIP/2.0/UDP ${alice.ip}:${alice.port};branch=z9hG4bK-${cseq}-${body.length};rport`,
          'Max-Forwards: 70',
          `From: <sip:carol@${DOMAIN}>;tag=t${body.length}`,
          `To: <${ruri}>`,
          `Call-ID: sdp-${body.length}`,
          `CSeq: ${cseq} INVITE`,
          `Contact: <sip:carol@${alice.ip}:${alice.port}>`,
          ...extra,
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(body)}`,
          '',
          body,
        ].join('\r\n');
      alice.send(base(1, []), kam.ports.sip);
      const challenge = await alice.wait((m) => (m.status ?? 0) >= 200);
      const nonce = /nonce="([^"]+)"/.exec(challenge?.header('proxy-authenticate') ?? '')?.[1] ?? '';
      const response = md5(`${md5(`carol:${DOMAIN}:carol-secret`)}:${nonce}:${md5(`INVITE:${ruri}`)}`);
      alice.send(base(2, [`Proxy-Authorization: Digest username="carol", realm="${DOMAIN}", nonce="${nonce}", uri="${ruri}", response="${response}", algorithm=MD5`]), kam.ports.sip);
      return (await alice.wait((m) => (m.status ?? 0) >= 200 && (m.header('cseq') ?? '').startsWith('2 ')))?.status;
    };
    // Kamailio's own SDP parser refuses it (no o=), and one rtpengine's parser refuses.
    expect(await invite('v=0\r\ns=-\r\nc=IN IP4 127.0.0.75\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n')).toBe(488);
    expect(await invite('v=0\r\no=- 1 1 IN IP4 127.0.0.76\r\ns=-\r\nc=IN IP4 127.0.0.76\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=\r\n')).toBe(488);
    expect(media.received.filter((m) => m.method === 'INVITE')).toEqual([]);
  });
});
