/**
 * Modules kamailio.cfg loads only under `#!ifdef` (tls with WITH_TLS, dmq and
 * path with WITH_DMQ): a Kamailio started without that switch lacks their KEMI
 * functions, yet one bundle serves every node, and the routing guards those
 * calls at run time (e.g. `kx.ifdef('WITH_DMQ')`). Checking a bundle against a
 * RUNNING Kamailio's api_list therefore accepts the functions of such modules
 * from the project's committed api_list when the running one lacks them.
 */
import { readFileSync } from 'node:fs';
import { kemiPath, type KemiApi, type KemiFunction } from './api-list.ts';

/** Names of modules loaded inside an #!ifdef/#!ifndef block of the cfg text. */
export function optionalModules(cfgText: string): string[] {
  const found = new Set<string>();
  let depth = 0;
  for (const raw of cfgText.split(/\r?\n/)) {
    const line = raw.trim();
    if (/^#!(ifdef|ifndef)\b/.test(line)) depth++;
    else if (/^#!endif\b/.test(line)) depth = Math.max(0, depth - 1);
    else if (depth > 0) {
      const load = /^loadmodule\s+"(?:[^"]*\/)?([a-z0-9_]+)(?:\.so)?"/.exec(line);
      if (load) found.add(load[1]!);
    }
  }
  return [...found].sort();
}

/** `running` plus the committed list's functions of optional modules the running Kamailio did not load. */
export function withOptionalModules(running: KemiApi, committed: KemiApi, optional: readonly string[]): { api: KemiApi; added: string[] } {
  const loaded = new Set(running.functions.map((f) => f.module));
  const added = optional.filter((m) => !loaded.has(m) && committed.functions.some((f) => f.module === m));
  const extra: KemiFunction[] = committed.functions.filter((f) => added.includes(f.module));
  const functions = [...running.functions, ...extra];
  const byPath = new Map(functions.map((f) => [kemiPath(f.module, f.name), f] as const));
  return { api: { functions, byPath }, added };
}

export function optionalModulesOfCfg(cfgPath: string): string[] {
  return optionalModules(readFileSync(cfgPath, 'utf8'));
}

/** The same merge on api_list text (kamcmd's format), for tools that read the list from a file. */
export function apiListTextWith(runningText: string, extra: readonly KemiFunction[]): string {
  if (extra.length === 0) return runningText;
  const blocks = extra
    .map((f) => `\t\tfunc: {\n\t\t\tret: ${f.ret}\n\t\t\tmodule: ${f.module}\n\t\t\tname: ${f.name}\n\t\t\tparams: ${f.params.length === 0 ? 'none' : f.params.join(', ')}\n\t\t}\n`)
    .join('');
  const end = runningText.lastIndexOf('\t}\n}');
  if (end < 0) throw new Error('api_list text has no closing "methods" block');
  const withBlocks = runningText.slice(0, end) + blocks + runningText.slice(end);
  return withBlocks.replace(/msize: (\d+)/, (_m, n: string) => `msize: ${Number(n) + extra.length}`);
}
