/**
 * Step 3: drops the indentation swc prints (about a fifth of the bundle)
 * while keeping every line break, so the bundle stays one statement per line
 * for Duktape's line-only stack traces and fits more routing in the 128 KiB
 * app_jsdt limit. Only columns move, so the map is shifted column-wise.
 *
 * Safe on ES5 output: no template literals, and neither esbuild nor swc prints
 * a string continued over a line break, so leading blanks are never data.
 */
import { decodedMap, encodedMap, TraceMap } from '@jridgewell/trace-mapping';
import type { CodeWithMap } from './bundle-typescript.ts';

export function dedent(input: CodeWithMap): CodeWithMap {
  const lines = input.code.split('\n');
  const indents = lines.map((line) => line.length - line.trimStart().length);
  const decoded = decodedMap(new TraceMap(input.map));
  const mappings = decoded.mappings.map((segments, index) => {
    const indent = indents[index] ?? 0;
    return segments.map((segment) => {
      const shifted = [...segment] as typeof segment;
      shifted[0] = Math.max(0, segment[0] - indent);
      return shifted;
    });
  });
  const map = encodedMap(new TraceMap({ ...decoded, mappings }));
  return { code: lines.map((line, index) => line.slice(indents[index])).join('\n'), map: JSON.stringify(map) };
}
