import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { typeCheck } from '../../build/bundle/typecheck.ts';

/** A throwaway project with the routing tsconfig's ES5 lib, so Duktape-missing APIs do not compile. */
function project(source: string): string {
  const root = mkdtempSync(join(tmpdir(), 'typecheck-'));
  writeFileSync(
    join(root, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, lib: ['ES5'], types: [], noEmit: true }, include: ['*.ts'] }),
  );
  writeFileSync(join(root, 'main.ts'), source);
  return root;
}

describe('typeCheck', () => {
  it('reports type errors as file:line:col with the TypeScript code', () => {
    const root = project('export const ok = 1;\nexport const seen = new Map<string, number>();\n');
    expect(typeCheck(join(root, 'tsconfig.json'), root)).toEqual([
      expect.stringMatching(/^main\.ts:2:25 error TS2583: Cannot find name 'Map'\./),
    ]);
  });

  it('returns nothing for a project that compiles', () => {
    const root = project('export function double(n: number): number {\n  return n * 2;\n}\n');
    expect(typeCheck(join(root, 'tsconfig.json'), root)).toEqual([]);
  });

  it('reports a tsconfig that cannot be read', () => {
    expect(typeCheck('/nonexistent/tsconfig.json', '/')).toEqual([expect.stringContaining('error TS5083')]);
  });
});
