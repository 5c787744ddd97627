/**
 * The WebRTC part of the stack: the test page's origin (the only page
 * Kamailio accepts WebSocket upgrades from, WEBRTC_ORIGINS), the secure
 * WebSocket URL browsers use, and the media servers' variant that sends RTP.
 */
import { join } from 'node:path';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { ADDR, PORT, SIP_DOMAIN } from '../topology.ts';

export const WEBRTC_DIR = join(PROJECT_DIR, 'stack', 'webrtc');

/** The softphone page's origin; the browser gets it from the test (Playwright
 * routes it), as if a web server on the client's side served it. */
export const PAGE_HOST = 'phone.example.test';
export const PAGE_ORIGIN = `https://${PAGE_HOST}`;

/** What browsers connect to: the SIP domain (mapped to PUBLIC_IP by the
 * browser's host resolver rules) on the WebRTC port. */
export const WSS_URL = `wss://${SIP_DOMAIN}:${PORT.WEBRTC}`;

/** Chromium's --host-resolver-rules: the stack has no DNS. The SIP domain is
 * the NAT's public address; pages (PAGE_HOST, or another name a test serves a
 * foreign page from) are the client host itself. */
export const HOST_RESOLVER_RULES = `MAP ${SIP_DOMAIN} ${ADDR.PUBLIC_IP},MAP *.${SIP_DOMAIN} ${ADDR.c1}`;

/** SIPp's rtp_stream value: 1 s of a 440 Hz tone in raw mu-law, looped until the call ends, payload type 0 (PCMU). */
export const RTP_TONE = `${join(WEBRTC_DIR, 'sipp', 'tone-440hz.ulaw')},-1,0`;

/** The media servers of a WebRTC stack: they answer with plain RTP/AVP and send a tone once the call is up. */
export const MEDIA_SERVER_WITH_RTP = {
  scenario: join(WEBRTC_DIR, 'sipp', 'uas-answer-media.xml'),
  args: ['-key', 'rtp_tone', RTP_TONE],
} as const;
