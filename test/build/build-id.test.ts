import { describe, expect, it } from 'vitest';
import { BUILD_ID_PLACEHOLDER, sha256Hex, stampBuildId } from '../../build/bundle/build-id.ts';

describe('build id', () => {
  it('is the first 12 hex digits of the sha256 of the bundle before stamping', () => {
    const code = `var BUILD_ID = "${BUILD_ID_PLACEHOLDER}";\n`;
    expect(stampBuildId(code).buildId).toBe(sha256Hex(code).slice(0, 12));
  });

  it('replaces every placeholder with an id of the same length, so no map column moves', () => {
    const code = `a("${BUILD_ID_PLACEHOLDER}");\nb("${BUILD_ID_PLACEHOLDER}");\n`;
    const stamped = stampBuildId(code);
    expect(stamped.code).toBe(`a("${stamped.buildId}");\nb("${stamped.buildId}");\n`);
    expect(stamped.code.length).toBe(code.length);
  });

  it('can be recomputed from the stamped file by putting the placeholder back', () => {
    const stamped = stampBuildId(`x("${BUILD_ID_PLACEHOLDER}");`);
    const unstamped = stamped.code.split(stamped.buildId).join(BUILD_ID_PLACEHOLDER);
    expect(sha256Hex(unstamped).slice(0, 12)).toBe(stamped.buildId);
  });
});
