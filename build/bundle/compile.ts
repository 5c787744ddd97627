/**
 * TypeScript entry -> one stamped ES5 bundle and its map, in memory. Nothing
 * is written here: the guards and the Duktape check decide whether it ships.
 */
import { basename } from 'node:path';
import { bundleTypeScript, type BundledTypeScript, type BundleInput } from './bundle-typescript.ts';
import { stampBuildId } from './build-id.ts';
import { dedent } from './dedent.ts';
import { lowerToEs5 } from './lower-es5.ts';

export interface CompiledBundle {
  readonly code: string;
  /** Source map v3, JSON text, sources relative to the bundle's directory. */
  readonly map: string;
  readonly buildId: string;
  /** Facade calls inlined, and the ones left to their wrapper with why. */
  readonly facade: BundledTypeScript['facade'];
}

export async function compileBundle(input: BundleInput): Promise<CompiledBundle> {
  const fileName = basename(input.outFile);
  const bundled = await bundleTypeScript(input);
  const lowered = dedent(await lowerToEs5(bundled, fileName));
  const { code, buildId } = stampBuildId(`${lowered.code.trimEnd()}\n//# sourceMappingURL=${fileName}.map\n`);
  const map = { ...(JSON.parse(lowered.map) as object), file: fileName };
  return { code, map: JSON.stringify(map), buildId, facade: bundled.facade };
}
