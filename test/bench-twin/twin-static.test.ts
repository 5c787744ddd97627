/**
 * The benchmark compares the TypeScript routing with bench/native/routing.cfg;
 * the comparison means something only while the native file is the same
 * routing. These checks fail as soon as one side changes without the other:
 * every route block calls the same module functions in both, enters the same
 * other blocks, and sends the same rtpengine flags and names the same
 * callbacks and sockets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_DIR } from '../../scripts/lib/env.ts';
import * as media from '../../src/routing/media';
import { SOCKET } from '../../src/routing/config';
import { readCfgBlocks, readTsBlocks } from './twin.ts';

const CFG_FILE = join(PROJECT_DIR, 'bench', 'native', 'routing.cfg');
const cfgText = readFileSync(CFG_FILE, 'utf8');
const tsBlocks = readTsBlocks(join(PROJECT_DIR, 'src', 'routing'));
const cfgBlocks = readCfgBlocks(cfgText, new Set(tsBlocks.keys()));
const sorted = (s: ReadonlySet<string>): string[] => [...s].sort();

describe('bench/native/routing.cfg is the twin of src/routing', () => {
  it('has a native block for every TypeScript route block and entry point, and no other', () => {
    expect(sorted(new Set(cfgBlocks.keys()))).toEqual(sorted(new Set(tsBlocks.keys())));
  });

  for (const [name, block] of tsBlocks) {
    it(`${name} calls the same functions (KEMI call as native cfg names it) and enters the same blocks`, () => {
      const native = cfgBlocks.get(name);
      expect(native, `no ${name} in ${CFG_FILE}`).toBeDefined();
      expect({ calls: sorted(native!.calls), routes: sorted(native!.routes) }).toEqual({
        calls: sorted(block.calls),
        routes: sorted(block.routes),
      });
    });
  }

  it('hands rtpengine the flag strings of src/routing/media.ts, each of them', () => {
    const used = [...cfgText.matchAll(/rtpengine_manage\("([^"]*)"\)/g)].map((m) => m[1]).sort();
    const flags = [media.OFFER_TO_MEDIA_SERVER, media.OFFER_TO_WEBRTC_CLIENT, media.OFFER_TO_CLIENT, media.ANSWER_TO_WEBRTC_CLIENT, media.ANSWER_TO_PLAIN_PEER];
    expect(used).toEqual([...flags].sort());
  });

  it('names only the sockets of src/routing/config.ts, all of them', () => {
    const used = new Set([...cfgText.matchAll(/set_send_socket_name\("([^"]*)"\)/g)].map((m) => m[1]!));
    const sockets = [SOCKET.publicUdp, SOCKET.publicTcp, SOCKET.publicTls, SOCKET.privateUdp, SOCKET.privateTcp];
    expect(sorted(used)).toEqual(sorted(new Set<string>(sockets)));
  });

  it('arms the native twins of the TypeScript callbacks', () => {
    expect([...cfgText.matchAll(/t_on_reply\("(\w+)"\)/g)].map((m) => m[1])).toEqual(['MANAGE_REPLY']);
    expect(new Set([...cfgText.matchAll(/t_on_failure\("(\w+)"\)/g)].map((m) => m[1]))).toEqual(new Set(['MANAGE_FAILURE', 'HANDOVER_FAILURE']));
  });
});
