/**
 * The transport of a next hop decides the socket a request leaves on. The
 * parser takes a shortcut for URIs without parameters; it must answer what
 * the plain `;transport=` pattern answers for every URI.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { protoOf } from '../../src/routing/proto';

const reference = (uri: string): string => /;transport=([a-z]+)/i.exec(uri)?.[1]?.toLowerCase() ?? 'udp';

describe('the transport of a next hop', () => {
  it.each([
    ['sip:10.0.0.11:5080', 'udp'],
    ['sip:alice@203.0.113.5:40312;transport=tcp;alias=203.0.113.5~40312~2', 'tcp'],
    ['sip:bob@198.51.100.7;TRANSPORT=TLS', 'tls'],
    ['sip:carol@192.0.2.1:5060;alias=192.0.2.1~5060~1', 'udp'],
    ['sip:dave@192.0.2.9;transport=ws;ob', 'ws'],
  ])('%s leaves over %s', (uri, proto) => {
    expect(protoOf(uri)).toBe(proto);
  });

  it('is what the ;transport= pattern says, for any URI-like text', () => {
    const piece = fc.constantFrom('sip:', 'sips:', 'alice@', '10.0.0.1', ':5060', ';', ';transport=', ';TransPort=', 'tcp', 'UDP', 'wss', '>', '=', 'x');
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 4 })), { maxLength: 10 }), (parts) => {
        const uri = parts.join('');
        expect(protoOf(uri)).toBe(reference(uri));
      }),
    );
  });
});
