/**
 * Step 0 of the pipeline, inside esbuild: inlines the generated KSR facade
 * (src/ksr/generated/<module>.ts) at its call sites, so the bundle calls
 * KSR directly and the typed facade costs nothing in Duktape (one JS call per
 * KEMI call otherwise, ~70 ns each; bench/facade-overhead).
 *
 *   import * as siputils from '../ksr/generated/siputils';
 *   if (!siputils.has_totag()) ...   ->   if (!(KSR.siputils.has_totag() > 0)) ...
 *
 * The sources stay as they are: unit tests still run the wrappers against the
 * mock KSR. Only esbuild sees the rewritten text, which is the original
 * TypeScript with each direct call `X.fn(args)` of a facade namespace replaced
 * by the wrapper's own body: from src/ksr/generated/inline.json, which typegen
 * renders from the same strings as the .ts and which is used only while its
 * hash of the module matches the .ts (else the .ts itself is parsed), so what
 * is inlined is exactly what would have been called. Anything else is left to
 * the wrapper: a namespace passed as a value, `X.fn` without a call, spread
 * arguments, a name that shadows the namespace or KSR. esbuild then drops the
 * wrappers nobody calls any more. The rewritten text is never type-checked
 * (esbuild only strips types); `npm run build` type-checks the sources as written.
 *
 * A wrapper is inlined only when substituting argument text is exactly a call:
 * its body is one `return E;` or `E;`, E uses only `KSR` and its parameters,
 * evaluates unconditionally (calls, member access, arithmetic and comparison,
 * type assertions, which are dropped), and names each parameter exactly once,
 * in parameter order, so every argument is still evaluated once and in order.
 *
 * Line numbers do not move (Duktape traces carry only lines; the map must stay
 * exact): a rewritten call keeps every line break it had, with each argument
 * on its original line (and, past the first line, column). Only columns on
 * the line a rewritten call starts on move. The source map embeds the files
 * as written (bundle-typescript.ts puts them back in place of this text).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Plugin } from 'esbuild';
import ts from 'typescript';
import { INLINE_TABLE, type InlineEntry } from '../typegen/render.ts';

/** One way to write a wrapper's body at a call site: text pieces around the arguments. */
export interface InlineForm {
  /** pieces.length === params + 1; argument i goes between pieces[i] and pieces[i + 1]. */
  readonly pieces: readonly string[];
  /** The text is a call expression: it fits wherever `X.fn(...)` stood, without parentheses. */
  readonly isCall: boolean;
  /** Per parameter: it is a whole argument of a call in the body, so any argument text fits unparenthesised. */
  readonly bareSlots: readonly boolean[];
}

export interface InlineWrapper {
  readonly name: string;
  readonly params: readonly string[];
  /** Where the call's value is used. */
  readonly value: InlineForm;
  /** Where the call is a statement of its own: `> 0` or `void` serve no purpose there. */
  readonly discarded: InlineForm;
}

export interface FacadeModule {
  /** The generated .ts file. */
  readonly file: string;
  /** Where the wrappers were read: the inline table typegen writes, or the .ts itself when the table does not match it. */
  readonly from: 'table' | 'source';
  /** How to inline calls of the exported function `name`, or why they keep the wrapper. */
  wrapper(name: string): InlineWrapper | string;
}

export interface SkippedCall {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly call: string;
  readonly reason: string;
}

export interface InlineResult {
  /** The rewritten TypeScript; the source itself when nothing was inlined. */
  readonly code: string;
  readonly inlined: number;
  readonly skipped: readonly SkippedCall[];
}

/** Where the generated facade lives, relative to the project root. */
export const FACADE_DIR = 'src/ksr/generated';

const KSR_GLOBAL = 'KSR';

// ---------------------------------------------------------------------------
// Reading the wrappers: from the inline table typegen writes next to the
// facade (src/ksr/generated/inline.json: each wrapper's parameters and body,
// as rendered into the .ts), used only while its hash of the module matches
// the .ts; otherwise from the .ts itself. Both go through the same checks.

const NO_SUCH_FUNCTION = 'no such exported function';

/** Reads the wrappers of a generated module from its TypeScript source. */
export function readFacadeModule(file: string, source = readFileSync(file, 'utf8')): FacadeModule {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found = new Map<string, InlineWrapper | string>();
  for (const statement of sf.statements) {
    if (!ts.isFunctionDeclaration(statement) || !statement.name || !hasModifier(statement, ts.SyntaxKind.ExportKeyword)) continue;
    const name = statement.name.text;
    // Overloads: several signatures, one body. Not something the generator writes.
    found.set(name, found.has(name) ? 'overloaded' : wrapperOf(statement, sf));
  }
  return { file, from: 'source', wrapper: (name) => found.get(name) ?? NO_SUCH_FUNCTION };
}

/** One module of the inline table: its wrappers' parameters and bodies. */
export type InlineTableFunctions = Readonly<Record<string, InlineEntry>>;

/** The wrappers of a generated module from its inline-table entries, each checked when first asked for. */
export function tableFacadeModule(file: string, functions: InlineTableFunctions): FacadeModule {
  const checked = new Map<string, InlineWrapper | string>();
  const wrapper = (name: string): InlineWrapper | string => {
    if (!Object.prototype.hasOwnProperty.call(functions, name)) return NO_SUCH_FUNCTION;
    const { params, body } = functions[name]!;
    const text = `function ${name}(${params.join(', ')}) {\n${body}\n}\n`;
    const sf = ts.createSourceFile(`${file}#${name}`, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const [fn, ...rest] = sf.statements;
    if (!fn || rest.length > 0 || !ts.isFunctionDeclaration(fn) || fn.name?.text !== name ||
      fn.parameters.map((p) => p.name.getText(sf)).join() !== params.join()) {
      return 'inline table entry is not one function';
    }
    return wrapperOf(fn, sf);
  };
  return {
    file,
    from: 'table',
    wrapper: (name) => {
      if (!checked.has(name)) checked.set(name, wrapper(name));
      return checked.get(name)!;
    },
  };
}

interface InlineTable {
  readonly modules: Readonly<Record<string, { readonly sha256: string; readonly functions: InlineTableFunctions }>>;
}

function readInlineTable(path: string): InlineTable | undefined {
  try {
    const table = JSON.parse(readFileSync(path, 'utf8')) as Partial<InlineTable>;
    return typeof table.modules === 'object' && table.modules !== null ? (table as InlineTable) : undefined;
  } catch {
    return undefined; // no table (or not JSON): every module is read from its .ts
  }
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return (ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined)?.some((m) => m.kind === kind) ?? false;
}

/** The wrapper, or why it cannot be inlined. */
function wrapperOf(fn: ts.FunctionDeclaration, sf: ts.SourceFile): InlineWrapper | string {
  const name = fn.name!.text;
  if (!fn.body) return 'no body';
  if (fn.asteriskToken || hasModifier(fn, ts.SyntaxKind.AsyncKeyword) || hasModifier(fn, ts.SyntaxKind.DefaultKeyword)) {
    return 'generator, async or default export';
  }
  if (fn.typeParameters) return 'type parameters';
  const params: string[] = [];
  for (const param of fn.parameters) {
    if (!ts.isIdentifier(param.name) || param.initializer || param.questionToken || param.dotDotDotToken || param.name.text === 'this') {
      return 'a parameter that is not a plain required name';
    }
    params.push(param.name.text);
  }
  if (params.includes(KSR_GLOBAL)) return `a parameter named ${KSR_GLOBAL}`;
  if (fn.body.statements.length !== 1) return 'more than one statement';
  const statement = fn.body.statements[0]!;
  try {
    if (ts.isReturnStatement(statement) && statement.expression) {
      const expression = statement.expression;
      const value = formOf(expression, params, sf, '');
      const core = stripTypes(expression);
      const compared = comparedCall(core);
      const discarded = ts.isCallExpression(core) ? value : compared ? formOf(compared, params, sf, '') : value;
      return { name, params, value, discarded };
    }
    if (ts.isExpressionStatement(statement)) {
      // A void wrapper: its call's value is undefined whatever KSR returns.
      const discarded = formOf(statement.expression, params, sf, '');
      const value = formOf(statement.expression, params, sf, 'void ');
      return { name, params, value, discarded };
    }
    return 'body is not one return or expression statement';
  } catch (error) {
    if (error instanceof Refusal) return error.message;
    throw error;
  }
}

class Refusal extends Error {}

/** `E as T`, `E satisfies T`, `E!`, `<T>E` and parentheses around them are E at run time. */
function stripTypes(node: ts.Expression): ts.Expression {
  let current = node;
  for (;;) {
    if (ts.isParenthesizedExpression(current) || ts.isAsExpression(current) || ts.isSatisfiesExpression(current) ||
      ts.isNonNullExpression(current) || ts.isTypeAssertionExpression(current)) {
      current = current.expression;
    } else {
      return current;
    }
  }
}

const COMPARISONS: ReadonlySet<ts.SyntaxKind> = new Set([
  ts.SyntaxKind.GreaterThanToken, ts.SyntaxKind.GreaterThanEqualsToken, ts.SyntaxKind.LessThanToken,
  ts.SyntaxKind.LessThanEqualsToken, ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken,
]);

/** Operators that always evaluate both operands, left first (no &&, ||, ??, comma, assignment, in). */
const STRICT_BINARY: ReadonlySet<ts.SyntaxKind> = new Set([
  ...COMPARISONS,
  ts.SyntaxKind.PlusToken, ts.SyntaxKind.MinusToken, ts.SyntaxKind.AsteriskToken, ts.SyntaxKind.SlashToken,
  ts.SyntaxKind.PercentToken, ts.SyntaxKind.AmpersandToken, ts.SyntaxKind.BarToken, ts.SyntaxKind.CaretToken,
  ts.SyntaxKind.LessThanLessThanToken, ts.SyntaxKind.GreaterThanGreaterThanToken,
  ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken,
]);

function isLiteral(node: ts.Expression): boolean {
  return ts.isNumericLiteral(node) || ts.isStringLiteral(node) || node.kind === ts.SyntaxKind.TrueKeyword ||
    node.kind === ts.SyntaxKind.FalseKeyword || node.kind === ts.SyntaxKind.NullKeyword;
}

/**
 * The call of `CALL > 0` (any comparison with a literal): when the result is
 * discarded only the call matters, since comparing the primitive a KEMI
 * function returns has no effect.
 */
function comparedCall(node: ts.Expression): ts.CallExpression | undefined {
  if (!ts.isBinaryExpression(node) || !COMPARISONS.has(node.operatorToken.kind)) return undefined;
  const left = stripTypes(node.left);
  return ts.isCallExpression(left) && isLiteral(stripTypes(node.right)) ? left : undefined;
}

/** Prints E as one line of JavaScript with a slot per parameter; throws a Refusal for anything else. */
function formOf(expression: ts.Expression, params: readonly string[], sf: ts.SourceFile, prefix: string): InlineForm {
  const pieces: string[] = [];
  const slots: number[] = [];
  const bareSlots: boolean[] = [];
  let current = prefix;
  const text = (t: string): void => {
    current += t;
  };
  const print = (node: ts.Expression, isArgument: boolean): void => {
    if (ts.isIdentifier(node)) {
      const index = params.indexOf(node.text);
      if (index >= 0) {
        pieces.push(current);
        current = '';
        slots.push(index);
        bareSlots[index] = isArgument;
      } else if (node.text === KSR_GLOBAL) {
        text(KSR_GLOBAL);
      } else {
        throw new Refusal(`body uses ${node.text}, which is neither ${KSR_GLOBAL} nor a parameter`);
      }
    } else if (ts.isParenthesizedExpression(node)) {
      text('(');
      print(node.expression, false);
      text(')');
    } else if (ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isNonNullExpression(node) || ts.isTypeAssertionExpression(node)) {
      print(node.expression, isArgument);
    } else if (ts.isPropertyAccessExpression(node)) {
      if (node.questionDotToken || !ts.isIdentifier(node.name)) throw new Refusal('optional or private member access');
      print(node.expression, false);
      text(`.${node.name.text}`);
    } else if (ts.isCallExpression(node)) {
      if (node.questionDotToken || node.typeArguments) throw new Refusal('optional call or type arguments');
      print(node.expression, false);
      text('(');
      node.arguments.forEach((argument, i) => {
        if (ts.isSpreadElement(argument)) throw new Refusal('spread argument');
        if (i > 0) text(', ');
        print(argument, true);
      });
      text(')');
    } else if (ts.isBinaryExpression(node)) {
      if (!STRICT_BINARY.has(node.operatorToken.kind)) throw new Refusal(`operator ${node.operatorToken.getText(sf)}`);
      print(node.left, false);
      text(` ${node.operatorToken.getText(sf)} `);
      print(node.right, false);
    } else if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) {
      text('!');
      print(node.operand, false);
    } else if (isLiteral(node)) {
      text(node.getText(sf));
    } else {
      throw new Refusal(`${ts.SyntaxKind[node.kind]} in the body`);
    }
  };
  print(expression, false);
  pieces.push(current);
  if (slots.length !== params.length || slots.some((slot, i) => slot !== i)) {
    throw new Refusal('parameters are not each used once, in order');
  }
  if (pieces.some((piece) => /[\r\n\u2028\u2029]/.test(piece))) throw new Refusal('body spans lines');
  // The replacement must start with a name (KSR, void): a leading `(`, `!` or
  // argument could join the previous line when that line has no semicolon.
  if (!/^[A-Za-z_$]/.test(pieces[0]!)) throw new Refusal('body does not start with a name');
  const core = stripTypes(expression);
  return { pieces, isCall: prefix === '' && ts.isCallExpression(core), bareSlots };
}

// ---------------------------------------------------------------------------
// Rewriting the call sites of one file.

/**
 * Rewrites the direct calls of facade namespaces in one TypeScript file.
 * @param facadeFor the facade module an import specifier of this file names, if any.
 */
export function inlineFacadeCalls(
  source: string,
  fileName: string,
  facadeFor: (specifier: string) => FacadeModule | undefined,
): InlineResult {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const namespaces = new Map<string, FacadeModule>();
  for (const statement of sf.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const clause = statement.importClause;
    if (!clause || clause.isTypeOnly || !clause.namedBindings || !ts.isNamespaceImport(clause.namedBindings)) continue;
    const facade = facadeFor(statement.moduleSpecifier.text);
    if (facade) namespaces.set(clause.namedBindings.name.text, facade);
  }
  if (namespaces.size === 0) return { code: source, inlined: 0, skipped: [] };

  const skipped: SkippedCall[] = [];
  const skip = (node: ts.Node, reason: string): void => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    skipped.push({ file: fileName, line, call: node.getText(sf).split('\n')[0]!, reason });
  };
  // A name declared anywhere else in the file may be what a call refers to:
  // such a namespace, or any local KSR, turns inlining off (the wrapper stays).
  const declared = declaredNames(sf);
  const localKsr = (declared.get(KSR_GLOBAL) ?? []).some((decl) => !isAmbient(decl));
  const shadowed = new Set([...namespaces.keys()].filter((name) => (declared.get(name) ?? []).some((decl) => !ts.isNamespaceImport(decl))));

  interface Site {
    readonly call: ts.CallExpression;
    readonly form: InlineForm;
    readonly parens: boolean;
  }
  const sites: Site[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const site = siteOf(node);
      if (site) sites.push(site);
    }
    ts.forEachChild(node, visit);
  };
  const siteOf = (call: ts.CallExpression): Site | undefined => {
    const callee = call.expression;
    if (!ts.isPropertyAccessExpression(callee) || !ts.isIdentifier(callee.expression) || !ts.isIdentifier(callee.name)) return undefined;
    const facade = namespaces.get(callee.expression.text);
    if (!facade) return undefined;
    const fn = callee.name.text;
    if (shadowed.has(callee.expression.text)) return void skip(call, `${callee.expression.text} is also declared in this file`);
    if (localKsr) return void skip(call, `${KSR_GLOBAL} is declared in this file`);
    if (call.questionDotToken || callee.questionDotToken) return void skip(call, 'optional call');
    if (call.typeArguments) return void skip(call, 'type arguments');
    const wrapper = facade.wrapper(fn);
    if (typeof wrapper === 'string') return void skip(call, `${basename(facade.file)} ${fn}: ${wrapper}`);
    if (call.arguments.some(ts.isSpreadElement)) return void skip(call, 'spread argument');
    if (call.arguments.length !== wrapper.params.length) {
      return void skip(call, `${call.arguments.length} arguments for ${wrapper.params.length} parameters`);
    }
    // A statement of its own needs no parentheses: every form starts with a name.
    if (ts.isExpressionStatement(call.parent)) return { call, form: wrapper.discarded, parens: false };
    if (wrapper.value.isCall) return { call, form: wrapper.value, parens: false };
    // `(` at the very start of a statement could continue the previous line.
    if (startsExpressionStatement(call)) return void skip(call, 'would start a statement with "("');
    return { call, form: wrapper.value, parens: true };
  };
  visit(sf);
  if (sites.length === 0) return { code: source, inlined: 0, skipped };

  sites.sort((a, b) => a.call.getStart(sf) - b.call.getStart(sf));
  const emit = (from: number, to: number): string => {
    let out = '';
    let pos = from;
    for (const site of sites) {
      const start = site.call.getStart(sf);
      if (start < pos || site.call.end > to) continue;
      out += source.slice(pos, start) + render(site);
      pos = site.call.end;
    }
    return out + source.slice(pos, to);
  };
  const render = (site: Site): string => {
    const { call, form } = site;
    const args = call.arguments;
    // The text around the arguments (callee, commas, comments) is replaced by
    // the wrapper's; only its line breaks are kept, after the piece they
    // follow, with blanks so the next argument keeps its column.
    const gaps: string[] = [];
    let pos = call.getStart(sf);
    for (const arg of args) {
      gaps.push(source.slice(pos, arg.getStart(sf)));
      pos = arg.end;
    }
    gaps.push(source.slice(pos, call.end));
    let out = site.parens ? '(' : '';
    args.forEach((arg, i) => {
      const text = emit(arg.getStart(sf), arg.end);
      out += form.pieces[i]! + lineBreaks(gaps[i]!) + (form.bareSlots[i] ? text : `(${text})`);
    });
    out += form.pieces[args.length]! + lineBreaks(gaps[args.length]!);
    return site.parens ? `${out})` : out;
  };
  return { code: emit(0, source.length), inlined: sites.length, skipped };
}

const LINE_BREAK = /\r\n|[\n\r\u2028\u2029]/g;

/**
 * The line breaks of `text`, followed, when there is one, by blanks as wide as
 * what follows the last one: an argument on a line of its own keeps its column.
 */
function lineBreaks(text: string): string {
  const parts = text.split(LINE_BREAK);
  if (parts.length === 1) return '';
  return '\n'.repeat(parts.length - 1) + parts[parts.length - 1]!.replace(/[^\t]/g, ' ');
}

/** True when `node` is the first token of an expression statement it is part of (but not all of). */
function startsExpressionStatement(node: ts.Node): boolean {
  const start = node.getStart();
  let current = node.parent;
  while (current.getStart() === start) {
    if (ts.isExpressionStatement(current)) return true;
    if (ts.isStatement(current) || ts.isSourceFile(current)) return false;
    current = current.parent;
  }
  return false;
}

/** `declare const KSR` (or inside a `declare` block) names the global, which is what the inlined calls use. */
function isAmbient(node: ts.Node): boolean {
  for (let current: ts.Node | undefined = node; current; current = current.parent) {
    if (hasModifier(current, ts.SyntaxKind.DeclareKeyword)) return true;
  }
  return node.getSourceFile().isDeclarationFile;
}

/** Every value binding of the file by name, with the node that declares it. */
function declaredNames(sf: ts.SourceFile): Map<string, ts.Node[]> {
  const names = new Map<string, ts.Node[]>();
  const add = (name: ts.Node | undefined, decl: ts.Node): void => {
    if (!name || !ts.isIdentifier(name)) return;
    const list = names.get(name.text) ?? [];
    list.push(decl);
    names.set(name.text, list);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isBindingElement(node) ||
      ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isClassDeclaration(node) ||
      ts.isClassExpression(node) || ts.isEnumDeclaration(node) || ts.isModuleDeclaration(node) ||
      ts.isImportClause(node) || ts.isNamespaceImport(node) || ts.isImportSpecifier(node) ||
      ts.isImportEqualsDeclaration(node)) {
      add(node.name, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return names;
}

// ---------------------------------------------------------------------------
// The esbuild plugin.

export interface FacadeInlining {
  /** Calls rewritten, over all files. */
  readonly inlined: number;
  /** Facade calls left to their wrapper, with why. */
  readonly skipped: readonly SkippedCall[];
  /** Original text of each rewritten file by absolute path (the source map should show these). */
  readonly originals: ReadonlyMap<string, string>;
}

export interface InlineFacadePlugin {
  readonly plugin: Plugin;
  /** Filled while esbuild runs; complete once the build has finished. */
  readonly report: () => FacadeInlining;
}

/**
 * Which facade module an import names: a relative specifier that resolves to
 * `<facadeDir>/<module>.ts` (not index.ts). Each module is read once.
 * @param facadeDir absolute path of the generated facade directory.
 */
export function createFacadeResolver(facadeDir: string): (importer: string, specifier: string) => FacadeModule | undefined {
  const modules = new Map<string, FacadeModule | undefined>();
  let table: InlineTable | undefined;
  let tableRead = false;
  const load = (file: string): FacadeModule | undefined => {
    if (!existsSync(file)) return undefined;
    if (!tableRead) {
      table = readInlineTable(join(facadeDir, INLINE_TABLE));
      tableRead = true;
    }
    const source = readFileSync(file, 'utf8');
    const name = basename(file, '.ts');
    const entry = table && Object.prototype.hasOwnProperty.call(table.modules, name) ? table.modules[name] : undefined;
    const current = entry !== undefined && entry.sha256 === createHash('sha256').update(source).digest('hex');
    return current ? tableFacadeModule(file, entry.functions) : readFacadeModule(file, source);
  };
  return (importer, specifier) => {
    if (!specifier.startsWith('.')) return undefined;
    const target = resolve(dirname(importer), specifier);
    const file = target.endsWith('.ts') ? target : `${target}.ts`;
    if (dirname(file) !== facadeDir || basename(file) === 'index.ts') return undefined;
    if (!modules.has(file)) modules.set(file, load(file));
    return modules.get(file);
  };
}

/** @param facadeDir absolute path of the generated facade directory. */
export function inlineFacadePlugin(facadeDir: string): InlineFacadePlugin {
  const facadeFor = createFacadeResolver(facadeDir);
  const originals = new Map<string, string>();
  const skipped: SkippedCall[] = [];
  let inlined = 0;

  const plugin: Plugin = {
    name: 'inline-ksr-facade',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.endsWith('.d.ts') || args.path.startsWith(facadeDir + sep) || args.path.includes(`${sep}node_modules${sep}`)) {
          return undefined;
        }
        const source = await readFile(args.path, 'utf8');
        const result = inlineFacadeCalls(source, args.path, (specifier) => facadeFor(args.path, specifier));
        skipped.push(...result.skipped);
        if (result.inlined === 0) return undefined; // esbuild reads it as usual
        inlined += result.inlined;
        originals.set(args.path, source);
        return { contents: result.code, loader: 'ts', resolveDir: dirname(args.path) };
      });
    },
  };
  return { plugin, report: () => ({ inlined, skipped, originals }) };
}
