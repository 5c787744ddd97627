/**
 * rtpengine flags by direction (the article's route[RELAY] media part).
 * rtpengine's interfaces: `internal` = LOCAL_IP toward the media servers,
 * `external` = LOCAL_IP advertised as PUBLIC_IP toward clients. The first
 * direction names the interface of the SDP's sender, the second its recipient.
 */
import { rtpengineFlags } from '../rtpengine/flags';

/** Client -> media server. The article writes `UDP/RTP`, which is not a
 * transport rtpengine knows (it logs "Unknown flag" and leaves the protocol
 * as offered); plain RTP toward FreeSWITCH is `RTP/AVP`. rtcp-mux-demux
 * splits a browser's muxed RTCP for media servers that expect it apart. */
export const OFFER_TO_MEDIA_SERVER = rtpengineFlags({
  ice: 'remove',
  replaceOrigin: true,
  transport: 'RTP/AVP',
  rtcpMux: ['demux'],
  direction: ['external', 'internal'],
});

/** Media server -> WebRTC client: ICE and DTLS-SRTP as browsers require, the
 * article's codec settings (mask everything offered, transcode to G.711). */
export const OFFER_TO_WEBRTC_CLIENT = rtpengineFlags({
  replaceOrigin: true,
  ice: 'force',
  sdes: 'off',
  transport: 'UDP/TLS/RTP/SAVPF',
  rtcpMux: ['offer', 'require'],
  codecMask: 'all',
  codecTranscode: ['PCMA', 'PCMU'],
  direction: ['internal', 'external'],
});

/** Media server -> any other client. */
export const OFFER_TO_CLIENT = rtpengineFlags({
  ice: 'remove',
  replaceOrigin: true,
  direction: ['internal', 'external'],
});

/** Answers (replies with SDP) need no direction: rtpengine knows the call. */
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
