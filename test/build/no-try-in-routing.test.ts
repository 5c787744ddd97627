import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNoTryInRouting } from '../../build/guards/no-try-in-routing.ts';
import { messages } from './crafted-bundle.ts';

function projectWith(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'no-try-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('no-try-in-routing guard', () => {
  it('refuses a try statement in routing code, naming file:line, nested folders included', () => {
    const root = projectWith({
      'src/routing/relay.ts': 'export function relay(): void {}\n',
      'src/routing/nat/detect.ts': 'export function detect(): void {\n  try {\n    f();\n  } finally {\n    g();\n  }\n}\n',
    });
    expect(messages(checkNoTryInRouting(join(root, 'src/routing'), root))).toEqual([
      "try statement at src/routing/nat/detect.ts:2: routing code must not catch, because KSR.x.exit() throws '~~ksr~exit~~' " +
        'and a catch would swallow the exit; only the entry wrapper in src/ksr/ may catch',
    ]);
  });

  it('accepts a try in the entry wrapper outside src/routing', () => {
    const root = projectWith({ 'src/ksr/entry.ts': 'try { f(); } catch (e) { throw e; }\n', 'src/routing/a.ts': '' });
    expect(checkNoTryInRouting(join(root, 'src/routing'), root)).toEqual([]);
  });

  it('accepts an entry without a routing folder', () => {
    expect(checkNoTryInRouting('/nonexistent/routing', '/nonexistent')).toEqual([]);
  });
});
