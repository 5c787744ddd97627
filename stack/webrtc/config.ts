/**
 * The WebRTC part of the stack: the test page's origin (the only page
 * Kamailio accepts WebSocket upgrades from, WEBRTC_ORIGINS), the secure
 * WebSocket URL browsers use, and the media servers' variant that sends RTP.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** SIPp's rtp_stream value (`-key rtp_tone`): 1 s of a 440 Hz tone in raw
 * mu-law (toneFile), looped until the call ends, payload type 0 (PCMU). */
export const RTP_TONE = `${toneFile()},-1,0`;

/**
 * 1 s of a 440 Hz tone at 8 kHz, -12 dBFS, G.711 mu-law, 160 bytes per 20 ms
 * packet as SIPp's rtp_stream sends raw files. Written (the same bytes each
 * time) to the temporary directory, where the SIPp processes read it.
 */
export function toneFile(): string {
  const file = join(tmpdir(), 'ksr-webrtc-tone-440hz.ulaw');
  const tone = Buffer.alloc(8000);
  for (let i = 0; i < tone.length; i++) tone[i] = muLaw(Math.round(0.25 * 32767 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
  if (!existsSync(file) || !readFileSync(file).equals(tone)) writeFileSync(file, tone);
  return file;
}

/** ITU-T G.711 mu-law encoding of one 16-bit sample. */
export function muLaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(Math.abs(sample), CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = ~(sign | (exponent << 4) | mantissa) & 0xff;
  return magnitude;
}

/** The media servers of a WebRTC stack: they answer with plain RTP/AVP and send a tone once the call is up. */
export const MEDIA_SERVER_WITH_RTP = {
  scenario: join(WEBRTC_DIR, 'sipp', 'uas-answer-media.xml'),
  args: ['-key', 'rtp_tone', RTP_TONE],
} as const;
