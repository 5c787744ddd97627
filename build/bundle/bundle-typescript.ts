/**
 * Step 1 of the pipeline: esbuild resolves imports, strips types and wraps
 * everything in one IIFE. It lowers nothing (target esnext): its ES2015-target
 * helpers need APIs Duktape lacks (object spread becomes __spreadProps, which
 * calls Object.getOwnPropertyDescriptors), so all lowering is left to swc.
 */
import { build, type Message } from 'esbuild';
import { BUILD_ID_PLACEHOLDER } from './build-id.ts';

/** The IIFE's return value: the entry module's exports. */
const EXPORTS_GLOBAL = '__ksr';

/**
 * app_jsdt finds callbacks as global functions by name, so every `ksr_*`
 * export is copied onto the global object. Top-level `this` is the global in
 * Duktape; re-running it on reload simply overwrites the same properties.
 */
const KSR_GLOBALS_FOOTER = `(function(g){for(var k in ${EXPORTS_GLOBAL}){if(k.indexOf("ksr_")===0){g[k]=${EXPORTS_GLOBAL}[k];}}})(this);`;

export interface BundleInput {
  readonly entry: string;
  /** Where the bundle will be written: map sources are made relative to its directory. */
  readonly outFile: string;
  readonly tsconfig: string;
  readonly projectRoot: string;
}

export interface CodeWithMap {
  readonly code: string;
  /** Source map v3, JSON text. */
  readonly map: string;
}

export async function bundleTypeScript(input: BundleInput): Promise<CodeWithMap> {
  try {
    const result = await build({
      entryPoints: [input.entry],
      outfile: input.outFile,
      absWorkingDir: input.projectRoot,
      tsconfig: input.tsconfig,
      bundle: true,
      format: 'iife',
      globalName: EXPORTS_GLOBAL,
      footer: { js: KSR_GLOBALS_FOOTER },
      target: 'esnext',
      define: { __KSR_BUILD_ID__: JSON.stringify(BUILD_ID_PLACEHOLDER) },
      sourcemap: 'external',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles.find((f) => f.path.endsWith('.js'));
    const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
    if (!code || !map) throw new Error('esbuild produced no bundle');
    return { code: code.text, map: map.text };
  } catch (error) {
    const messages = (error as { errors?: Message[] }).errors;
    if (!messages) throw error;
    throw new Error(`esbuild could not bundle ${input.entry}:\n${messages.map(formatMessage).join('\n')}`);
  }
}

function formatMessage(message: Message): string {
  const at = message.location;
  return at ? `${at.file}:${at.line}:${at.column + 1}: ${message.text}` : message.text;
}
