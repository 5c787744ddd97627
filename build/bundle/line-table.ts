/**
 * Step 4: the line table, the one line appended after the code so that the
 * entry wrapper logs TypeScript file:line at run time (src/ksr/line-table.ts
 * decodes it and documents the format). It describes the lowered, dedented
 * bundle, i.e. the final lines of dist/kamailio.js, with the rule map-stack
 * uses: a bundle line maps to the first statement on it. It comes after the
 * code and before the build id is computed, so it moves no code line and the
 * id covers it.
 *
 * Cost in the bundle: one character for most lines (a TypeScript line delta
 * as a letter, runs of consecutive lines as one capital letter), plus each
 * file name once; about 1 KiB for the 885 lines of the routing.
 */
import { LINE_TABLE_GLOBAL } from '../../src/ksr/line-table.ts';
import type { SourceLocator } from './source-locator.ts';

export interface LinePosition {
  /** Project-relative TypeScript file. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
}

const LARGEST_LETTER_DELTA = 25;
const LONGEST_RUN = 27;
const SHORTEST_RUN = 2;

/** @param positions index 0 is bundle line 1; undefined where the line has no mapping. */
export function encodeLineTable(positions: readonly (LinePosition | undefined)[]): string {
  const files: string[] = [];
  const lastLine: number[] = [];
  let body = '';
  let current = 0;
  let unmapped = 0;
  let run = 0;
  const flushUnmapped = (): void => {
    if (unmapped > 0) body += unmapped === 1 ? '-' : `${unmapped}-`;
    unmapped = 0;
  };
  const flushRun = (): void => {
    for (; run >= SHORTEST_RUN; run -= Math.min(run, LONGEST_RUN)) {
      body += String.fromCharCode(65 + Math.min(run, LONGEST_RUN) - SHORTEST_RUN);
    }
    if (run === 1) body += 'b';
    run = 0;
  };
  for (const position of positions) {
    if (position === undefined) {
      flushRun();
      unmapped++;
      continue;
    }
    flushUnmapped();
    if (!Number.isInteger(position.line) || position.line < 1) {
      throw new Error(`line table: TypeScript line ${position.line} of ${position.file} is not a line number`);
    }
    let file = files.indexOf(position.file);
    if (file < 0) {
      if (/[|\n\r\u2028\u2029]/.test(position.file)) {
        throw new Error(`line table: file name ${JSON.stringify(position.file)} contains "|" or a line break`);
      }
      file = files.push(position.file) - 1;
      lastLine.push(0);
    }
    if (file !== current) {
      flushRun();
      body += `${file}:`;
      current = file;
    }
    const delta = position.line - lastLine[file]!;
    lastLine[file] = position.line;
    if (delta === 1) {
      run++;
      continue;
    }
    flushRun();
    if (delta < 0) body += `${-delta}~`;
    else if (delta > LARGEST_LETTER_DELTA) body += `${delta}+`;
    else body += String.fromCharCode(97 + delta);
  }
  flushRun();
  return body + files.map((file) => `|${file}`).join('');
}

/** Per line of `code`, where the map says its first statement comes from. */
export function linePositions(code: string, locator: SourceLocator): (LinePosition | undefined)[] {
  return code.split('\n').map((_, index) => locator.onLine(index + 1));
}

/** The statement appended to the bundle: one line, no line break. */
export function lineTableStatement(table: string): string {
  return `var ${LINE_TABLE_GLOBAL} = ${JSON.stringify(table)};`;
}
