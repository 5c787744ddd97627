/**
 * Renders one facade module (src/ksr/generated/<module>.ts) from the API
 * description: a thin wrapper per KEMI function that reads the global KSR at
 * call time (so the mock can be swapped per test) and adapts the result:
 * int status -> boolean, int codes -> a typed literal union, callbacks ->
 * branded names. Wrappers allocate nothing; esbuild drops the unused ones,
 * and the build inlines the rest at their call sites from the inline table
 * rendered here too (build/bundle/inline-facade.ts).
 */
import type { KemiFunction, KemiParamType, KemiReturnType } from '../kemi/api-list.ts';
import { kemiPath } from '../kemi/api-list.ts';
import type { Adaptation, CodesAdaptation } from './overlay.ts';

export interface ParamNames {
  readonly source: string;
  readonly functions: Readonly<Record<string, { readonly params: readonly string[] }>>;
  readonly docs: Readonly<Record<string, string>>;
}

export interface RenderInput {
  readonly module: string;
  readonly functions: readonly KemiFunction[];
  readonly overlay: Readonly<Record<string, Adaptation>>;
  readonly names: ParamNames;
  readonly header: string;
}

const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in',
  'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try',
  'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface',
  'package', 'private', 'protected', 'public', 'await', 'arguments', 'eval',
]);

const TS_PARAM: Record<KemiParamType, string> = { str: 'string', int: 'number' };
const RAW_RETURN: Record<KemiReturnType, string> = {
  int: 'number',
  bool: 'boolean',
  xval: 'KemiValue',
  str: 'string',
  none: 'void',
};

export function moduleFileName(module: string): string {
  return module === '' ? 'core' : module;
}

/** Property name of the KSR object that holds a module: KSR.tm, or KSR itself for core. */
function rawAccess(module: string): string {
  return module === '' ? 'KSR' : `KSR.${module}`;
}

function paramNames(fn: KemiFunction, names: ParamNames): string[] {
  const known = names.functions[kemiPath(fn.module, fn.name)]?.params;
  const usable = known && known.length === fn.params.length ? known : undefined;
  const seen = new Set<string>();
  return fn.params.map((_, i) => {
    let name = usable?.[i]?.replace(/[^A-Za-z0-9_]/g, '') || `p${i + 1}`;
    if (RESERVED.has(name) || /^\d/.test(name)) name = `${name}_`;
    while (seen.has(name)) name = `${name}_`;
    seen.add(name);
    return name;
  });
}

function codesTypeSource(codes: CodesAdaptation): string {
  const doc = codes.codes.map(([code, meaning]) => ` *  ${code}: ${meaning}`).join('\n');
  const union = codes.codes.map(([code]) => String(code)).join(' | ');
  return `/**\n * Result codes:\n${doc}\n */\nexport type ${codes.typeName} = ${union};\n`;
}

interface Rendered {
  readonly signature: string;
  readonly body: string;
  readonly returns: string;
}

function renderFunction(fn: KemiFunction, adaptation: Adaptation | undefined, names: string[]): Rendered {
  const params = fn.params.map((type, i) => {
    if (adaptation?.kind === 'callback' && adaptation.param === i) {
      return `${names[i]}: KemiCallback<'${adaptation.route}'>`;
    }
    return `${names[i]}: ${TS_PARAM[type]}`;
  });
  const call = `${rawAccess(fn.module)}.${fn.name}(${names.join(', ')})`;
  const signature = params.join(', ');
  if (fn.ret !== 'int') {
    const returns = RAW_RETURN[fn.ret];
    return { signature, returns, body: fn.ret === 'none' ? `${call};` : `return ${call};` };
  }
  switch (adaptation?.kind) {
    case 'codes':
      return { signature, returns: adaptation.typeName, body: `return ${call} as ${adaptation.typeName};` };
    case 'value':
      return { signature, returns: 'number', body: `return ${call};` };
    default:
      return { signature, returns: 'boolean', body: `return ${call} > 0;` };
  }
}

function docComment(fn: KemiFunction, adaptation: Adaptation | undefined, docUrl: string | undefined): string {
  const raw = `KSR.${kemiPath(fn.module, fn.name)}(${fn.params.join(', ') || 'none'}) -> ${fn.ret}`;
  const lines = [raw];
  if (fn.ret === 'int' && adaptation === undefined) lines.push('Adapted: true when the KEMI result is > 0.');
  if (adaptation?.kind === 'callback') lines.push('The callback name is checked against the bundle\'s globals at build time.');
  if (docUrl) lines.push(`@see ${docUrl}`);
  return `/**\n${lines.map((l) => ` * ${l}`).join('\n')}\n */`;
}

function rawDeclaration(module: string, functions: readonly KemiFunction[], names: ParamNames): string {
  const members = functions.map((fn) => {
    const ps = paramNames(fn, names).map((n, i) => `${n}: ${TS_PARAM[fn.params[i]!]}`);
    return `  ${fn.name}(${ps.join(', ')}): ${RAW_RETURN[fn.ret]};`;
  });
  const shape = `{\n${members.join('\n')}\n}`;
  return module === '' ? `declare const KSR: ${shape};` : `declare const KSR: { readonly ${module}: ${shape} };`;
}

/** File name of the inline table in the generated directory. */
export const INLINE_TABLE = 'inline.json';

/** What build/bundle/inline-facade.ts needs to inline one wrapper: its parameter names and body, as rendered. */
export interface InlineEntry {
  readonly params: readonly string[];
  readonly body: string;
}

/** The inline entry of every function of a module, by name, in the module's order. */
export function inlineEntries(input: Omit<RenderInput, 'header'>): Map<string, InlineEntry> {
  const { functions, overlay, names } = input;
  const sorted = [...functions].sort((a, b) => a.name.localeCompare(b.name));
  const entries = new Map<string, InlineEntry>();
  for (const fn of sorted) {
    const params = paramNames(fn, names);
    entries.set(fn.name, { params, body: renderFunction(fn, overlay[kemiPath(fn.module, fn.name)], params).body });
  }
  return entries;
}

export interface InlineTableModule {
  /** The facade file name without .ts (core for the core functions). */
  readonly file: string;
  /** Of the module's generated .ts: the inliner uses the table only while it matches. */
  readonly sha256: string;
  readonly entries: ReadonlyMap<string, InlineEntry>;
}

/**
 * src/ksr/generated/inline.json: every wrapper's parameters and body, so the
 * build inlines them without parsing 190 KB of generated TypeScript. One line
 * per function keeps its diffs readable.
 */
export function renderInlineTable(source: string, modules: readonly InlineTableModule[]): string {
  const moduleTexts = modules.map((module) => {
    const fns = [...module.entries].map(([name, entry]) => `      ${JSON.stringify(name)}: ${JSON.stringify(entry)}`);
    return [
      `    ${JSON.stringify(module.file)}: {`,
      `      "sha256": ${JSON.stringify(module.sha256)},`,
      `      "functions": {`,
      fns.map((line) => `  ${line}`).join(',\n'),
      '      }',
      '    }',
    ].join('\n');
  });
  return [
    '{',
    `  "generated": ${JSON.stringify(`by build/typegen/typegen.ts from ${source}; read by build/bundle/inline-facade.ts`)},`,
    '  "modules": {',
    moduleTexts.join(',\n'),
    '  }',
    '}',
    '',
  ].join('\n');
}

export function renderModule(input: RenderInput): string {
  const { module, functions, overlay, names, header } = input;
  const sorted = [...functions].sort((a, b) => a.name.localeCompare(b.name));
  const docUrl = names.docs[module];
  const usesCallback = sorted.some((fn) => overlay[kemiPath(fn.module, fn.name)]?.kind === 'callback');
  const usesValue = sorted.some((fn) => fn.ret === 'xval');
  const out: string[] = [header, ''];
  if (usesCallback) out.push("import type { KemiCallback } from '../callback';");
  if (usesValue) out.push("import type { KemiValue } from '../value';");
  if (usesCallback || usesValue) out.push('');
  out.push('// The real KSR global of app_jsdt, as far as this module is concerned.');
  out.push(rawDeclaration(module, sorted, names), '');
  for (const fn of sorted) {
    const adaptation = overlay[kemiPath(fn.module, fn.name)];
    if (adaptation?.kind === 'codes') out.push(codesTypeSource(adaptation));
    const rendered = renderFunction(fn, adaptation, paramNames(fn, names));
    out.push(docComment(fn, adaptation, docUrl));
    out.push(`export function ${fn.name}(${rendered.signature}): ${rendered.returns} {`);
    out.push(`  ${rendered.body}`);
    out.push('}', '');
  }
  return out.join('\n');
}
