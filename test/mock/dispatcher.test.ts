/** dispatcher: ds_is_from_list mode bits, selection and failover. */
import { describe, expect, it } from 'vitest';
import type { TransportSpec } from '../../mocks/index.ts';
import { inRoute } from './helpers.ts';

const from = (source: string, proto: TransportSpec['proto'] = 'udp'): TransportSpec => ({ proto, source, socket: proto === 'udp' ? 'private_socket' : 'private_tcp_socket' });

describe('ds_is_from_list', () => {
  it('ignores the protocol by default (mode 2) but matches the listed port', () => {
    expect(inRoute((k) => k.dispatcher.ds_is_from_list(1), undefined, from('10.0.0.11:5080', 'tcp'))).toBe(1);
    expect(inRoute((k) => k.dispatcher.ds_is_from_list(1), undefined, from('10.0.0.11:41000', 'tcp'))).toBe(-1);
  });

  it('ignores the port with bit 1, so ephemeral TCP source ports of a media server match', () => {
    expect(inRoute((k) => k.dispatcher.ds_is_from_list_mode(1, 3), undefined, from('10.0.0.11:41000', 'tcp'))).toBe(1);
  });

  it('never matches an entry without ;transport unless bit 2 is set (dispatch.c keeps PROTO_NONE)', () => {
    expect(inRoute((k) => k.dispatcher.ds_is_from_list_mode(1, 0), undefined, from('10.0.0.11:5080'))).toBe(-1);
    expect(inRoute((k) => k.dispatcher.ds_is_from_list_mode(1, 0), undefined, from('10.0.0.12:5090', 'tcp'))).toBe(1);
  });

  it('treats an entry without port as port 0, which matches any source port', () => {
    expect(inRoute((k) => k.dispatcher.ds_is_from_list(3), undefined, from('10.0.0.30:33333'))).toBe(1);
  });

  it('requires an active destination with bit 4, and searches all sets with group -1', () => {
    const r = inRoute((k) => [k.dispatcher.ds_is_from_list_mode(1, 2 | 4), k.dispatcher.ds_is_from_lists(), k.dispatcher.ds_is_from_list(2)], undefined, from('10.0.0.11:5080'), {});
    expect(r).toEqual([1, 1, -1]);
  });
});

describe('ds_select_dst and failover', () => {
  it('selects by priority with algorithm 8, sets $du and forces the default socket (ds_default_sockname)', () => {
    const r = inRoute((k) => [k.dispatcher.ds_select_dst(1, 8), k.pv.get('$du'), k.pv.get('$fsn'), k.pv.get('$xavp(_dsdst_=>uri)')]);
    expect(r).toEqual([1, 'sip:10.0.0.11:5080', 'private_socket', 'sip:10.0.0.11:5080']);
  });

  it('walks the remaining destinations with ds_next_dst and returns -1 at the end', () => {
    const r = inRoute((k) => [k.dispatcher.ds_select_dst(1, 8), k.dispatcher.ds_next_dst(), k.pv.get('$du'), k.dispatcher.ds_next_dst()]);
    expect(r).toEqual([1, 1, 'sip:10.0.0.12:5090;transport=tcp', -1]);
  });

  it('skips destinations marked inactive, and ds_mark_dst marks the current one', () => {
    const r = inRoute((k) => {
      k.dispatcher.ds_select_dst(1, 8);
      k.dispatcher.ds_mark_dst();
      k.dispatcher.ds_select_dst(1, 8);
      return [k.pv.get('$du'), k.dispatcher.ds_is_active(1), k.dispatcher.ds_select_dst(4, 8)];
    });
    expect(r).toEqual(['sip:10.0.0.12:5090;transport=tcp', 1, -1]);
  });

  it('ds_mark_dst_state marks the destination $xavp(_dsdst_[0]) names, which needs its group too', () => {
    const r = inRoute((k) => {
      k.pv.sets('$xavp(_dsdst_=>uri)', 'sip:10.0.0.11:5080');
      const withoutGroup = k.dispatcher.ds_mark_dst_state('ip');
      // $xavp(a=>b) adds a new a[0]: the group must go into the same item, a[0].
      k.pv.seti('$xavp(_dsdst_=>grp)', 1);
      const separateItems = k.dispatcher.ds_mark_dst_state('ip');
      k.pv.sets('$xavp(_dsdst_[0]=>uri)', 'sip:10.0.0.11:5080');
      const marked = k.dispatcher.ds_mark_dst_state('ip');
      return [withoutGroup, separateItems, marked, k.dispatcher.ds_is_from_list_mode(1, 2 | 4)];
    }, undefined, from('10.0.0.11:5080'));
    expect(r).toEqual([-1, -1, 1, -1]);
  });

  it('rotates with algorithm 4 and hashes the Call-ID with algorithm 0', () => {
    const r = inRoute((k) => {
      const rr = [0, 1, 2].map(() => (k.dispatcher.ds_select_dst(1, 4), k.pv.get('$du')));
      k.dispatcher.ds_select_dst(1, 0);
      const h1 = k.pv.get('$du');
      k.dispatcher.ds_select_dst(1, 0);
      return [...rr, h1 === k.pv.get('$du')];
    });
    expect(r).toEqual(['sip:10.0.0.11:5080', 'sip:10.0.0.12:5090;transport=tcp', 'sip:10.0.0.11:5080', true]);
  });

  it('refuses algorithms it does not model', () => {
    expect(() => inRoute((k) => k.dispatcher.ds_select_dst(1, 9))).toThrow(/algorithm 9 is not modelled/);
  });
});
