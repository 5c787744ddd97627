/**
 * Refuses output that Duktape 2.7 cannot compile: anything beyond ES5.1
 * syntax. acorn at ecmaVersion 5 also validates regex literals against the ES5
 * grammar, so flags other than g/i/m, named groups and lookbehinds are caught
 * there. swc rewrites some such literals as `RegExp("a", "y")` calls, which
 * parse fine and throw only when they run in Duktape, so literal arguments of
 * RegExp calls are checked on top.
 */
import { parse, type Node, type Program } from 'acorn';
import { startOf, stringValue, walk } from './ast.ts';
import { GuardRefusal, type BundleUnderCheck } from './refusal.ts';

export function checkEs5Syntax(bundle: BundleUnderCheck, program: Program | undefined): GuardRefusal[] {
  const refusals: GuardRefusal[] = [];
  try {
    parse(bundle.code, { ecmaVersion: 5, sourceType: 'script', locations: true });
  } catch (error) {
    const { message, loc } = error as SyntaxError & { loc?: { line: number; column: number } };
    const reason = message.replace(/ \(\d+:\d+\)$/, '');
    const where = loc ? bundle.locator.describe(loc.line, loc.column) : bundle.fileName;
    refusals.push(
      new GuardRefusal('es5-syntax', `not ES5 (Duktape 2.7 would refuse to load the bundle): ${reason} at ${where}`),
    );
  }
  if (program) {
    walk(program, (node) => {
      const regex = regexCallOf(node);
      const problem = regex && unsupportedRegexFeature(regex.pattern, regex.flags);
      if (!problem) return;
      const { line, column } = startOf(node);
      refusals.push(
        new GuardRefusal(
          'es5-syntax',
          `regular expression /${regex.pattern}/${regex.flags} uses ${problem} ` +
            `at ${bundle.locator.describe(line, column)}`,
        ),
      );
    });
  }
  return refusals;
}

interface RegexParts {
  readonly pattern: string;
  readonly flags: string;
}

function regexCallOf(node: Node): RegexParts | undefined {
  if (node.type !== 'NewExpression' && node.type !== 'CallExpression') return undefined;
  const call = node as Node & { callee: Node; arguments: Node[] };
  if (call.callee.type !== 'Identifier' || (call.callee as Node & { name: string }).name !== 'RegExp') return undefined;
  const pattern = stringValue(call.arguments[0]);
  if (pattern === undefined) return undefined;
  return { pattern, flags: stringValue(call.arguments[1]) ?? '' };
}

/** Describes the first regex feature Duktape 2.7 rejects, with the error it throws; undefined if none. */
export function unsupportedRegexFeature(pattern: string, flags: string): string | undefined {
  const badFlag = [...flags].find((flag) => !'gim'.includes(flag));
  if (badFlag) return `flag "${badFlag}" (Duktape: SyntaxError: invalid regexp flags)`;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      i++;
    } else if (inClass) {
      inClass = char !== ']';
    } else if (char === '[') {
      inClass = true;
    } else if (pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) {
      return 'a lookbehind (Duktape: SyntaxError: invalid regexp group)';
    } else if (pattern.startsWith('(?<', i)) {
      return 'a named group (Duktape: SyntaxError: invalid regexp group)';
    }
  }
  return undefined;
}
