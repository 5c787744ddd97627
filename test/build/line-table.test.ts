import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeLineTable, lineTableStatement, type LinePosition } from '../../build/bundle/line-table.ts';
import { decodeLineTable, LINE_TABLE_GLOBAL } from '../../src/ksr/line-table';

const at = (file: string, line: number): LinePosition => ({ file, line });

/** What the runtime answers for each bundle line 1..n, as the build meant it. */
function expected(positions: readonly (LinePosition | undefined)[]): string[] {
  return positions.map((p) => (p === undefined ? '' : `${p.file}:${p.line}`));
}

function decodedLines(table: string, count: number): string[] {
  const decoded = decodeLineTable(table);
  return Array.from({ length: count }, (_, i) => decoded[i + 1] ?? '');
}

describe('line table: what the build appends so the runtime knows the TypeScript line of each bundle line', () => {
  it('gives back every mapped line and no position for lines without one, across several files', () => {
    const positions = [
      undefined,
      undefined,
      at('src/main.ts', 3),
      at('src/main.ts', 4),
      undefined,
      at('src/routing/relay.ts', 42),
      at('src/routing/relay.ts', 43),
      at('src/routing/relay.ts', 44),
      at('src/main.ts', 9),
      at('src/main.ts', 9),
      at('src/main.ts', 2),
      at('src/routing/relay.ts', 120),
      undefined,
    ];
    const table = encodeLineTable(positions);
    expect(decodedLines(table, positions.length)).toEqual(expected(positions));
  });

  it('costs about one character per line for code written line after line, plus each file name once', () => {
    const positions = Array.from({ length: 400 }, (_, i) => at(i < 200 ? 'src/a.ts' : 'src/b.ts', (i % 200) * 2 + 1));
    const table = encodeLineTable(positions);
    expect(table.length).toBeLessThanOrEqual(400 + '|src/a.ts|src/b.ts'.length + 10);
    const consecutive = Array.from({ length: 400 }, (_, i) => at('src/a.ts', i + 1));
    expect(encodeLineTable(consecutive).length).toBeLessThan(30);
  });

  it('round-trips any bundle: unmapped stretches, jumps back and forth, long runs, files revisited', () => {
    const position = fc.option(
      fc.record({ file: fc.constantFrom('src/main.ts', 'src/routing/relay.ts', 'test/x.ts'), line: fc.integer({ min: 1, max: 3000 }) }),
      { nil: undefined, freq: 4 },
    );
    const runOf = fc.tuple(position, fc.integer({ min: 1, max: 60 })).map(([start, length]) =>
      Array.from({ length }, (_, i) => (start === undefined ? undefined : at(start.file, start.line + i))),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(position.map((p) => [p]), runOf), { maxLength: 40 }), (chunks) => {
        const positions = chunks.flat();
        expect(decodedLines(encodeLineTable(positions), positions.length)).toEqual(expected(positions));
      }),
    );
  });

  it('is one JavaScript statement on one line, defining the global the runtime reads', () => {
    const statement = lineTableStatement(encodeLineTable([at('src/"odd"\\name.ts', 1)]));
    expect(statement).not.toContain('\n');
    const global: Record<string, unknown> = {};
    new Function('g', statement.replace(/^var /, 'g.'))(global);
    expect(decodeLineTable(global[LINE_TABLE_GLOBAL] as string)[1]).toBe('src/"odd"\\name.ts:1');
  });

  it('refuses a file name the table cannot hold and a line that is not a line number', () => {
    expect(() => encodeLineTable([at('src/a|b.ts', 1)])).toThrow('file name "src/a|b.ts" contains "|" or a line break');
    expect(() => encodeLineTable([at('src/a.ts', 0)])).toThrow('TypeScript line 0 of src/a.ts is not a line number');
  });
});

describe('decoding a table that is not what the build writes', () => {
  it('names the unexpected character and where it is', () => {
    expect(() => decodeLineTable('bb?b|src/a.ts')).toThrow('line table: unexpected "?" at offset 2');
  });

  it('names a file the table does not list', () => {
    expect(() => decodeLineTable('3:b|src/a.ts')).toThrow('line table: no file 3 at offset 2');
    expect(() => decodeLineTable('b')).toThrow('line table: no file 0 at offset 0');
  });
});
