import { describe, expect, it } from 'vitest';
import { checkSize, JSDT_SCRIPT_MAX_SIZE } from '../../build/guards/size.ts';
import { craftedBundle, messages } from './crafted-bundle.ts';

/** A one-line bundle of `bytes` bytes, all of it mapped to src/ksr/generated/core.ts. */
function bundleOf(bytes: number) {
  const prefix = 'var s = "';
  const code = `${prefix}${'x'.repeat(bytes - prefix.length - 2)}";`;
  return craftedBundle(code, { sources: ['../src/ksr/generated/core.ts'], mappings: 'AAAA' });
}

describe('size guard', () => {
  it('accepts a bundle of exactly 128 KiB', () => {
    expect(checkSize(bundleOf(JSDT_SCRIPT_MAX_SIZE))).toEqual([]);
  });

  it('refuses a bundle over 128 KiB, naming its size and the largest sources', () => {
    expect(messages(checkSize(bundleOf(JSDT_SCRIPT_MAX_SIZE + 1)))).toEqual([
      'kamailio.js is 131073 bytes (128.0 KiB), over the 131072-byte (128 KiB) limit: Kamailio 5.6-6.0 reads at ' +
        'most JSDT_SCRIPT_MAX_SIZE bytes of the script and silently truncates the rest. ' +
        'Largest sources: src/ksr/generated/core.ts 128.0 KiB',
    ]);
  });

  it('counts bytes, not characters', () => {
    const code = `var s = "${'é'.repeat(JSDT_SCRIPT_MAX_SIZE / 2)}";`;
    expect(messages(checkSize(craftedBundle(code)))).toEqual([
      expect.stringMatching(/^kamailio\.js is 131083 bytes.*the rest\.$/),
    ]);
  });
});
