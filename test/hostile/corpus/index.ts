/**
 * The whole corpus, in the order it is sent (test/hostile/hostile.test.ts).
 *
 * An entry (types.ts) is a name, a category, the transports it is sent over,
 * a generator of its bytes (message.ts starts from one valid request, so an
 * entry changes one thing), and the answer it must get: a status, silence,
 * or a closed stream, each with its reason (expect.ts: the RFC section or
 * the Kamailio 5.6.3 code that decides it). Every send comes from its own
 * loopback address (127.66.x.y), so pike and the digest-failure counter
 * never see two sends from one source unless an entry wants them to.
 */
import { WEBSOCKET } from './websocket.ts';
import { ABUSE, STRAY, VIA } from './dialog.ts';
import { GARBAGE, PROXY } from './garbage.ts';
import { CSEQ_LENGTH, HEADERS } from './headers.ts';
import { MAX_FORWARDS, OVERSIZED, SDP } from './sizes.ts';
import { START_LINE } from './start-line.ts';
import type { Entry } from './types.ts';

export const CORPUS: readonly Entry[] = [
  ...START_LINE,
  ...HEADERS,
  ...CSEQ_LENGTH,
  ...OVERSIZED,
  ...SDP,
  ...MAX_FORWARDS,
  ...GARBAGE,
  ...PROXY,
  ...VIA,
  ...STRAY,
  ...ABUSE,
  ...WEBSOCKET,
];

export * from './types.ts';
