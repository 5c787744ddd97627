/**
 * The two-node stack's balancer, without namespaces (the e2e test
 * test/e2e/scale-out.test.ts runs it for real): which node the flow hash
 * picks, the nft rule the health checker writes, the HAProxy config it runs.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { renderBalancerHaproxyCfg } from '../../stack/haproxy.ts';
import { NODES, balancerRules, nodeForFlow, sipPickRule, trustedPeersList } from '../../stack/scale.ts';
import { ADDR } from '../../stack/topology.ts';

describe('the flow hash of the UDP balancer', () => {
  it('picks the node the kernel picks', () => {
    // Seen on the wire (captures of both nodes' wires) for OPTIONS from
    // 198.51.100.101, source ports 40000-40019, with both nodes healthy.
    const onA = [40000, 40006, 40008, 40010, 40011, 40013, 40016, 40018];
    for (let port = 40000; port < 40020; port++) {
      expect(nodeForFlow('198.51.100.101', port).name, `port ${port}`).toBe(onA.includes(port) ? 'A' : 'B');
    }
  });

  it('sends every flow to the one node left', () => {
    for (let port = 40000; port < 40020; port++) expect(nodeForFlow('198.51.100.101', port, [NODES[1]]).name).toBe('B');
  });
});

describe('the rule the health checker writes', () => {
  it('hashes over the healthy nodes, sends all to a single one, and fails open with none', () => {
    expect(sipPickRule(['10.0.0.10', '10.0.0.11'])).toMatch(/jhash ip saddr \. udp sport mod 2 seed 0x[0-9a-f]+ map \{ 0 : 10\.0\.0\.10, 1 : 10\.0\.0\.11 \}$/);
    expect(sipPickRule(['10.0.0.11'])).toBe('udp dport 5060 ip daddr set 10.0.0.11');
    expect(sipPickRule([])).toBe(sipPickRule(NODES.map((n) => n.address)));
  });

  it('maps each node its own media range, and nothing else of the internet to the nodes', () => {
    const rules = balancerRules();
    for (const n of NODES) expect(rules).toContain(`udp dport ${n.rtpMin}-${n.rtpMax} notrack ip daddr set ${n.address}`);
    expect(NODES[0].rtpMax).toBeLessThan(NODES[1].rtpMin);
    expect(rules).toContain(`ip saddr set ${ADDR.PUBLIC_IP}`);
    expect(rules).toMatch(/chain forward \{\n\s+type filter hook forward priority filter; policy drop;/);
  });

  it('lists both nodes as trusted peers (dispatcher set 2) on their private port', () => {
    expect(trustedPeersList()).toContain('2 sip:10.0.0.10:5070 0 0 duid=nodeA\n2 sip:10.0.0.11:5070 0 0 duid=nodeB\n');
  });
});

describe("the balancer's HAProxy config", () => {
  it('is the shipped file on PUBLIC_IP with both nodes and a 500 ms check', () => {
    const cfg = renderBalancerHaproxyCfg(['10.0.0.10', '10.0.0.11']);
    expect(cfg).toContain(`bind ${ADDR.PUBLIC_IP}:5060`);
    expect(cfg).toContain('server kamailio1 10.0.0.10:5060');
    expect(cfg).toContain('server kamailio2 10.0.0.11:5060');
    expect(cfg).toContain('inter 500ms fall 2 rise 2');
    expect(cfg).toContain('tcp-check expect rstring ^SIP/2\\.0\\ 200');
    expect(cfg).not.toMatch(/10\.0\.0\.[56]\b|203\.0\.113\.10|inter 5s/);
  });

  it('says what no longer matches when the shipped file changed', () => {
    expect(() => renderBalancerHaproxyCfg(['10.0.0.10', '10.0.0.11'], 'frontend x\n    bind :5060\n')).toThrow(/the first example VM address not found/);
  });
});

describe('the health checker', () => {
  it('refuses a node that is not HOST:PORT, with the reason', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_DIR, 'stack', 'nlb-health.ts'), '--uri', 'sip:x', 'node-a'], { cwd: PROJECT_DIR, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('"node-a" is not HOST:PORT of a node');
  });
});
