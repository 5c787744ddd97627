/**
 * TypeScript entry -> one stamped ES5 bundle and its map, in memory. Nothing
 * is written here: the guards and the Duktape check decide whether it ships.
 */
import { basename, dirname } from 'node:path';
import { bundleTypeScript, type BundledTypeScript, type BundleInput } from './bundle-typescript.ts';
import { stampBuildId } from './build-id.ts';
import { dedent } from './dedent.ts';
import { encodeLineTable, linePositions, lineTableStatement } from './line-table.ts';
import { lowerToEs5 } from './lower-es5.ts';
import { SourceLocator } from './source-locator.ts';

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
  const program = lowered.code.trimEnd();
  // After the last code line, so no line moves; before stamping, so the build id covers it.
  const locator = new SourceLocator(lowered.map, dirname(input.outFile), input.projectRoot, fileName);
  const lineTable = lineTableStatement(encodeLineTable(linePositions(program, locator)));
  const { code, buildId } = stampBuildId(`${program}\n${lineTable}\n//# sourceMappingURL=${fileName}.map\n`);
  const map = { ...(JSON.parse(lowered.map) as object), file: fileName };
  return { code, map: JSON.stringify(map), buildId, facade: bundled.facade };
}
