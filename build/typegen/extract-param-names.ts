/**
 * Extracts KEMI parameter NAMES from Kamailio's C sources.
 *
 * api_list (build/kemi/api_list-5.6.3.txt) gives module, name, parameter types
 * and return type of every KEMI function, but no parameter names. The C
 * sources have them: each module declares a `sr_kemi_t` export table whose
 * entries name the C implementation, and that implementation's signature
 * (`static int ki_t_on_failure(sip_msg_t *msg, str *rname)`) names the
 * parameters after the leading `sip_msg_t *msg`.
 *
 * Usage:
 *   npx tsx build/typegen/extract-param-names.ts --git-dir <mirror.git> --ref <ref>
 *     [--out build/kemi/param-names-5.6.json] [--api-list build/kemi/api_list-5.6.3.txt]
 *
 * Only names are extracted; nothing of the C code is kept. A listed function
 * whose implementation cannot be found, or whose C parameter count/types do not
 * agree with api_list, is left out (and reported) rather than guessed.
 *
 * The parsing functions are exported and pure (text in, data out) so they can
 * be unit-tested on hand-written snippets (test/build/extract-param-names.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kemiPath, loadApiList, type KemiFunction, type KemiParamType } from '../kemi/api-list.ts';

// ---------------------------------------------------------------------------
// Pure parsing
// ---------------------------------------------------------------------------

/**
 * Replaces C comments with spaces (newlines kept, so offsets and line numbers
 * survive), leaving string and character literals untouched.
 */
export function stripCComments(src: string): string {
  let out = '';
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '/' && next === '/') {
      let stop = src.indexOf('\n', i);
      if (stop === -1) stop = n;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** KEMI type names as written in export tables (SR_KEMIP_<X>, lower-cased). */
export type KemiCType = 'none' | 'int' | 'str' | 'bool' | 'xval' | 'null' | 'dict' | 'array';

export interface KemiExportEntry {
  /** KSR sub-object ('' for core). */
  readonly module: string;
  readonly name: string;
  readonly ret: KemiCType;
  /** C implementation function named by the entry. */
  readonly cfunc: string;
  /** Parameter types, trailing SR_KEMIP_NONE slots removed. */
  readonly params: readonly KemiCType[];
}

const EXPORT_ENTRY_RE =
  /\{\s*str_init\(\s*"([^"]*)"\s*\)\s*,\s*str_init\(\s*"([^"]*)"\s*\)\s*,\s*SR_KEMIP_(\w+)\s*,\s*([A-Za-z_]\w*)\s*,\s*\{([^{}]*)\}\s*\}/g;

/**
 * Parses every `sr_kemi_t` entry of the form
 * `{ str_init("mod"), str_init("name"), SR_KEMIP_RET, cfunc, { SR_KEMIP_..., ... } }`
 * found in (comment-stripped) C source text.
 */
export function parseExportTable(src: string): KemiExportEntry[] {
  const text = stripCComments(src);
  const entries: KemiExportEntry[] = [];
  for (const m of text.matchAll(EXPORT_ENTRY_RE)) {
    const [, module, name, ret, cfunc, paramList] = m;
    const types = paramList!
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '')
      .map((t) => (/^SR_KEMIP_\w+$/.test(t) ? (t.slice('SR_KEMIP_'.length).toLowerCase() as KemiCType) : undefined));
    if (types.some((t) => t === undefined)) continue; // not a KEMI type list
    const params = [...(types as KemiCType[])];
    while (params.length > 0 && params[params.length - 1] === 'none') params.pop();
    entries.push({
      module: module!,
      name: name!,
      ret: ret!.toLowerCase() as KemiCType,
      cfunc: cfunc!,
      params,
    });
  }
  return entries;
}

/** Splits a C parameter list on top-level commas. */
export function splitParams(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of list) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim() !== '') parts.push(cur.trim());
  return parts;
}

export interface CSignature {
  /** Raw parameter declarations, whitespace-normalised: ['sip_msg_t *msg', 'str *rname']. */
  readonly params: readonly string[];
  /** true when taken from a function body definition, false for a prototype. */
  readonly definition: boolean;
}

const NOT_A_TYPE_BEFORE_NAME: ReadonlySet<string> = new Set([
  'return', 'else', 'case', 'goto', 'sizeof', 'define', 'if', 'while', 'for', 'switch', 'do',
]);

/**
 * Finds the definitions (and, failing those, prototypes) of C function `fname`
 * in source text. A match must be preceded by a type (an identifier or `*`)
 * and followed by `{` (definition) or `;` (prototype), which rules out calls.
 */
export function findFunctionSignatures(src: string, fname: string): CSignature[] {
  const text = stripCComments(src);
  const re = new RegExp(`(^|[^\\w$])${fname}\\s*\\(`, 'g');
  const defs: CSignature[] = [];
  const protos: CSignature[] = [];
  for (const m of text.matchAll(re)) {
    const nameStart = m.index! + m[1]!.length;
    // What precedes the name must end a type: an identifier or '*'.
    const before = text.slice(Math.max(0, nameStart - 200), nameStart);
    const prev = /([A-Za-z_]\w*|\*)\s*$/.exec(before);
    if (!prev || NOT_A_TYPE_BEFORE_NAME.has(prev[1]!)) continue;
    // Also reject anything on the same statement that is an expression (a = f(...)).
    const lineStart = before.lastIndexOf('\n');
    const sameLine = before.slice(lineStart + 1);
    if (/[=(,!&|?:]/.test(sameLine) || /^\s*#/.test(sameLine)) continue;
    // Balanced parameter list.
    let depth = 0;
    let i = m.index! + m[0].length - 1; // at '('
    const open = i;
    for (; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) break;
    }
    if (depth !== 0) continue;
    const inner = text.slice(open + 1, i);
    const after = /^\s*([{;])/.exec(text.slice(i + 1, i + 200));
    if (!after) continue;
    const params = splitParams(inner.replace(/\s+/g, ' '));
    const sig = { params: params.length === 1 && params[0] === 'void' ? [] : params, definition: after[1] === '{' };
    (sig.definition ? defs : protos).push(sig);
  }
  if (defs.length > 0) return defs;
  const generated = findMacroGeneratedSignatures(text, fname);
  return generated.length > 0 ? generated : protos;
}

/**
 * Functions generated by a function-like macro, e.g. tm's
 * `#define T_SET_FLAG_GEN_FUNC(fname, T_FLAG_NAME) static int fname(sip_msg_t* msg, int state) { ... }`
 * instantiated as `T_SET_FLAG_GEN_FUNC(t_set_auto_inv_100, T_AUTO_INV_100)`:
 * finds the instantiation, then the definition the macro body makes of its
 * name parameter, with other macro parameters substituted by the actual arguments.
 */
export function findMacroGeneratedSignatures(src: string, fname: string): CSignature[] {
  const text = stripCComments(src);
  const out: CSignature[] = [];
  const useRe = new RegExp(`^[ \\t]*([A-Za-z_]\\w*)\\s*\\(([^()]*\\b${fname}\\b[^()]*)\\)`, 'gm');
  for (const use of text.matchAll(useRe)) {
    const macro = use[1]!;
    const args = splitParams(use[2]!);
    const argIndex = args.indexOf(fname);
    if (argIndex === -1) continue;
    const defRe = new RegExp(`^[ \\t]*#[ \\t]*define[ \\t]+${macro}\\(([^)]*)\\)((?:[^\\n]*\\\\\\n)*[^\\n]*)`, 'm');
    const def = defRe.exec(text);
    if (!def) continue;
    const formals = splitParams(def[1]!);
    const formal = formals[argIndex];
    if (formal === undefined || formals.length !== args.length) continue;
    const body = def[2]!.replace(/\\\n/g, '\n');
    for (const sig of findFunctionSignatures(body, formal)) {
      if (!sig.definition) continue;
      const params = sig.params.map((p) =>
        p.replace(/[A-Za-z_]\w*/g, (id) => {
          const k = formals.indexOf(id);
          return k === -1 ? id : args[k]!;
        }),
      );
      out.push({ params, definition: true });
    }
  }
  return out;
}

const C_TYPE_WORDS: ReadonlySet<string> = new Set([
  'int', 'long', 'short', 'char', 'unsigned', 'signed', 'void', 'float', 'double',
  'const', 'volatile', 'struct', 'str', 'sip_msg_t', 'sip_msg',
]);

export interface CParam {
  /** C type as written, name removed ('str *'). */
  readonly ctype: string;
  /** Parameter name as written, or undefined for an unnamed parameter. */
  readonly name: string | undefined;
}

/** Splits one C parameter declaration into type and name. */
export function parseParamDecl(decl: string): CParam {
  const d = decl.replace(/\s+/g, ' ').trim().replace(/(\s*\[[^\]]*\])+$/, '');
  const m = /^(.*?)([A-Za-z_]\w*)$/.exec(d);
  if (!m || m[1]!.trim() === '' || C_TYPE_WORDS.has(m[2]!)) return { ctype: d, name: undefined };
  return { ctype: m[1]!.trim(), name: m[2]! };
}

/** ECMAScript reserved words plus names that strict mode forbids as parameters. */
const JS_RESERVED: ReadonlySet<string> = new Set([
  'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default',
  'delete', 'do', 'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function',
  'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this',
  'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static',
  'implements', 'interface', 'package', 'private', 'protected', 'public', 'eval', 'arguments',
]);

/**
 * Cleans a C parameter name for use in TypeScript: drops pointer/reference
 * punctuation and anything else that is not an identifier character, keeps the
 * C spelling otherwise, and appends `_` to JavaScript reserved words.
 */
export function cleanParamName(raw: string): string {
  const name = raw.replace(/\[[^\]]*\]/g, '').replace(/[^A-Za-z0-9_$]/g, '').replace(/^[0-9]+/, '');
  if (name === '') throw new Error(`no identifier in parameter name "${raw}"`);
  return JS_RESERVED.has(name) ? `${name}_` : name;
}

/** Whether a C parameter type can carry a KEMI parameter of the given type. */
export function cTypeMatches(ctype: string, kemi: KemiParamType): boolean {
  const pointer = ctype.includes('*');
  if (kemi === 'str') return /\bstr\b/.test(ctype) && pointer;
  return !pointer && /\b(int|long|short|unsigned|signed|int\d+_t|uint\d+_t)\b/.test(ctype);
}

export type ResolveResult =
  | { readonly ok: true; readonly params: readonly string[] }
  | { readonly ok: false; readonly reason: 'no-implementation' | 'mismatch'; readonly detail: string };

/**
 * Turns the candidate signatures of a KEMI implementation into parameter
 * names, checked against the api_list parameter types. All candidates that
 * pass must agree; otherwise the function is reported, not guessed.
 */
export function resolveParamNames(
  signatures: readonly CSignature[],
  expected: readonly KemiParamType[],
): ResolveResult {
  if (signatures.length === 0) return { ok: false, reason: 'no-implementation', detail: 'implementation not found' };
  const problems: string[] = [];
  const found: string[][] = [];
  for (const sig of signatures) {
    const parsed = sig.params.map(parseParamDecl);
    const first = parsed[0];
    if (!first || !/\bsip_msg(_t)?\b/.test(first.ctype)) {
      problems.push(`first parameter is not a sip_msg: (${sig.params.join(', ')})`);
      continue;
    }
    const rest = parsed.slice(1);
    if (rest.length !== expected.length) {
      problems.push(`C has ${rest.length} parameter(s) after msg, api_list has ${expected.length}: (${sig.params.join(', ')})`);
      continue;
    }
    const badType = rest.findIndex((p, i) => !cTypeMatches(p.ctype, expected[i]!));
    if (badType !== -1) {
      problems.push(`parameter ${badType + 1} is "${rest[badType]!.ctype}", api_list says ${expected[badType]}`);
      continue;
    }
    if (rest.some((p) => p.name === undefined)) {
      problems.push(`unnamed parameter: (${sig.params.join(', ')})`);
      continue;
    }
    const names = rest.map((p) => cleanParamName(p.name!));
    if (new Set(names).size !== names.length) {
      problems.push(`duplicate parameter names: ${names.join(', ')}`);
      continue;
    }
    found.push(names);
  }
  if (found.length === 0) return { ok: false, reason: 'mismatch', detail: problems.join('; ') };
  const distinct = new Set(found.map((f) => f.join(',')));
  if (distinct.size > 1) {
    return { ok: false, reason: 'mismatch', detail: `conflicting definitions: ${[...distinct].join(' | ')}` };
  }
  return { ok: true, params: found[0]! };
}

/**
 * Picks the export entry for an api_list function: the one whose declared
 * parameter types are exactly api_list's. undefined when none is (the caller
 * reports it; a table that disagrees with api_list is not guessed around).
 */
export function pickExportEntry<T extends KemiExportEntry>(
  candidates: readonly T[],
  expected: readonly KemiParamType[],
): T | undefined {
  return candidates.find(
    (c) => c.params.length === expected.length && c.params.every((t, i) => t === expected[i]),
  );
}

/** JSON.stringify with object keys sorted recursively (deterministic output). */
export function stableStringify(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

// ---------------------------------------------------------------------------
// Git access and the CLI
// ---------------------------------------------------------------------------

export const MODULE_DOCS_BASE = 'https://www.kamailio.org/docs/modules/5.6.x/modules/';
/** KEMI framework tutorial (lists the core KSR.*, KSR.hdr.*, KSR.pv.* exports). */
export const CORE_DOCS_URL = 'https://kamailio.org/docs/tutorials/devel/kamailio-kemi-framework/';

class GitSource {
  private readonly cache = new Map<string, string>();
  constructor(
    private readonly gitDir: string,
    private readonly ref: string,
  ) {}

  private git(args: string[], allowFail = false): string {
    try {
      return execFileSync('git', ['--git-dir', this.gitDir, ...args], {
        encoding: 'utf8',
        maxBuffer: 512 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // git grep exits 1 when nothing matches.
      if (allowFail && (err as { status?: number }).status === 1) return '';
      throw err;
    }
  }

  commit(): string {
    return this.git(['rev-parse', `${this.ref}^{commit}`]).trim();
  }

  show(path: string): string {
    let text = this.cache.get(path);
    if (text === undefined) {
      text = this.git(['show', `${this.ref}:${path}`]);
      this.cache.set(path, text);
    }
    return text;
  }

  /** Files under src/ containing a fixed string (paths without the ref prefix). */
  grepFiles(fixed: string, pathspecs: string[]): string[] {
    const out = this.git(['grep', '-l', '-F', '-e', fixed, this.ref, '--', ...pathspecs], true);
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.slice(l.indexOf(':') + 1));
  }

  /** Files under src/ containing a whole word. */
  grepWordFiles(word: string, pathspecs: string[]): string[] {
    const out = this.git(['grep', '-l', '-w', '-F', '-e', word, this.ref, '--', ...pathspecs], true);
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.slice(l.indexOf(':') + 1));
  }

  listFiles(dir: string): string[] {
    return this.git(['ls-tree', '-r', '--name-only', this.ref, '--', dir])
      .split('\n')
      .filter((l) => l !== '');
  }
}

interface Options {
  gitDir: string;
  ref: string;
  out: string;
  apiList: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  const gitDir = get('--git-dir');
  const ref = get('--ref');
  if (!gitDir || !ref) {
    throw new Error('usage: extract-param-names.ts --git-dir <kamailio.git> --ref <ref> [--out file] [--api-list file]');
  }
  return {
    gitDir,
    ref,
    out: get('--out') ?? fileURLToPath(new URL('../kemi/param-names-5.6.json', import.meta.url)),
    apiList: get('--api-list'),
  };
}

const C_SOURCES = ['src/*.c', 'src/*.h'];

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

export function main(argv: string[]): void {
  const opts = parseArgs(argv);
  const git = new GitSource(opts.gitDir, opts.ref);
  const commit = git.commit();
  const api = opts.apiList ? loadApiList(opts.apiList) : loadApiList();

  // 1. Every export table entry at the ref.
  const tableFiles = git.grepFiles('sr_kemi_t', ['src/*.c']);
  const exportsByPath = new Map<string, (KemiExportEntry & { file: string })[]>();
  for (const file of tableFiles) {
    for (const entry of parseExportTable(git.show(file))) {
      const key = kemiPath(entry.module, entry.name);
      const list = exportsByPath.get(key) ?? [];
      list.push({ ...entry, file });
      exportsByPath.set(key, list);
    }
  }

  // 2. Resolve each api_list function.
  const functions: Record<string, { params: readonly string[]; cfile: string }> = {};
  const noExport: string[] = [];
  const noImpl: string[] = [];
  const mismatched: string[] = [];
  const moduleDirs = new Map<string, string>(); // KSR module -> source dir of its export table

  for (const fn of api.functions) {
    const key = kemiPath(fn.module, fn.name);
    const candidates = exportsByPath.get(key) ?? [];
    if (candidates.length === 0) {
      noExport.push(key);
      continue;
    }
    const entry = pickExportEntry(candidates, fn.params);
    if (!entry) {
      const declared = candidates.map((c) => `(${c.params.join(', ')}) in ${c.file}`).join(' | ');
      mismatched.push(`${key}: export table declares ${declared}, api_list has (${fn.params.join(', ')})`);
      continue;
    }
    if (!moduleDirs.has(fn.module)) moduleDirs.set(fn.module, dirOf(entry.file));
    const found = findImplementation(git, entry);
    if (!found) {
      noImpl.push(`${key} (${entry.cfunc})`);
      continue;
    }
    const result = resolveParamNames(found.signatures, fn.params);
    if (result.ok) {
      functions[key] = { params: result.params, cfile: found.file };
    } else if (result.reason === 'no-implementation') {
      noImpl.push(`${key} (${entry.cfunc})`);
    } else {
      mismatched.push(`${key} (${entry.cfunc} in ${found.file}): ${result.detail}`);
    }
  }

  // 3. Documentation URLs per KSR module.
  const docs = buildDocs(git, api.functions, moduleDirs);

  const output = {
    source: `kamailio/kamailio@${opts.ref} (${commit})`,
    docs,
    functions,
  };
  writeFileSync(opts.out, stableStringify(output));

  const total = api.functions.length;
  const resolved = Object.keys(functions).length;
  const report = (title: string, list: string[]): void => {
    if (list.length === 0) return;
    console.log(`\n${title} (${list.length}):`);
    for (const l of list) console.log(`  ${l}`);
  };
  report('No export table entry at this ref', noExport);
  report('Implementation not found', noImpl);
  report('Parameter count/type mismatch (dropped)', mismatched);
  console.log(
    `\nsource: ${output.source}\nresolved ${resolved} / ${total} (${((100 * resolved) / total).toFixed(1)}%), ` +
      `mismatched ${mismatched.length}, no implementation ${noImpl.length}, no export entry ${noExport.length}\n` +
      `wrote ${opts.out}`,
  );
}

/** Looks for the implementation: the table's file, then its directory, then all of src/. */
function findImplementation(
  git: GitSource,
  entry: KemiExportEntry & { file: string },
): { file: string; signatures: CSignature[] } | undefined {
  const tried = new Set<string>();
  const attempt = (files: string[]): { file: string; signatures: CSignature[] } | undefined => {
    const hits: { file: string; signatures: CSignature[] }[] = [];
    for (const file of files) {
      if (tried.has(file)) continue;
      tried.add(file);
      const signatures = findFunctionSignatures(git.show(file), entry.cfunc);
      if (signatures.length > 0) hits.push({ file, signatures });
    }
    // Prefer a body definition over a prototype.
    const withDef = hits.filter((h) => h.signatures.some((s) => s.definition));
    const chosen = withDef.length > 0 ? withDef : hits;
    if (chosen.length === 0) return undefined;
    return { file: chosen[0]!.file, signatures: chosen.flatMap((h) => h.signatures) };
  };
  const local = attempt([entry.file]);
  if (local?.signatures.some((s) => s.definition)) return local;
  const dir = dirOf(entry.file);
  const dirFiles = git
    .grepWordFiles(entry.cfunc, [`${dir}/*.c`, `${dir}/*.h`])
    .filter((f) => dirOf(f) === dir || !dir.startsWith('src/modules/'));
  const near = attempt(dirFiles);
  if (near?.signatures.some((s) => s.definition)) return near;
  const global = attempt(git.grepWordFiles(entry.cfunc, C_SOURCES));
  if (global?.signatures.some((s) => s.definition)) return global;
  return local ?? near ?? global;
}

function buildDocs(
  git: GitSource,
  fns: readonly KemiFunction[],
  moduleDirs: ReadonlyMap<string, string>,
): Record<string, string> {
  const docs: Record<string, string> = {};
  const modules = [...new Set(fns.map((f) => f.module))];
  for (const mod of modules) {
    const dir = moduleDirs.get(mod);
    if (!dir) continue;
    if (dir.startsWith('src/core')) {
      docs[mod] = CORE_DOCS_URL;
      continue;
    }
    const m = /^src\/modules\/([^/]+)$/.exec(dir);
    if (!m) continue;
    const modDir = m[1]!;
    // Only modules that ship docbook docs at this ref get a URL.
    if (git.listFiles(`src/modules/${modDir}/doc`).includes(`src/modules/${modDir}/doc/${modDir}.xml`)) {
      docs[mod] = `${MODULE_DOCS_BASE}${modDir}.html`;
    }
  }
  return docs;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2));
}
