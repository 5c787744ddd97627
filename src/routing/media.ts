/**
 * rtpengine flags by direction (the article's route[RELAY] media part).
 * rtpengine's interfaces: `internal` = LOCAL_IP toward the media servers,
 * `external` = LOCAL_IP advertised as PUBLIC_IP toward clients. The first
 * direction names the interface of the SDP's sender, the second its recipient.
 */
import { rtpengineFlags } from '../rtpengine/flags';

/** Client -> media server. The article writes `UDP/RTP`, which is not a
 * transport rtpengine knows (it logs "Unknown flag" and leaves the protocol
 * as offered); plain RTP toward FreeSWITCH is `RTP/AVP`: from a browser,
 * DTLS-SRTP ends in rtpengine and the media server gets plain RTP with
 * c=LOCAL_IP. `ICE=remove` strips the client's candidates (the media server
 * is on our network). rtcp-mux-demux splits a browser's muxed RTCP for media
 * servers that expect it apart (a=rtcp on the next port). */
export const OFFER_TO_MEDIA_SERVER = rtpengineFlags({
  ice: 'remove',
  replaceOrigin: true,
  transport: 'RTP/AVP',
  rtcpMux: ['demux'],
  direction: ['external', 'internal'],
});

/**
 * Media server -> WebRTC client: the article's flags, checked against
 * rtpengine 10.5 (Debian 12's) and headless Chromium (test/e2e/webrtc.test.ts):
 *  - `ICE=force`: rtpengine becomes the browser's only ICE candidate
 *    (PUBLIC_IP through the `external` interface); a full ICE agent, so a
 *    browser behind NAT is found as a peer-reflexive candidate.
 *  - `SDES=off`: no a=crypto; browsers do DTLS-SRTP only.
 *  - `UDP/TLS/RTP/SAVPF`: DTLS-SRTP with RTCP feedback, what browsers require.
 *  - `rtcp-mux-offer rtcp-mux-require`: RTP and RTCP on one port, offered and
 *    taken as accepted (no separate RTCP port even in the offer), since
 *    browsers refuse a session without rtcp-mux (rtcpMuxPolicy "require").
 *  - `codec-mask-all codec-transcode-PCMA codec-transcode-PCMU`: the article's
 *    `codec-mask=all codec-transcode=PCMA,PCMU`, one token per codec
 *    (Kamailio would send "PCMA,PCMU" as one codec name). The browser is
 *    offered G.711 only; when the media server offered G.711 it is passed
 *    through untouched, otherwise rtpengine transcodes (Debian's build has
 *    the codecs). Masking drops telephone-event too: DTMF from the browser
 *    goes as SIP INFO (JsSIP's default).
 *  - `generate-mid` (not in the article): a=mid on the m= line, which JSEP
 *    (RFC 8829) requires of every media section; media servers' SDP has none.
 *    Chromium accepts the offer without it, other browsers need not.
 * Not used, although rtpengine's own `WebRTC` shortcut (mr12.5+, not in
 * 10.5) has them: `trickle-ICE` (SIP here carries every candidate in the SDP,
 * no trickling), `no-rtcp-attribute` (a=rtcp names the RTP port, which
 * RFC 5761 allows with rtcp-mux), and `DTLS=passive` is not needed either:
 * browsers answer a=setup:active to rtpengine's actpass, and when the browser
 * offers, rtpengine's active role works through a home NAT (tested). */
export const OFFER_TO_WEBRTC_CLIENT = rtpengineFlags({
  replaceOrigin: true,
  ice: 'force',
  sdes: 'off',
  transport: 'UDP/TLS/RTP/SAVPF',
  rtcpMux: ['offer', 'require'],
  codecMask: 'all',
  codecTranscode: ['PCMA', 'PCMU'],
  generateMid: true,
  direction: ['internal', 'external'],
});

/** Media server -> any other client. */
export const OFFER_TO_CLIENT = rtpengineFlags({
  ice: 'remove',
  replaceOrigin: true,
  direction: ['internal', 'external'],
});

/** Answers (replies with SDP) need no direction: rtpengine knows the call.
 * Toward a WebRTC client that offered: the transport and a=mid follow its
 * offer; ICE and rtcp-mux as in OFFER_TO_WEBRTC_CLIENT. */
export const ANSWER_TO_WEBRTC_CLIENT = rtpengineFlags({
  replaceOrigin: true,
  ice: 'force',
  sdes: 'off',
  rtcpMux: ['require'],
});

export const ANSWER_TO_PLAIN_PEER = rtpengineFlags({
  ice: 'remove',
  replaceOrigin: true,
});
