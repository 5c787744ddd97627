/**
 * Runs every bundle guard and returns all refusals at once, so one build
 * reports every problem instead of the first one.
 */
import type { Program } from 'acorn';
import type { KemiApi } from '../kemi/api-list.ts';
import { parseBundle } from './ast.ts';
import { checkCallbackNames } from './callback-names.ts';
import { checkDuktapeBuiltins } from './duktape-builtins.ts';
import { checkEntryPoints } from './entry-points.ts';
import { checkEs5Syntax } from './es5-syntax.ts';
import { checkKemiCalls } from './kemi-calls.ts';
import type { BundleUnderCheck, GuardRefusal } from './refusal.ts';
import { checkSize } from './size.ts';

export interface BundleGuardOptions {
  readonly api: KemiApi;
  /** How messages name the API list, e.g. build/kemi/api_list-5.6.3.txt. */
  readonly apiListName: string;
  readonly cfgPath: string;
}

export function runBundleGuards(bundle: BundleUnderCheck, options: BundleGuardOptions): GuardRefusal[] {
  let program: Program | undefined;
  try {
    program = parseBundle(bundle.code);
  } catch {
    // Not JavaScript of any level: the es5-syntax guard reports the parse error.
  }
  const refusals = [...checkSize(bundle), ...checkEs5Syntax(bundle, program)];
  if (!program) return refusals;
  refusals.push(
    ...checkDuktapeBuiltins(bundle, program),
    ...checkKemiCalls(bundle, program, options.api, options.apiListName),
  );
  const entryPoints = checkEntryPoints(bundle);
  refusals.push(...entryPoints.refusals);
  if (entryPoints.globals) {
    refusals.push(...checkCallbackNames(bundle, program, entryPoints.globals, options.cfgPath));
  }
  return refusals;
}
