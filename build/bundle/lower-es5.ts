/**
 * Step 2: swc lowers the esbuild IIFE to ES5, chaining esbuild's map so the
 * final map still points at the .ts sources.
 *
 * - `loose: true`: the spec-mode for-of/spread helpers call
 *   Array.prototype[Symbol.iterator], which Duktape lacks (the bundle failed
 *   to load in Kamailio); loose mode falls back to index loops over arrays.
 * - No minification: Duktape stack traces carry only line numbers, and swc's
 *   printer puts one statement per line, which keeps mapped traces precise.
 */
import { transform } from '@swc/core';
import type { CodeWithMap } from './bundle-typescript.ts';

export async function lowerToEs5(input: CodeWithMap, fileName: string): Promise<CodeWithMap> {
  const output = await transform(input.code, {
    filename: fileName,
    swcrc: false,
    configFile: false,
    isModule: false,
    sourceMaps: true,
    inputSourceMap: input.map,
    minify: false,
    jsc: {
      target: 'es5',
      loose: true,
      externalHelpers: false,
      parser: { syntax: 'ecmascript' },
    },
  });
  if (output.map === undefined) throw new Error('swc produced no source map');
  return { code: output.code, map: output.map };
}
