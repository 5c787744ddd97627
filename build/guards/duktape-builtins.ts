/**
 * Refuses uses of ES2015+ built-ins that Duktape 2.7 does not have (verified
 * in Kamailio's app_jsdt, research/app_jsdt-facts.md §3 "Fails"). The source
 * compiles against them when a file slips past tsconfig's ES5 lib, and they
 * fail only when the route runs: `ReferenceError: identifier 'Map' undefined`
 * or `TypeError: undefined not callable`.
 *
 * `.includes` is deliberately absent: String.prototype.includes exists in
 * Duktape and Array.prototype.includes does not, and only the type checker
 * (ES5 lib + src/duktape-lib.d.ts) knows which one a call hits.
 */
import type { Identifier, MemberExpression, Node, Program } from 'acorn';
import { startOf, stringValue, walk } from './ast.ts';
import { GuardRefusal, type BundleUnderCheck } from './refusal.ts';

const MISSING_GLOBALS: ReadonlySet<string> = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'Promise']);

/** Static members, by owner. Object.getOwnPropertyDescriptors was found missing by running duk 2.7. */
const MISSING_STATICS: Readonly<Record<string, readonly string[]>> = {
  Object: ['values', 'entries', 'fromEntries', 'getOwnPropertyDescriptors'],
  Array: ['from', 'of'],
  Symbol: ['asyncIterator'],
};

/** Prototype methods; matched by name on any object, since the AST does not know receiver types. */
const MISSING_METHODS: Readonly<Record<string, string>> = {
  find: 'Array.prototype.find',
  findIndex: 'Array.prototype.findIndex',
  fill: 'Array.prototype.fill',
  flat: 'Array.prototype.flat',
  flatMap: 'Array.prototype.flatMap',
  padStart: 'String.prototype.padStart',
  padEnd: 'String.prototype.padEnd',
  trimStart: 'String.prototype.trimStart',
  trimEnd: 'String.prototype.trimEnd',
  matchAll: 'String.prototype.matchAll',
  replaceAll: 'String.prototype.replaceAll',
};

/**
 * swc helpers with a branch that names a missing built-in but can never run in
 * Duktape: _unsupported_iterable_to_array calls Array.from only for Map/Set
 * instances; _wrap_native_super (emitted when a class extends one named like
 * a browser global, e.g. `Request`) creates its Map only if `typeof Map === "function"`.
 */
const HELPERS_WITH_DEAD_BRANCHES: ReadonlySet<string> = new Set(['_unsupported_iterable_to_array', '_wrap_native_super']);

export function checkDuktapeBuiltins(bundle: BundleUnderCheck, program: Program): GuardRefusal[] {
  const declared = declaredNames(program);
  const refusals: GuardRefusal[] = [];
  walk(program, (node, ancestors) => {
    const missing = missingBuiltin(node, ancestors, declared);
    if (!missing || ancestors.some(isDeadBranchHelper)) return;
    const { line, column } = startOf(node);
    refusals.push(
      new GuardRefusal(
        'duktape-builtins',
        `${missing} does not exist in Duktape 2.7 (fails when the route runs) at ${bundle.locator.describe(line, column)}`,
      ),
    );
  });
  return refusals;
}

function missingBuiltin(node: Node, ancestors: readonly Node[], declared: ReadonlySet<string>): string | undefined {
  if (node.type === 'Identifier') {
    const { name } = node as Identifier;
    const parent = ancestors[ancestors.length - 1];
    if (!MISSING_GLOBALS.has(name) || declared.has(name) || !isReference(node, parent)) return undefined;
    return name;
  }
  if (node.type !== 'MemberExpression') return undefined;
  const member = node as MemberExpression;
  const property = member.computed ? stringValue(member.property) : (member.property as Identifier).name;
  if (property === undefined) return undefined;
  const owner = member.object.type === 'Identifier' ? (member.object as Identifier).name : undefined;
  if (owner !== undefined && MISSING_STATICS[owner]?.includes(property)) return `${owner}.${property}`;
  return Object.hasOwn(MISSING_METHODS, property) ? `.${property}() (${MISSING_METHODS[property]})` : undefined;
}

/** False for names that are not variable reads: property keys, `x.Map`, and `typeof Map` (never throws). */
function isReference(node: Node, parent: Node | undefined): boolean {
  if (!parent) return true;
  if (parent.type === 'MemberExpression') {
    const member = parent as MemberExpression;
    return member.object === node || member.computed;
  }
  if (parent.type === 'Property') return (parent as Node & { value: Node }).value === node;
  return !(parent.type === 'UnaryExpression' && (parent as Node & { operator: string }).operator === 'typeof');
}

/** A bundle that defines its own `Map` (a polyfill, a class named Set) shadows the global one. */
function declaredNames(program: Program): Set<string> {
  const names = new Set<string>();
  walk(program, (node) => {
    const id = (node as Node & { id?: Node | null }).id;
    if (id?.type === 'Identifier') names.add((id as Identifier).name);
  });
  return names;
}

function isDeadBranchHelper(node: Node): boolean {
  const id = (node as Node & { id?: Node | null }).id;
  if (node.type !== 'FunctionDeclaration' || id?.type !== 'Identifier') return false;
  return HELPERS_WITH_DEAD_BRANCHES.has((id as Identifier).name);
}
