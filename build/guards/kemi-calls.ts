/**
 * Every `KSR.<module>.<fn>` and `KSR.<fn>` in the bundle must exist in the
 * KEMI API list of the Kamailio build we deploy to. The list holds only the
 * modules the cfg loads, so this catches a call into a module that is not
 * loaded, which otherwise fails only when the route runs
 * (`TypeError: undefined not callable`).
 */
import type { Identifier, MemberExpression, Node, Program } from 'acorn';
import type { KemiApi } from '../kemi/api-list.ts';
import { startOf, stringValue, walk } from './ast.ts';
import { GuardRefusal, type BundleUnderCheck } from './refusal.ts';

/** KSR.x is implemented by app_jsdt itself and is not part of the api_list. */
const APP_JSDT_BUILTINS: Readonly<Record<string, readonly string[]>> = { x: ['exit', 'drop', 'modf'] };

interface KsrReference {
  /** `tm.t_relay`, `is_method`, `tm`, or undefined for a key computed at run time. */
  readonly path: string | undefined;
  readonly node: Node;
}

export function checkKemiCalls(
  bundle: BundleUnderCheck,
  program: Program,
  api: KemiApi,
  apiListName: string,
): GuardRefusal[] {
  const modules = new Set(api.functions.map((fn) => fn.module).filter((module) => module !== ''));
  const isKnown = (path: string): boolean => {
    const [first = '', second] = path.split('.');
    if (APP_JSDT_BUILTINS[first]) return second === undefined || APP_JSDT_BUILTINS[first].includes(second);
    if (second === undefined) return modules.has(first) || api.byPath.has(first);
    // `KSR.info.apply`: a member of a core function, not a module function.
    return api.byPath.has(path) || (!modules.has(first) && api.byPath.has(first));
  };
  const uses = new Map<string, { first: Node; count: number }>();
  const refusals: GuardRefusal[] = [];
  walk(program, (node, ancestors) => {
    const reference = ksrReference(node, ancestors);
    if (!reference) return;
    const { line, column } = startOf(reference.node);
    if (reference.path === undefined) {
      refusals.push(
        new GuardRefusal(
          'kemi-calls',
          `KSR member computed at run time at ${bundle.locator.describe(line, column)} cannot be checked ` +
            `against ${apiListName}; write KSR.<module>.<function> literally`,
        ),
      );
    } else if (!isKnown(reference.path)) {
      const use = uses.get(reference.path);
      if (use) use.count++;
      else uses.set(reference.path, { first: reference.node, count: 1 });
    }
  });
  for (const [path, { first, count }] of uses) {
    const { line, column } = startOf(first);
    const [module = '', fn] = path.split('.');
    refusals.push(
      new GuardRefusal(
        'kemi-calls',
        `KSR.${path} is not in the KEMI API list ${apiListName} (${whyUnknown(module, fn, modules)})` +
          `${count > 1 ? ` (${count} uses, first)` : ''} at ${bundle.locator.describe(line, column)}`,
      ),
    );
  }
  return refusals;
}

function whyUnknown(module: string, fn: string | undefined, modules: ReadonlySet<string>): string {
  const builtins = APP_JSDT_BUILTINS[module];
  if (builtins) return `KSR.${module} of app_jsdt has only ${builtins.join(', ')}`;
  if (fn === undefined) return `no core function or module "${module}"`;
  return modules.has(module) ? `module "${module}" has no function "${fn}"` : `module "${module}" is not loaded`;
}

/**
 * Recognises the outermost node of a `KSR.a` or `KSR.a.b` chain: visited at
 * the `KSR.a` member, it looks one level up for `.b`.
 */
function ksrReference(node: Node, ancestors: readonly Node[]): KsrReference | undefined {
  if (node.type !== 'MemberExpression') return undefined;
  const member = node as MemberExpression;
  if (member.object.type !== 'Identifier' || (member.object as Identifier).name !== 'KSR') return undefined;
  const first = propertyName(member);
  const parent = ancestors[ancestors.length - 1];
  if (first === undefined) return { path: undefined, node };
  if (parent?.type !== 'MemberExpression' || (parent as MemberExpression).object !== node) return { path: first, node };
  const second = propertyName(parent as MemberExpression);
  return { path: second === undefined ? undefined : `${first}.${second}`, node: parent };
}

function propertyName(member: MemberExpression): string | undefined {
  return member.computed ? stringValue(member.property) : (member.property as Identifier).name;
}
