/**
 * What the two-node e2e files (`useStack(label, { nodes: 2 })`) ask of the
 * stack: a node's services, its location table, subscribers registering
 * through the balancer, and a media server calling through one node.
 */
import { join } from 'node:path';
import type { ScaleNode } from '../../stack/scale.ts';
import type { StackNode } from '../../stack/scale-services.ts';
import { SIPP_DIR } from '../../stack/services.ts';
import { startSipp, type RunningSipp, type SippResult } from '../../stack/sipp.ts';
import { ADDR, MEDIA_SERVERS, NS, PORT, SIP_DOMAIN } from '../../stack/topology.ts';
import { password, waitFor, type Client, type StackContext } from './support.ts';

export function twoNodes(ctx: StackContext, label: string) {
  const node = (n: ScaleNode): StackNode => ctx.stack.nodes!.find((x) => x.name === n.name)!;

  return {
    node,

    /**
     * `kamcmd ul.lookup location USER` on a node, one line per contact: the
     * socket it came in on (`[not set]` on a node that got it over DMQ: not one
     * of its own) and the Server-Id (NODE_ID) of the node that took the REGISTER.
     */
    async bindings(on: ScaleNode, user: string): Promise<string[]> {
      const out = await node(on).rpc('ul.lookup', 'location', user).catch(() => '');
      return [...out.matchAll(/Socket: (.+?)\n[\s\S]*?Server-Id: (\d+)/g)].map((m) => `${m[1]!.trim()} server ${m[2]}`);
    },

    /** A subscriber registers through the balancer and then waits to be called (and answers), holding its socket or connection. */
    registerAndWait(name: string, client: Client, transport: 'udp' | 'tcp', port: number, user: string, holdMs = 60_000): RunningSipp {
      return startSipp({
        name,
        ns: client.ns,
        scenario: 'uac-register-await-call',
        remote: `${ADDR.PUBLIC_IP}:${PORT.SIP}`,
        localIp: client.ip,
        localPort: port,
        transport,
        args: ['-key', 'domain', SIP_DOMAIN, '-oocsf', join(SIPP_DIR, 'uas-client-answer-call.xml'), '-s', user, '-au', user, '-ap', password(user), '-d', String(holdMs)],
        dir: join(ctx.stack.dir, 'sipp', label),
        timeoutS: holdMs / 1000 + 10,
      });
    },

    registered: (run: RunningSipp, timeoutMs = 5000) =>
      waitFor('200 to the REGISTER', () => run.messages().find((t) => t.direction === 'received' && t.message.status === 200 && t.message.header('cseq')!.endsWith('REGISTER')), timeoutMs),

    /** A media server calls `user` through `via`'s private port; resolves with SIPp's result. */
    mediaServerCalls(name: string, ms: (typeof MEDIA_SERVERS)[number], via: ScaleNode, user: string): Promise<SippResult> {
      return ctx.startSippFrom({
        name,
        ns: NS[ms.host],
        ip: ms.address,
        remote: `${via.address}:${PORT.PRIVATE}`,
        transport: 'udp',
        scenario: 'uac-media-server-call-bye',
        args: ['-s', user, '-d', '300'],
      }).done;
    },
  };
}
