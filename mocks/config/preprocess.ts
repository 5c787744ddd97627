/**
 * Kamailio's cfg preprocessor, the part that decides which lines exist and
 * what define ids expand to: #!define/#!trydef/#!redefine/#!undef,
 * #!defenv/#!defenvs/#!trydefenv/#!trydefenvs, #!ifdef/#!ifndef/#!else/#!endif,
 * #!include_file/#!import_file. Anything else starting with #! is rejected,
 * so a directive the mock does not model cannot silently change the sockets.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface Subst {
  re: RegExp;
  replacement: string;
}

export interface Preprocessed {
  /** Active lines, comments stripped, in file order. */
  lines: string[];
  defines: Map<string, string>;
  /** #!subst rules, applied by Kamailio to every string literal. */
  substs: Subst[];
}

export type EnvMap = Readonly<Record<string, string | undefined>>;

export function preprocess(text: string, env: EnvMap, file = 'kamailio.cfg'): Preprocessed {
  const pp: Preprocessed = { lines: [], defines: new Map(), substs: [] };
  run(text, file, env, pp);
  return pp;
}

function run(text: string, file: string, env: EnvMap, pp: Preprocessed): void {
  const defines = pp.defines;
  // One entry per open #!ifdef: whether its current branch is taken.
  const stack: Array<{ active: boolean }> = [];
  const active = (): boolean => stack.every((s) => s.active);
  text.split(/\r?\n/).forEach((raw, index) => {
    const where = `${file}:${index + 1}`;
    const line = raw.trim();
    const dir = /^#!\s*([a-z_]+)\b\s*(.*)$/i.exec(line) ?? /^!!\s*([a-z_]+)\b\s*(.*)$/i.exec(line);
    if (dir) {
      const [, name = '', arg = ''] = dir;
      const id = arg.trim().split(/\s+/)[0] ?? '';
      switch (name.toLowerCase()) {
        case 'ifdef':
        case 'ifndef':
          stack.push({ active: name.toLowerCase() === 'ifdef' ? defines.has(id) : !defines.has(id) });
          return;
        case 'else': {
          const top = stack[stack.length - 1];
          if (!top) throw new Error(`mock cfg ${where}: #!else without #!ifdef`);
          top.active = !top.active;
          return;
        }
        case 'endif':
          if (!stack.pop()) throw new Error(`mock cfg ${where}: #!endif without #!ifdef`);
          return;
      }
      if (!active()) return;
      directive(name.toLowerCase(), arg.trim(), where, file, env, pp);
      return;
    }
    if (!active()) return;
    const code = stripComment(raw);
    if (code.trim() !== '') pp.lines.push(code.trim());
  });
  if (stack.length > 0) throw new Error(`mock cfg ${file}: unterminated #!ifdef`);
}

function directive(
  name: string,
  arg: string,
  where: string,
  file: string,
  env: EnvMap,
  pp: Preprocessed,
): void {
  const defines = pp.defines;
  const [id = '', ...rest] = arg.split(/\s+/);
  const value = rest.join(' ').trim();
  switch (name) {
    case 'kamailio':
    case 'ser':
    case 'all':
    case 'maxcompat':
      return;
    case 'define':
    case 'def':
      defines.set(id, value);
      return;
    case 'trydefine':
    case 'trydef':
      if (!defines.has(id)) defines.set(id, value);
      return;
    case 'redefine':
    case 'redef':
      defines.set(id, value);
      return;
    case 'undef':
      defines.delete(id);
      return;
    case 'defenv':
    case 'defenvs':
    case 'trydefenv':
    case 'trydefenvs': {
      // core/cfg.lex pp_define_env: "ID=VAR" or "VAR"; a missing VAR is fatal
      // for defenv(s) (Kamailio does not start) and skipped for trydefenv(s).
      const eq = id.indexOf('=');
      const defId = eq >= 0 ? id.slice(0, eq) : id;
      const envName = eq >= 0 ? id.slice(eq + 1) : id;
      const v = env[envName];
      if (v === undefined) {
        if (name.startsWith('try')) return;
        throw new Error(`mock cfg ${where}: env variable not defined [${id}] (Kamailio refuses to start)`);
      }
      defines.set(defId, name.endsWith('s') ? `"${v}"` : v);
      return;
    }
    case 'include_file':
    case 'import_file': {
      const target = resolve(dirname(file), unquote(arg));
      if (!existsSync(target)) {
        if (name === 'import_file') return;
        throw new Error(`mock cfg ${where}: cannot include ${target}`);
      }
      run(readFileSync(target, 'utf8'), target, env, pp);
      return;
    }
    case 'subst': {
      // "/regex/replacement/flags" (POSIX ERE; \N back-references)
      const m = /^"\/(.*)\/(.*)\/([a-z]*)"$/.exec(arg.trim());
      if (!m) throw new Error(`mock cfg ${where}: cannot parse #!subst ${arg}`);
      pp.substs.push({ re: new RegExp(m[1]!, m[3]!.includes('i') ? 'i' : ''), replacement: m[2]!.replace(/\\(\d)/g, '$$$1') });
      return;
    }
    default:
      throw new Error(`mock cfg ${where}: preprocessor directive #!${name} is not modelled by the mock`);
  }
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0] ? t.slice(1, -1) : t;
}

/** Removes `#` and `//` comments outside double-quoted strings. */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') quoted = !quoted;
    if (quoted) continue;
    if (ch === '#' || (ch === '/' && line[i + 1] === '/')) return line.slice(0, i);
  }
  return line;
}

/** Replaces define ids outside double-quoted strings, as the cfg lexer does (define values may use defines). */
export function expandDefines(line: string, defines: ReadonlyMap<string, string>): string {
  let out = line;
  for (let depth = 0; depth < 10; depth++) {
    const next = out.replace(/"[^"]*"|[A-Za-z_][A-Za-z0-9_]*/g, (tok) => (tok.startsWith('"') ? tok : defines.get(tok) ?? tok));
    if (next === out) return out;
    out = next;
  }
  throw new Error(`mock cfg: define expansion does not terminate in "${line}"`);
}

/**
 * The value of a cfg string expression: adjacent literals joined ("a" "b"),
 * then the #!subst rules applied; a bare token (number, id) is kept as is.
 */
export function stringValue(expr: string, substs: readonly Subst[]): string {
  const t = expr.trim();
  if (!t.startsWith('"')) return t;
  const joined = [...t.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('');
  return substs.reduce((s, r) => s.replace(r.re, r.replacement), joined);
}
