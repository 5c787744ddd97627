/**
 * Hand-written "bundles" for guard unit tests: JavaScript plus an optional
 * source map, wrapped the way the pipeline hands a bundle to the guards.
 */
import type { Program } from 'acorn';
import { SourceLocator } from '../../build/bundle/source-locator.ts';
import { parseBundle } from '../../build/guards/ast.ts';
import type { BundleUnderCheck } from '../../build/guards/refusal.ts';

export const PROJECT_ROOT = '/project';

/** A map whose `sources` resolve against /project/dist, as a written bundle's would. */
export function craftedBundle(code: string, map?: { sources: string[]; mappings: string }): BundleUnderCheck {
  const sourceMap = { version: 3 as const, names: [], sources: map?.sources ?? [], mappings: map?.mappings ?? '' };
  const locator = new SourceLocator(sourceMap, `${PROJECT_ROOT}/dist`, PROJECT_ROOT, 'kamailio.js');
  return { code, fileName: 'kamailio.js', locator };
}

export function craftedProgram(code: string): { bundle: BundleUnderCheck; program: Program } {
  return { bundle: craftedBundle(code), program: parseBundle(code) };
}

export function messages(errors: readonly Error[]): string[] {
  return errors.map((error) => error.message);
}
