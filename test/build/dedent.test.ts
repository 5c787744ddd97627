import { describe, expect, it } from 'vitest';
import { transform } from 'esbuild';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import { dedent } from '../../build/bundle/dedent.ts';
import { lowerToEs5 } from '../../build/bundle/lower-es5.ts';

const SOURCE = `export function route(method: string): number {
  if (method === 'INVITE') {
    const codes = [100, 180];
    return codes.length;
  }
  return 0;
}
`;

describe('dedent', () => {
  it('drops the indentation swc prints and keeps every line break', async () => {
    const lowered = await lowerTs(SOURCE);
    const flat = dedent(lowered);
    const lines = flat.code.split('\n');
    expect(lines).toHaveLength(lowered.code.split('\n').length);
    expect(lines.filter((line) => line !== line.trimStart())).toEqual([]);
    expect(flat.code.length).toBeLessThan(lowered.code.length);
  });

  it('shifts the map with the code, so each statement still maps to its TypeScript position', async () => {
    const lowered = await lowerTs(SOURCE);
    const flat = dedent(lowered);
    const line = lowered.code.split('\n').findIndex((text) => text.includes('return codes.length')) + 1;
    const indent = lowered.code.split('\n')[line - 1]!.indexOf('return');
    expect(indent).toBeGreaterThan(0);
    const before = originalPositionFor(new TraceMap(lowered.map), { line, column: indent });
    const after = originalPositionFor(new TraceMap(flat.map), { line, column: 0 });
    expect(after).toEqual(before);
    expect(after).toMatchObject({ source: 'route.ts', line: 4 });
  });
});

async function lowerTs(source: string) {
  const stripped = await transform(source, { loader: 'ts', format: 'iife', sourcemap: 'external', sourcefile: 'route.ts' });
  return lowerToEs5({ code: stripped.code, map: stripped.map }, 'bundle.js');
}
