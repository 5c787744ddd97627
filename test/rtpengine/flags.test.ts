import { describe, expect, it } from 'vitest';
import { rtpengineFlags } from '../../src/rtpengine/flags';

// Tokens rtpengine 10.5 accepts (daemon/call_interfaces.c, after Kamailio
// 5.6's rtpengine.c parse_flags); the builder must never produce anything else.
const KNOWN = /^(replace-origin|ICE=(remove|force|default|force-relay|optional)|SDES=off|RTP\/S?AVPF?|UDP\/TLS\/RTP\/SAVPF?|rtcp-mux-(offer|require|demux|accept|reject)|codec-(mask|transcode)-[A-Za-z0-9-]+|generate-mid|internal|external)$/;

describe('rtpengine flag builder', () => {
  it('writes the article\'s client->switch flags with RTP/AVP instead of the unknown UDP/RTP', () => {
    const flags = rtpengineFlags({ ice: 'remove', replaceOrigin: true, transport: 'RTP/AVP', direction: ['external', 'internal'] });
    expect(flags).toBe('replace-origin ICE=remove RTP/AVP external internal');
    expect(flags).not.toContain('UDP/RTP');
  });

  it('splits codec lists into one token per codec, as the daemon parses them', () => {
    expect(rtpengineFlags({ codecMask: ['PCMA', 'opus'], codecTranscode: ['PCMU'] })).toBe('codec-mask-PCMA codec-mask-opus codec-transcode-PCMU');
    expect(rtpengineFlags({ codecMask: 'all' })).toBe('codec-mask-all');
  });

  it('asks for a=mid with generate-mid, after the codec flags', () => {
    expect(rtpengineFlags({ codecMask: 'all', generateMid: true, direction: ['internal', 'external'] })).toBe('codec-mask-all generate-mid internal external');
  });

  it('produces nothing for no flags', () => {
    expect(rtpengineFlags({})).toBe('');
  });

  it('only ever produces tokens rtpengine knows', () => {
    const everything = rtpengineFlags({
      direction: ['internal', 'external'],
      transport: 'UDP/TLS/RTP/SAVPF',
      ice: 'force-relay',
      sdes: 'off',
      rtcpMux: ['offer', 'require', 'demux', 'accept', 'reject'],
      replaceOrigin: true,
      codecMask: ['PCMA', 'PCMU', 'G722', 'opus', 'telephone-event'],
      codecTranscode: ['PCMA'],
      generateMid: true,
    });
    for (const token of everything.split(' ')) expect(token).toMatch(KNOWN);
  });
});
