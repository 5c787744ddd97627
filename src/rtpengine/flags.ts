/**
 * A typed builder for the flag strings handed to rtpengine_manage/offer/answer.
 * It can only produce tokens rtpengine 10.5 knows (daemon/call_interfaces.c,
 * call_ng_flags_flags and the dictionary keys; Kamailio 5.6's rtpengine module
 * parses the string first, rtpengine.c parse_flags, and passes unknown words
 * on as generic flags):
 * a misspelt token is otherwise logged as "Unknown flag" by the daemon and
 * silently ignored, which is how the article's `UDP/RTP` (not a transport
 * rtpengine knows) went unnoticed. Strings are built once, at load time.
 */

/** rtpengine interface names, as configured in config/rtpengine.conf (CONTRACT). */
export type Interface = 'internal' | 'external';

export type TransportProtocol = 'RTP/AVP' | 'RTP/AVPF' | 'RTP/SAVP' | 'RTP/SAVPF' | 'UDP/TLS/RTP/SAVP' | 'UDP/TLS/RTP/SAVPF';

export type IceMode = 'remove' | 'force' | 'default' | 'force-relay' | 'optional';

export type RtcpMux = 'offer' | 'require' | 'demux' | 'accept' | 'reject';

export type Codec = 'PCMA' | 'PCMU' | 'G722' | 'opus' | 'telephone-event';

export interface MediaFlags {
  /** [interface of the SDP's sender, interface of its recipient]; only read on offers. */
  readonly direction?: readonly [from: Interface, to: Interface];
  readonly transport?: TransportProtocol;
  readonly ice?: IceMode;
  readonly sdes?: 'off';
  readonly rtcpMux?: readonly RtcpMux[];
  /** Replace the o= line's address too, not only c=: clients behind NAT compare them. */
  readonly replaceOrigin?: boolean;
  readonly codecMask?: 'all' | readonly Codec[];
  readonly codecTranscode?: readonly Codec[];
  /** Add a=mid to outgoing media sections that lack one (JSEP wants one per m= line). */
  readonly generateMid?: boolean;
}

export function rtpengineFlags(flags: MediaFlags): string {
  const tokens: string[] = [];
  if (flags.replaceOrigin) tokens.push('replace-origin');
  if (flags.ice) tokens.push(`ICE=${flags.ice}`);
  if (flags.sdes) tokens.push(`SDES=${flags.sdes}`);
  if (flags.transport) tokens.push(flags.transport);
  if (flags.rtcpMux) flags.rtcpMux.forEach((mux) => tokens.push(`rtcp-mux-${mux}`));
  if (flags.codecMask === 'all') tokens.push('codec-mask-all');
  else if (flags.codecMask) flags.codecMask.forEach((codec) => tokens.push(`codec-mask-${codec}`));
  if (flags.codecTranscode) flags.codecTranscode.forEach((codec) => tokens.push(`codec-transcode-${codec}`));
  if (flags.generateMid) tokens.push('generate-mid');
  if (flags.direction) tokens.push(flags.direction[0], flags.direction[1]);
  return tokens.join(' ');
}
