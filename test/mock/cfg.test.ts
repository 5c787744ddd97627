/** Sockets, aliases, htables and dispatcher sets come from the real files. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCfg, loadCfg } from '../../mocks/config/cfg.ts';
import { parseDispatcherList } from '../../mocks/config/dispatcher-list.ts';
import { ENV, FIXTURE_CFG, inRoute } from './helpers.ts';

const PROJECT_CFG = fileURLToPath(new URL('../../kamailio.cfg', import.meta.url));

describe('kamailio.cfg reader', () => {
  it('reads the article sockets with names and advertise, substituting #!defenv values', () => {
    const cfg = loadCfg(FIXTURE_CFG, ENV);
    const show = cfg.sockets.map((s) => `${s.name}=${s.proto}:${s.ip}:${s.port}${s.advertise ? `>${s.advertise.host}:${s.advertise.port}` : ''}`);
    expect(show).toEqual([
      'public_socket=udp:10.0.0.5:5060>198.51.100.7:5060',
      'private_socket=udp:10.0.0.5:5070',
      'public_webrtc_socket=tls:10.0.0.5:7777>198.51.100.7:7777',
      'public_tcp_socket=tcp:10.0.0.5:5060>198.51.100.7:5060',
      'private_tcp_socket=tcp:10.0.0.5:5070',
    ]);
    expect(cfg.mhomed).toBe(true);
    expect(cfg.server).toBe('Kamailio');
    expect(cfg.htables.get('ipban')).toEqual({ name: 'ipban', autoexpire: 300, initval: null });
  });

  it('uses the defaults the cfg declares when a #!trydefenv variable is unset', () => {
    const cfg = loadCfg(FIXTURE_CFG, { ...ENV, SIP_PORT: '5080' });
    expect(cfg.sockets.map((s) => s.port)).toEqual([5080, 5070, 7777, 5080, 5070]);
  });

  it('refuses to start without a #!defenv variable, like Kamailio', () => {
    expect(() => loadCfg(FIXTURE_CFG, { LOCAL_IP: '10.0.0.5' })).toThrow(/env variable not defined \[PUBLIC_IP\]/);
  });

  it('expands nested defines, joins adjacent strings and applies #!subst to them', () => {
    const cfg = parseCfg(
      [
        '#!define DIR "/srv"',
        '#!define LIST DIR "/ds.list"',
        '#!subst "/^(.*)@@P@@(.*)$/\\2\\1/"',
        'modparam("dispatcher", "list_file", LIST)',
        'modparam("usrloc", "db_url", DIR "/db@@P@@sqlite://")',
      ].join('\n'),
      {},
    );
    expect(cfg.modparams.map((p) => p.value)).toEqual(['/srv/ds.list', 'sqlite:///srv/db']);
  });

  it('rejects preprocessor directives it does not model', () => {
    expect(() => parseCfg('#!substdef "/A/b/"', {})).toThrow(/#!substdef is not modelled/);
  });

  it.skipIf(!existsSync(PROJECT_CFG))('reads the project kamailio.cfg with its loopback defaults', () => {
    const cfg = loadCfg(PROJECT_CFG, {});
    const names = cfg.sockets.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['public_socket', 'public_tcp_socket', 'private_socket', 'private_tcp_socket']));
    expect(cfg.sockets.find((s) => s.name === 'public_socket')?.advertise).not.toBeNull();
  });

  it('answers is_myself for listen, advertised and alias addresses', () => {
    const r = inRoute((k) => [
      k.is_myself('sip:10.0.0.5:5070'),
      k.is_myself('sip:198.51.100.7'),
      k.is_myself('sip:sip.example.com:7777;transport=tls'),
      k.is_myself('sip:10.0.0.5:9999'),
      k.is_myself('sip:192.0.2.1'),
      k.is_myself_srcip(),
    ]);
    expect(r).toEqual([true, true, true, false, false, false]);
  });
});

describe('dispatcher list reader', () => {
  it('parses setid, URI (with ;transport), flags, priority and attrs', () => {
    expect(parseDispatcherList('# c\n1 sip:10.0.0.11:5080 0 0\n1 sip:10.0.0.12:5090;transport=tcp 1 5 duid=fs2;weight=50\n')).toEqual([
      { setid: 1, uri: 'sip:10.0.0.11:5080', flags: 0, priority: 0, attrs: '' },
      { setid: 1, uri: 'sip:10.0.0.12:5090;transport=tcp', flags: 1, priority: 5, attrs: 'duid=fs2;weight=50' },
    ]);
  });

  it('fails on a line it cannot read', () => {
    expect(() => parseDispatcherList('x sip:a')).toThrow(/line 1/);
  });
});
