/**
 * app_jsdt calls callbacks by the name it is given, and a name that matches
 * no global function is skipped silently (visible only at debug=3), so a typo
 * in `t_on_failure("ksr_failure_mange")` quietly disables the failure route.
 * Every name that can reach Kamailio must be a global function of the bundle:
 * - string literals shaped like `ksr_<name>` anywhere in the bundle,
 * - literal arguments of the tm callback setters, whatever their prefix,
 * - `event_callback*` modparams and `kemi.*_callback` core parameters of the cfg.
 * A name passed as a variable is covered only through the literal it came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { CallExpression, Identifier, MemberExpression, Node, Program } from 'acorn';
import { startOf, stringValue, walk } from './ast.ts';
import { GuardRefusal, type BundleUnderCheck } from './refusal.ts';

const TM_CALLBACK_SETTERS: ReadonlySet<string> = new Set([
  't_on_failure',
  't_on_reply',
  't_on_branch',
  't_on_branch_failure',
]);

const CALLBACK_LIKE = /^ksr_\w+$/;

export interface CfgCallback {
  readonly name: string;
  readonly line: number;
  /** How the cfg names it, e.g. `modparam("websocket", "event_callback")`. */
  readonly source: string;
}

export function checkCallbackNames(
  bundle: BundleUnderCheck,
  program: Program,
  globals: ReadonlySet<string>,
  cfgPath: string,
): GuardRefusal[] {
  const refusals: GuardRefusal[] = [];
  const refuse = (message: string): void => {
    refusals.push(new GuardRefusal('callback-names', message));
  };
  walk(program, (node, ancestors) => {
    const name = stringValue(node);
    if (name === undefined || globals.has(name)) return;
    const parent = ancestors[ancestors.length - 1];
    const setter = parent && tmSetterCalledWith(parent, node);
    const { line, column } = startOf(node);
    const where = bundle.locator.describe(line, column);
    if (setter) {
      refuse(`callback "${name}" passed to ${setter} at ${where} is not a global function of the bundle`);
    } else if (CALLBACK_LIKE.test(name) && parent?.type !== 'Property') {
      refuse(`string "${name}" at ${where} looks like a callback name but is not a global function of the bundle`);
    }
  });
  if (existsSync(cfgPath)) {
    const cfgName = relative(process.cwd(), cfgPath);
    for (const callback of cfgCallbackNames(readFileSync(cfgPath, 'utf8'))) {
      if (globals.has(callback.name)) continue;
      refuse(
        `callback "${callback.name}" named by ${callback.source} at ${cfgName}:${callback.line} ` +
          'is not a global function of the bundle',
      );
    }
  }
  return refusals;
}

/** The setter's name when `node` is the first argument of `<anything>.t_on_*(…)`. */
function tmSetterCalledWith(parent: Node, node: Node): string | undefined {
  if (parent.type !== 'CallExpression') return undefined;
  const call = parent as CallExpression;
  if (call.arguments[0] !== node || call.callee.type !== 'MemberExpression') return undefined;
  const member = call.callee as MemberExpression;
  const name = member.computed ? stringValue(member.property) : (member.property as Identifier).name;
  return name !== undefined && TM_CALLBACK_SETTERS.has(name) ? name : undefined;
}

const MODPARAM_CALLBACK = /^\s*modparam\s*\(\s*["']([^"']+)["']\s*,\s*["'](event_callback\w*)["']\s*,\s*["']([^"']*)["']/;
const CORE_CALLBACK = /^\s*(kemi\.\w+_callback)\s*=\s*["']([^"']*)["']/;
/** Values by which the kemi.* core parameters disable a callback. */
const DISABLED = new Set(['', 'none']);

/**
 * Callback names in a kamailio.cfg. `#!ifdef` blocks are read as if enabled:
 * a name that is wrong when the block is off is still wrong when it is on.
 */
export function cfgCallbackNames(cfgText: string): CfgCallback[] {
  const callbacks: CfgCallback[] = [];
  withoutBlockComments(cfgText)
    .split('\n')
    .forEach((text, index) => {
      const line = index + 1;
      const modparam = MODPARAM_CALLBACK.exec(text);
      if (modparam) {
        const [, module, param, name] = modparam as unknown as [string, string, string, string];
        callbacks.push({ name, line, source: `modparam("${module}", "${param}")` });
      }
      const core = CORE_CALLBACK.exec(text);
      if (core && !DISABLED.has(core[2]!)) callbacks.push({ name: core[2]!, line, source: core[1]! });
    });
  return callbacks;
}

/** Blanks out C-style comments but keeps their newlines, so line numbers stay right. */
function withoutBlockComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ' '));
}
