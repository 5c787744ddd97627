/**
 * npm run stack [-- up]    bring the topology up (leftovers of an earlier run are removed first),
 *                          with dist/kamailio.js as built (npm run build after changing the routing)
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

async function main(command: string): Promise<number> {
  const dir = stackDir();
  switch (command) {
    case 'up': {
      try {
        // Like npm start: the Debian packages it needs, installed when missing.
        execFileSync('bash', [join(PROJECT_DIR, 'scripts', 'install-system-deps.sh')], { stdio: 'inherit' });
        await up({ dir, say });
      } catch (err) {
        say(`bring-up FAILED: ${(err as Error).message}`);
        const report = down({ dir, keepLogs: true });
        say(`torn down (${report.namespaces.length} namespaces); logs kept in ${dir}/logs`);
        return 1;
      }
      say(summary(dir));
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
      process.stderr.write('usage: npm run stack [-- up|down|status]\n');
      return 2;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv[2] ?? 'up');
}
