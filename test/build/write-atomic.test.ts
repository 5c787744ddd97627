import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../build/bundle/write-atomic.ts';

describe('writeFileAtomic', () => {
  it('replaces an existing file and leaves no temporary file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    writeFileSync(join(dir, 'kamailio.js'), 'old');
    writeFileAtomic(join(dir, 'kamailio.js'), 'new');
    expect(readFileSync(join(dir, 'kamailio.js'), 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['kamailio.js']);
  });

  it('creates the directory when it does not exist yet', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'atomic-')), 'dist', 'build-info.json');
    writeFileAtomic(path, '{}');
    expect(existsSync(path)).toBe(true);
  });
});
