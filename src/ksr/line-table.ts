/**
 * The TypeScript file:line of each bundle stack frame, at run time.
 *
 * Duktape's stack frames carry bundle lines only (`at relay2 (eval:161)`).
 * The build appends one line after every line of code of dist/kamailio.js
 * (so no code line moves): `var __ksr_ts_lines = "<table>";`, the part of the
 * source map a frame needs: per bundle line, the TypeScript file and line of
 * its first statement, the same rule `npm run map-stack` applies
 * (build/bundle/line-table.ts writes it). Loading the bundle only assigns the
 * string; it is decoded on the first crash and kept, so a message that does
 * not crash costs nothing.
 *
 * Table text: the body, then each file name preceded by "|" (file index 0
 * first). The body reads bundle lines from line 1 on; a line past its end has
 * no mapping. Per token (n: decimal digits in front of the token's sign):
 *
 *   a..z   one line, TypeScript line = the last one seen in the current file + 0..25
 *   A..Z   2..27 lines, each one TypeScript line after the previous
 *   n+     one line, last + n          n~   one line, last - n
 *   n-     n lines without a mapping ("-" alone: one line)
 *   n:     the lines that follow are in file n (file 0 until the first ":")
 *
 * "The last one seen" is remembered per file (0 before its first line), so
 * coming back to a file after another one costs no absolute line number.
 */

/** The global the build's last line defines (build/bundle/line-table.ts). */
export const LINE_TABLE_GLOBAL = '__ksr_ts_lines';

/** Per bundle line (index = line, 1-based), "file:line" of TypeScript, or "" where there is none. */
export type DecodedLineTable = readonly string[];

/** Throws on a token the format does not have or a file the table does not list. */
export function decodeLineTable(table: string): DecodedLineTable {
  const files = table.split('|');
  const body = files.shift() as string;
  const lastLine: number[] = [];
  for (let f = 0; f < files.length; f++) lastLine.push(0);
  const positions: string[] = [''];
  let file = 0;
  let digits = '';
  for (let at = 0; at < body.length; at++) {
    const sign = body.charAt(at);
    if (sign >= '0' && sign <= '9') {
      digits += sign;
      continue;
    }
    const n = digits === '' ? 1 : parseInt(digits, 10);
    digits = '';
    let lines = 1;
    let delta = 1;
    if (sign === '-') {
      for (let i = 0; i < n; i++) positions.push('');
      continue;
    }
    if (sign === ':') {
      file = n;
      continue;
    }
    if (sign === '+') delta = n;
    else if (sign === '~') delta = -n;
    else if (sign >= 'a' && sign <= 'z') delta = sign.charCodeAt(0) - 97;
    else if (sign >= 'A' && sign <= 'Z') lines = sign.charCodeAt(0) - 63;
    else throw new Error('line table: unexpected "' + sign + '" at offset ' + at);
    if (file >= files.length) throw new Error('line table: no file ' + file + ' at offset ' + at);
    for (; lines > 0; lines--) {
      lastLine[file] = (lastLine[file] as number) + delta;
      positions.push(files[file] + ':' + lastLine[file]);
    }
  }
  return positions;
}

/** `    at <function> (<file>:<line>) <flags>`, as Duktape prints a frame. */
const FRAME = /^(\s*at \S+ \()([^()]*):(\d+)\)/;

/**
 * The frames of a Duktape stack with the TypeScript position in place of the
 * bundle's (`    at relay2 (src/routing/relay.ts:42)`), or undefined when no
 * frame has one. Frames in Duktape's C sources (`duk_js_call.c:1349`) and
 * lines without a mapping are kept as they are. app_jsdt runs one script, so
 * any other frame is a bundle frame, whatever name Duktape gives the file.
 */
export function typeScriptFrames(stack: string, table: DecodedLineTable): string | undefined {
  let mapped = 0;
  const frames: string[] = [];
  const lines = stack.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const frame = FRAME.exec(line);
    if (frame === null) continue;
    const file = frame[2] as string;
    const position = /\.c$/.test(file) ? '' : (table[Number(frame[3])] ?? '');
    if (position === '') {
      frames.push(line);
    } else {
      frames.push(frame[1] + position + ')');
      mapped++;
    }
  }
  return mapped > 0 ? frames.join('\n') : undefined;
}

declare const __ksr_ts_lines: unknown;

let decodedFrom: string | undefined;
let decoded: DecodedLineTable | undefined;

/**
 * typeScriptFrames() against the table of the running bundle, decoded on
 * first use and kept (a reload brings a new table, and a new module). Empty
 * when there is no table (unit tests run the sources, not the bundle).
 * Throws when the table is malformed.
 */
export function runningTypeScriptFrames(stack: string): string | undefined {
  const table = typeof __ksr_ts_lines === 'string' ? __ksr_ts_lines : undefined;
  if (table === undefined) return undefined;
  if (decoded === undefined || decodedFrom !== table) {
    decoded = decodeLineTable(table);
    decodedFrom = table;
  }
  return typeScriptFrames(stack, decoded);
}
