/**
 * The build id is the first 12 hex digits of the sha256 of the bundle as
 * emitted with the placeholder still in it; stamping then swaps the
 * placeholder for the id. Both have the same length, so no column of the
 * source map moves, and anyone can recompute the id from the file by putting
 * the placeholder back.
 */
import { createHash } from 'node:crypto';

const BUILD_ID_LENGTH = 12;

/** What `__KSR_BUILD_ID__` (src/build-info.ts) is defined as before stamping. */
export const BUILD_ID_PLACEHOLDER = '@@KSRBUILD@@';

export function sha256Hex(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

export function stampBuildId(code: string): { readonly code: string; readonly buildId: string } {
  const buildId = sha256Hex(code).slice(0, BUILD_ID_LENGTH);
  return { code: code.split(BUILD_ID_PLACEHOLDER).join(buildId), buildId };
}
