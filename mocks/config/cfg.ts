/**
 * Reads what the mock needs from the project's kamailio.cfg: listen sockets
 * (with advertise and name), aliases, mhomed, htable definitions and the
 * dispatcher list_file — after the preprocessor has applied the test's env.
 */
import { readFileSync } from 'node:fs';
import { expandDefines, preprocess, stringValue, type EnvMap } from './preprocess.ts';

export type SocketProto = 'udp' | 'tcp' | 'tls' | 'sctp';

export interface ListenSocket {
  name: string | null;
  proto: SocketProto;
  ip: string;
  port: number;
  advertise: { host: string; port: number } | null;
}

export interface Alias {
  proto: string | null;
  host: string;
  port: number | null;
}

export interface HtableSpec {
  name: string;
  /** Seconds; 0 = entries never expire. */
  autoexpire: number;
  /** Value returned for missing keys (htable "initval"), null when unset. */
  initval: number | null;
}

export interface KamailioCfg {
  sockets: ListenSocket[];
  aliases: Alias[];
  mhomed: boolean;
  htables: Map<string, HtableSpec>;
  modparams: Array<{ module: string; name: string; value: string }>;
  defines: ReadonlyMap<string, string>;
  /** Value of the Server header of local replies (server_header), without the name. */
  server: string;
  /** tcp_accept_haproxy: accepted TCP/TLS connections may start with a PROXY
   * protocol header, and tcp_main records their real peer (tcpops $tcp(c_si)). */
  acceptHaproxy: boolean;
}

const DEFAULT_PORT: Readonly<Record<SocketProto, number>> = { udp: 5060, tcp: 5060, tls: 5061, sctp: 5060 };

export function loadCfg(path: string, env: EnvMap): KamailioCfg {
  return parseCfg(readFileSync(path, 'utf8'), env, path);
}

export function parseCfg(text: string, env: EnvMap, file = 'kamailio.cfg'): KamailioCfg {
  const { lines, defines, substs } = preprocess(text, env, file);
  const cfg: KamailioCfg = {
    sockets: [], aliases: [], mhomed: false, htables: new Map(), modparams: [], defines,
    server: 'kamailio (5.6.3 (x86_64/linux))',
    acceptHaproxy: false,
  };
  for (const raw of lines) {
    const line = expandDefines(raw, defines);
    const assign = /^([a-z_]+)\s*=\s*(.*?);?$/i.exec(line);
    if (assign) {
      const [, key = '', value = ''] = assign;
      if (key === 'listen') cfg.sockets.push(...parseListen(value, file));
      else if (key === 'alias') cfg.aliases.push(parseAlias(value));
      else if (key === 'mhomed') cfg.mhomed = value.trim() === '1' || value.trim() === 'yes';
      else if (key === 'tcp_accept_haproxy') cfg.acceptHaproxy = /^(1|yes|on|true)$/i.test(value.trim());
      else if (key === 'server_header') cfg.server = stringValue(value, substs).replace(/^Server:\s*/i, '');
      continue;
    }
    const mp = /^modparam\s*\(\s*"([^"]+)"\s*,\s*"([^"]+)"\s*,\s*(.+)\)\s*;?$/.exec(line);
    if (mp) {
      const [, module = '', name = '', value = ''] = mp;
      const v = stringValue(value, substs);
      cfg.modparams.push({ module, name, value: v });
      if (module === 'htable' && name === 'htable') {
        const spec = parseHtable(v);
        cfg.htables.set(spec.name, spec);
      }
    }
  }
  return cfg;
}

/** `udp:IP:PORT [advertise IP:PORT] [name "x"]`; without a proto Kamailio listens on udp and tcp. */
function parseListen(value: string, file: string): ListenSocket[] {
  const m = /^\s*(?:(udp|tcp|tls|sctp):)?("?)([^\s":]+|\[[^\]]+\])\2(?::(\d+))?(.*)$/i.exec(value);
  if (!m) throw new Error(`mock cfg ${file}: cannot parse listen=${value}`);
  const [, proto, , ip = '', port, tail = ''] = m;
  const adv = /\badvertise\s+"?([^\s":]+)"?(?::(\d+))?/i.exec(tail);
  const name = /\bname\s+"([^"]+)"/i.exec(tail);
  const protos: SocketProto[] = proto ? [proto.toLowerCase() as SocketProto] : ['udp', 'tcp'];
  return protos.map((p) => {
    const portNo = port ? Number(port) : DEFAULT_PORT[p];
    return {
      name: name ? name[1]! : null,
      proto: p,
      ip,
      port: portNo,
      advertise: adv ? { host: adv[1]!, port: adv[2] ? Number(adv[2]) : portNo } : null,
    };
  });
}

function parseAlias(value: string): Alias {
  const v = value.trim().replace(/^"|"$/g, '');
  const m = /^(?:(udp|tcp|tls|sctp|ws|wss):)?([^:]+)(?::(\d+))?$/i.exec(v);
  if (!m) throw new Error(`mock cfg: cannot parse alias=${value}`);
  return { proto: m[1] ? m[1].toLowerCase() : null, host: m[2]!, port: m[3] ? Number(m[3]) : null };
}

/** `name=>size=8;autoexpire=300;initval=0;` (htable module doc, "htable" parameter). */
function parseHtable(value: string): HtableSpec {
  const [name = '', attrs = ''] = value.split('=>');
  const spec: HtableSpec = { name: name.trim(), autoexpire: 0, initval: null };
  for (const part of attrs.split(';')) {
    const [k = '', v = ''] = part.split('=');
    if (k.trim() === 'autoexpire') spec.autoexpire = Number(v);
    if (k.trim() === 'initval') spec.initval = Number(v);
  }
  return spec;
}

export function modparam(cfg: KamailioCfg, module: string, name: string): string | undefined {
  return cfg.modparams.filter((p) => p.module === module && p.name === name).pop()?.value;
}
