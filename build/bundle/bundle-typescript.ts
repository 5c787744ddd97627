/**
 * Step 1 of the pipeline: esbuild resolves imports, strips types and wraps
 * everything in one IIFE. It lowers nothing (target esnext): its ES2015-target
 * helpers need APIs Duktape lacks (object spread becomes __spreadProps, which
 * calls Object.getOwnPropertyDescriptors), so all lowering is left to swc.
 * While loading the sources, the inline-facade plugin replaces calls of the
 * generated KSR facade with the KSR calls they wrap (./inline-facade.ts).
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { build, type Message } from 'esbuild';
import { BUILD_ID_PLACEHOLDER } from './build-id.ts';
import { bindKsrInBundle } from './ksr-binding.ts';
import { ksrGlobalsFooter } from './ksr-globals-footer.ts';
import { FACADE_DIR, inlineFacadePlugin, type FacadeInlining } from './inline-facade.ts';

/** The IIFE's return value: the entry module's exports. */
const EXPORTS_GLOBAL = '__ksr';

/** Every `ksr_*` export becomes a global; stale ones of a previous load are deleted (./ksr-globals-footer.ts). */
const KSR_GLOBALS_FOOTER = ksrGlobalsFooter(EXPORTS_GLOBAL);

export interface BundleInput {
  readonly entry: string;
  /** Where the bundle will be written: map sources are made relative to its directory. */
  readonly outFile: string;
  readonly tsconfig: string;
  readonly projectRoot: string;
  /** Inline the generated KSR facade at its call sites (default true; off only to measure what it saves). */
  readonly inlineFacade?: boolean;
}

export interface CodeWithMap {
  readonly code: string;
  /** Source map v3, JSON text. */
  readonly map: string;
}

export interface BundledTypeScript extends CodeWithMap {
  /** What the inline-facade plugin did; nothing inlined when it was off. */
  readonly facade: Omit<FacadeInlining, 'originals'>;
}

export async function bundleTypeScript(input: BundleInput): Promise<BundledTypeScript> {
  const inliner = input.inlineFacade === false ? undefined : inlineFacadePlugin(resolve(input.projectRoot, FACADE_DIR));
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
      plugins: inliner ? [inliner.plugin] : [],
    });
    const code = result.outputFiles.find((f) => f.path.endsWith('.js'));
    const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
    if (!code || !map) throw new Error('esbuild produced no bundle');
    // Columns move on the IIFE's first and last lines only, which map to no source.
    const bound = bindKsrInBundle(code.text);
    if (!inliner) return { code: bound, map: map.text, facade: { inlined: 0, skipped: [] } };
    const { originals, ...facade } = inliner.report();
    return { code: bound, map: withOriginalSources(map.text, originals, dirname(input.outFile)), facade };
  } catch (error) {
    const messages = (error as { errors?: Message[] }).errors;
    if (!messages) throw error;
    throw new Error(`esbuild could not bundle ${input.entry}:\n${messages.map(formatMessage).join('\n')}`);
  }
}

/**
 * esbuild embeds the text it compiled, which for a rewritten file is the
 * inlined one; the map shows the file as written instead. Lines are the same
 * in both, so every mapping still points at the right line.
 */
function withOriginalSources(mapText: string, originals: ReadonlyMap<string, string>, mapDir: string): string {
  if (originals.size === 0) return mapText;
  const map = JSON.parse(mapText) as { sources: string[]; sourcesContent?: (string | null)[] };
  const byRelative = new Map([...originals].map(([path, text]) => [relative(mapDir, path).split(sep).join('/'), text]));
  map.sources.forEach((source, i) => {
    const original = byRelative.get(source);
    if (original !== undefined && map.sourcesContent) map.sourcesContent[i] = original;
  });
  return JSON.stringify(map);
}

function formatMessage(message: Message): string {
  const at = message.location;
  return at ? `${at.file}:${at.line}:${at.column + 1}: ${message.text}` : message.text;
}
