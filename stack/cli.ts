/**
 * npm run stack [-- up]    bring the topology up (leftovers of an earlier run are removed first),
 *                          with dist/kamailio.js as built (npm run build after changing the routing)
 * npm run stack -- up --nodes 2   the two-node stack: nodes A and B behind a balancer (stack/scale.ts)
 * npm run stack -- down    stop everything it started and delete its namespaces (logs stay in .stack/)
 * npm run stack -- status  namespaces and daemons, alive or not
 *
 * STACK_DIR (default .stack/) holds the state file, rendered configs, logs,
 * captures and Kamailio's RUN_DIR. Needs root.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_DIR } from '../scripts/lib/env.ts';
import { down, status, up } from './stack.ts';
import { stackDir } from './state.ts';
import { ADDR, NS, PORT, SIP_DOMAIN, SUBSCRIBERS } from './topology.ts';
import { NLB_TABLE, NODES } from './scale.ts';

const say = (line: string): void => void process.stdout.write(`stack: ${line}\n`);

function summary(dir: string): string {
  return [
    `PUBLIC_IP ${ADDR.PUBLIC_IP} (router ${NS.router}, 1:1 NAT) -> LOCAL_IP ${ADDR.LOCAL_IP} (${NS.vm}: Kamailio, rtpengine)`,
    `balancer ${ADDR.lbPublic}:${PORT.SIP}/tcp (${NS.lb}: HAProxy, PROXY v1) -> ${ADDR.LOCAL_IP}:${PORT.SIP}`,
    `media servers ${ADDR.ms1}:${PORT.UAS}, ${ADDR.ms2}:${PORT.UAS} (${NS.ms1}, ${NS.ms2}: SIPp UAS)`,
    `clients ${ADDR.c1} (${NS.c1}), ${ADDR.c2} behind home NAT ${ADDR.homePublic} (${NS.c2}, ${NS.home})`,
    `subscribers ${SUBSCRIBERS.map((s) => `${s.user}/${s.password}`).join(' ')} @ ${SIP_DOMAIN}`,
    `logs ${dir}/logs, captures ${dir}/capture, kamcmd -s unix:${dir}/run/kamailio_ctl`,
    `watch: ip netns exec ${NS.vm} sngrep -d eth0      stop: npm run stack -- down`,
  ].join('\n       ');
}

/** `--nodes 2`: the two-node stack (stack/scale.ts); anything else is refused. */
function nodesOption(args: readonly string[]): 1 | 2 {
  const i = args.indexOf('--nodes');
  if (i < 0) return 1;
  const value = args[i + 1];
  if (value !== '1' && value !== '2') throw new Error(`--nodes ${value ?? ''}: 1 or 2`);
  return Number(value) as 1 | 2;
}

function summaryTwoNodes(dir: string): string {
  return [
    `PUBLIC_IP ${ADDR.PUBLIC_IP} = the balancer (${NS.router}): UDP 5060 flow hash over the healthy nodes (nft table ${NLB_TABLE}, health log ${dir}/logs/nlb-health.log),`,
    `  TCP 5060/7777 HAProxy (PROXY v1, OPTIONS check every 500 ms), media ranges DNATed per node`,
    ...NODES.map((n) => `node ${n.name} ${n.address} (${n.ns}): Kamailio NODE_ID ${n.nodeId}, rtpengine ${n.rtpMin}-${n.rtpMax}, kamcmd -s unix:${dir}${n.name === 'A' ? '' : '/node-b'}/run/kamailio_ctl`),
    `media servers ${ADDR.ms1}:${PORT.UAS}, ${ADDR.ms2}:${PORT.UAS}; clients ${ADDR.c1} (${NS.c1}), ${ADDR.c2} behind ${ADDR.homePublic} (${NS.c2})`,
    `subscribers ${SUBSCRIBERS.map((s) => `${s.user}/${s.password}`).join(' ')} @ ${SIP_DOMAIN}`,
    `stop: npm run stack -- down`,
  ].join('\n       ');
}

async function main(command: string, args: readonly string[]): Promise<number> {
  const dir = stackDir();
  switch (command) {
    case 'up': {
      let nodes: 1 | 2;
      try {
        nodes = nodesOption(args);
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 2;
      }
      try {
        // Like npm start: the Debian packages it needs, installed when missing.
        execFileSync('bash', [join(PROJECT_DIR, 'scripts', 'install-system-deps.sh')], { stdio: 'inherit' });
        await up({ dir, say, nodes });
      } catch (err) {
        say(`bring-up FAILED: ${(err as Error).message}`);
        const report = down({ dir, keepLogs: true });
        say(`torn down (${report.namespaces.length} namespaces); logs kept in ${dir}/logs`);
        return 1;
      }
      say(nodes === 2 ? summaryTwoNodes(dir) : summary(dir));
      return 0;
    }
    case 'down': {
      const t0 = Date.now();
      const report = down({ dir, keepLogs: true });
      if (report.stopped.length > 0) say(`stopped ${report.stopped.join(', ')}`);
      if (report.leftovers.length > 0) say(`stopped leftovers ${report.leftovers.join(', ')}`);
      if (report.killed.length > 0) say(`had to SIGKILL ${report.killed.join(', ')}`);
      say(`deleted namespaces: ${report.namespaces.join(' ') || '(none)'} (${Date.now() - t0} ms)`);
      return 0;
    }
    case 'status': {
      const s = status(dir);
      say(`namespaces: ${s.namespaces.join(' ') || '(none)'}`);
      for (const p of s.processes) say(`${p.alive ? 'up  ' : 'DOWN'} ${p.name} pid ${p.pid} in ${p.ns}: ${p.command}`);
      if (s.state?.readyAt !== undefined) say(`ready since ${s.state.readyAt}`);
      return s.processes.length > 0 && s.processes.every((p) => p.alive) ? 0 : 1;
    }
    default:
      process.stderr.write('usage: npm run stack [-- up [--nodes 2]|down|status]\n');
      return 2;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    const [first, ...rest] = process.argv.slice(2);
  process.exitCode = first === undefined || first.startsWith('--') ? await main('up', process.argv.slice(2)) : await main(first, rest);
}
