/**
 * On a real Kamailio 5.6.3: an unexpected exception in a route is logged with
 * its stack and the build id and answered 500 (app_jsdt alone drops the
 * request silently), the log names the TypeScript file:line of the throw by
 * itself (the line table in the bundle), the logged trace maps back to the
 * same line with map-stack, and KSR exit/drop keep their meaning through the
 * wrapper.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuild } from '../../build/bundle/pipeline.ts';
import { DEFAULT_API_LIST } from '../../build/kemi/api-list.ts';
import { stackMapperForFile } from '../../build/map-stack.ts';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { SipClient } from '../support/sip-client.ts';

const FIXTURE = 'test/fixtures/crash/main.ts';
/** The fixture's line that throws. */
const THROW_LINE = readFileSync(join(PROJECT_DIR, FIXTURE), 'utf8').split('\n').findIndex((l) => l.includes('throw new Error(')) + 1;

describe('an exception in the routing, on a real Kamailio', () => {
  let kam: KamailioInstance;
  let client: SipClient;
  let buildId: string;
  let mapPath: string;
  let failed = false;

  beforeAll(async () => {
    const built = await runBuild({
      projectRoot: PROJECT_DIR,
      entry: join(PROJECT_DIR, FIXTURE),
      outDir: join(mkdtempSync(join(tmpdir(), 'ksr-crash-')), 'dist'),
      tsconfig: join(PROJECT_DIR, 'tsconfig.json'),
      cfgPath: join(PROJECT_DIR, 'test/fixtures/crash/no-cfg-callbacks'),
      apiListPath: DEFAULT_API_LIST,
      typeCheck: false,
      duktape: true,
    });
    expect(built.problems.map((p) => p.message)).toEqual([]);
    buildId = built.info!.buildId;
    mapPath = `${built.bundlePath}.map`;
    kam = await startKamailio({ name: 'crash-reply', bundle: built.bundlePath, tls: false });
    client = await SipClient.open({ transport: 'udp', remoteAddress: kam.localIp, remotePort: kam.ports.sip });
  });

  afterAll(async () => {
    client?.close();
    await kam?.stop({ failed });
  });

  const options = (user: string) => ({ method: 'OPTIONS', uri: `sip:${user}@${kam.publicIp}:${kam.ports.sip}` });

  it('answers 500 instead of dropping the request, and logs the stack with the build id', async () => {
    const replies = await client.request(options('boom'));
    expect(replies.map((r) => `${r.status} ${r.reason}`)).toEqual(['500 Server Internal Error']);
    const log = kam.daemon.log();
    expect(log).toContain(`routing error in ksr_request_route (build ${buildId}): Error: fixture bug on purpose`);
  });

  it('logs a trace that npm run map-stack turns into the TypeScript file and line of the throw', () => {
    const logged = kam.daemon.log().split('\n').filter((line) => line.includes('routing error in') || /^\s+at /.test(line));
    const mapped = stackMapperForFile(mapPath, PROJECT_DIR)(logged.join('\n'));
    expect(mapped).toContain(`at route (${FIXTURE}:${THROW_LINE} <- `);
  });

  it('names the TypeScript file:line of the throw in the log by itself, below the bundle lines', () => {
    const log = kam.daemon.log();
    const crash = log.slice(log.indexOf('routing error in ksr_request_route'));
    expect(crash).toMatch(/^routing error in ksr_request_route \(build \w+\): Error: fixture bug on purpose\n\s+at route \(eval:\d+\)/);
    expect(crash).toContain(`TypeScript stack:\n    at route (${FIXTURE}:${THROW_LINE})\n    at guarded (src/ksr/entry.ts:`);
  });

  it('keeps KSR.x.exit(): the reply sent before it stands, nothing after it runs', async () => {
    const replies = await client.request(options('exit'));
    expect(replies.map((r) => r.status)).toEqual([202]);
  });

  it('keeps KSR.x.drop(): no reply at all, and the worker serves the next request', async () => {
    await expect(client.request(options('drop'), 800)).rejects.toThrow();
    const next = await client.request(options('anyone'));
    expect(next.map((r) => r.status)).toEqual([200]);
  });
});
