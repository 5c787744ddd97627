/**
 * The balancer host runs the project's own config/haproxy.cfg, with its
 * example addresses replaced by the stack's: so the stack tests the shipped
 * file (send-proxy v1, the SIP OPTIONS health check with check-send-proxy),
 * not a look-alike. A replacement that no longer matches fails loudly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR } from '../scripts/lib/env.ts';
import { ADDR } from './topology.ts';

export const HAPROXY_TEMPLATE = join(PROJECT_DIR, 'config', 'haproxy.cfg');

interface Replacement {
  what: string;
  pattern: RegExp;
  with: string;
}

export function renderHaproxyCfg(template: string = readFileSync(HAPROXY_TEMPLATE, 'utf8')): string {
  const replacements: Replacement[] = [
    // Bind the frontends to the balancer's public address only.
    { what: 'frontend bind lines', pattern: /^(\s*bind )(:\d+)$/gm, with: `$1${ADDR.lbPublic}$2` },
    // One Kamailio VM behind it: the second example server goes.
    { what: 'the second example server', pattern: /^\s*server kamailio2 .*\n/gm, with: '' },
    { what: 'the example VM address (LOCAL_IP)', pattern: /\b10\.0\.0\.5\b/g, with: ADDR.LOCAL_IP },
    { what: 'the example public address (PUBLIC_IP)', pattern: /\b203\.0\.113\.10\b/g, with: ADDR.PUBLIC_IP },
  ];
  let out = template;
  for (const r of replacements) {
    if (!r.pattern.test(out)) throw new Error(`config/haproxy.cfg: ${r.what} not found (${String(r.pattern)}); update stack/haproxy.ts`);
    r.pattern.lastIndex = 0;
    out = out.replace(r.pattern, r.with);
  }
  return `# Rendered by stack/haproxy.ts from config/haproxy.cfg\n${out}`;
}

/**
 * The two-node stack's balancer (stack/scale.ts): the same shipped file, on
 * PUBLIC_IP (the balancer owns it there), with both example servers as the two
 * nodes and a health check every 500 ms (fall 2: a dead node is out within
 * about a second; rise 2 when it is back).
 */
export function renderBalancerHaproxyCfg(nodes: readonly [string, string], template: string = readFileSync(HAPROXY_TEMPLATE, 'utf8')): string {
  const replacements: Replacement[] = [
    { what: 'frontend bind lines', pattern: /^(\s*bind )(:\d+)$/gm, with: `$1${ADDR.PUBLIC_IP}$2` },
    { what: 'the first example VM address', pattern: /\b10\.0\.0\.5\b/g, with: nodes[0] },
    { what: 'the second example VM address', pattern: /\b10\.0\.0\.6\b/g, with: nodes[1] },
    { what: 'the example public address (PUBLIC_IP)', pattern: /\b203\.0\.113\.10\b/g, with: ADDR.PUBLIC_IP },
    { what: 'the health check interval', pattern: /\binter 5s\b/g, with: 'inter 500ms' },
  ];
  let out = template;
  for (const r of replacements) {
    if (!r.pattern.test(out)) throw new Error(`config/haproxy.cfg: ${r.what} not found (${String(r.pattern)}); update stack/haproxy.ts`);
    r.pattern.lastIndex = 0;
    out = out.replace(r.pattern, r.with);
  }
  return `# Rendered by stack/haproxy.ts from config/haproxy.cfg (two-node stack: the balancer owns PUBLIC_IP)\n${out}`;
}
