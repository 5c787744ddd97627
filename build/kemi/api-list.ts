/**
 * Parser for the output of Kamailio's `app_jsdt.api_list` RPC (kamcmd's text
 * rendering). This is the single API description that feeds the generated KSR
 * typings (build/typegen) and the mock's surface check (mocks/), so the two
 * cannot drift apart.
 */
import { readFileSync } from 'node:fs';

export type KemiParamType = 'str' | 'int';
export type KemiReturnType = 'int' | 'bool' | 'xval' | 'none' | 'str';

export interface KemiFunction {
  /** '' for core functions (KSR.info), otherwise the KSR sub-object (KSR.tm). */
  readonly module: string;
  readonly name: string;
  readonly params: readonly KemiParamType[];
  readonly ret: KemiReturnType;
}

export interface KemiApi {
  readonly functions: readonly KemiFunction[];
  /** `module.name` (or `name` for core) -> function. */
  readonly byPath: ReadonlyMap<string, KemiFunction>;
}

const PARAM_TYPES: ReadonlySet<string> = new Set(['str', 'int']);
const RETURN_TYPES: ReadonlySet<string> = new Set(['int', 'bool', 'xval', 'none', 'str']);

export function kemiPath(module: string, name: string): string {
  return module === '' ? name : `${module}.${name}`;
}

/** Parses api_list text; throws naming the line on anything it does not understand. */
export function parseApiList(text: string, source = 'api_list'): KemiApi {
  const functions: KemiFunction[] = [];
  const lines = text.split(/\r?\n/);
  let declaredSize: number | undefined;
  let current: Record<string, string> | undefined;
  let startLine = 0;

  const fail = (lineNo: number, why: string): never => {
    throw new Error(`${source}:${lineNo}: ${why}`);
  };

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line === '{' || line === '}' || line === 'methods: {') {
      if (line === '}' && current) {
        functions.push(toFunction(current, startLine, fail));
        current = undefined;
      }
      return;
    }
    if (line === 'func: {') {
      if (current) fail(lineNo, 'nested "func: {"');
      current = {};
      startLine = lineNo;
      return;
    }
    const match = /^(\w+):\s?(.*)$/.exec(line);
    if (!match) fail(lineNo, `unexpected line: ${line}`);
    const [, key, value] = match!;
    if (current) {
      current[key!] = value!;
    } else if (key === 'msize') {
      declaredSize = Number(value);
    } else {
      fail(lineNo, `unexpected key outside a func block: ${key}`);
    }
  });

  if (current) fail(lines.length, 'unterminated func block');
  if (declaredSize !== undefined && declaredSize !== functions.length) {
    throw new Error(`${source}: msize says ${declaredSize} functions, found ${functions.length}`);
  }
  const byPath = new Map<string, KemiFunction>();
  for (const fn of functions) {
    const path = kemiPath(fn.module, fn.name);
    if (byPath.has(path)) throw new Error(`${source}: duplicate function ${path}`);
    byPath.set(path, fn);
  }
  return { functions, byPath };
}

function toFunction(
  fields: Record<string, string>,
  lineNo: number,
  fail: (lineNo: number, why: string) => never,
): KemiFunction {
  const { ret, module, name, params } = fields;
  if (ret === undefined || module === undefined || name === undefined || params === undefined) {
    return fail(lineNo, 'func block lacks one of ret/module/name/params');
  }
  if (!RETURN_TYPES.has(ret)) fail(lineNo, `unknown return type "${ret}" for ${name}`);
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) fail(lineNo, `unexpected function name "${name}"`);
  const paramList = params === 'none' ? [] : params.split(',').map((p) => p.trim());
  for (const p of paramList) {
    if (!PARAM_TYPES.has(p)) fail(lineNo, `unknown parameter type "${p}" for ${name}`);
  }
  return {
    module,
    name,
    params: paramList as KemiParamType[],
    ret: ret as KemiReturnType,
  };
}

export const DEFAULT_API_LIST = new URL('./api_list-5.6.3.txt', import.meta.url);

export function loadApiList(path: string | URL = DEFAULT_API_LIST): KemiApi {
  return parseApiList(readFileSync(path, 'utf8'), String(path));
}
