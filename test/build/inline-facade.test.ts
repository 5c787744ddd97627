/**
 * The inline-facade build step (build/bundle/inline-facade.ts): generated KSR
 * wrappers replaced by their bodies at the call sites, in the bundle only.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { optionsFromArgs } from '../../build/build.ts';
import { bundleTypeScript } from '../../build/bundle/bundle-typescript.ts';
import { compileBundle } from '../../build/bundle/compile.ts';
import {
  createFacadeResolver,
  FACADE_DIR,
  inlineFacadeCalls,
  readFacadeModule,
  tableFacadeModule,
  type InlineResult,
} from '../../build/bundle/inline-facade.ts';
import { runBuild, type BuildReport } from '../../build/bundle/pipeline.ts';
import { SourceLocator } from '../../build/bundle/source-locator.ts';
import { duktapeVersion } from '../../build/duktape/check.ts';
import { PROJECT_ROOT } from './build-fixtures.ts';

const FACADE = join(PROJECT_ROOT, FACADE_DIR);
const ROUTING = join(PROJECT_ROOT, 'src/routing');
const facadeFor = createFacadeResolver(FACADE);

/** Transforms a snippet as if it were src/routing/snippet.ts. */
function inline(source: string, file = join(ROUTING, 'snippet.ts')): InlineResult {
  return inlineFacadeCalls(source, file, (specifier) => facadeFor(file, specifier));
}

const IMPORTS = [
  "import * as core from '../ksr/generated/core';",
  "import * as kx from '../ksr/generated/kx';",
  "import * as registrar from '../ksr/generated/registrar';",
  "import * as siputils from '../ksr/generated/siputils';",
  "import * as sl from '../ksr/generated/sl';",
].join('\n');

/** The snippet's body after the import lines, as the transform wrote it. */
function body(source: string): string {
  const result = inline(`${IMPORTS}\n${source}`);
  return result.code.slice(IMPORTS.length + 1);
}

describe('inlining facade calls in one file', () => {
  it('turns a predicate into the comparison it wraps, parenthesised', () => {
    expect(body('if (!siputils.has_totag()) sl.sl_reply_error();')).toBe(
      'if (!(KSR.siputils.has_totag() > 0)) KSR.sl.sl_reply_error();',
    );
    expect(body('const initial = !siputils.has_totag();')).toBe('const initial = !(KSR.siputils.has_totag() > 0);');
  });

  it('substitutes argument text, nested facade calls included, each argument once and in order', () => {
    expect(body("sl.sl_send_reply(next(), 'x' + String(kx.get_ruri()));")).toBe(
      "KSR.sl.sl_send_reply(next(), 'x' + String(KSR.kx.get_ruri()));",
    );
    expect(body('const same = siputils.cmp_uri(a(), siputils.cmp_aor(b(), c()) ? d() : e());')).toBe(
      'const same = (KSR.siputils.cmp_uri(a(), (KSR.siputils.cmp_aor(b(), c()) > 0) ? d() : e()) > 0);',
    );
  });

  it('keeps the value of a codes function as is (the cast is a type only) and drops the cast', () => {
    expect(body('const found = registrar.lookup(TABLE);\nif (found === -2) x();')).toBe(
      'const found = KSR.registrar.lookup(TABLE);\nif (found === -2) x();',
    );
    expect(readFileSync(join(FACADE, 'registrar.ts'), 'utf8')).toContain('return KSR.registrar.lookup(table) as LookupResult;');
  });

  it('calls a void function as a statement, and keeps its undefined value elsewhere', () => {
    expect(body("core.info('hello\\n');")).toBe("KSR.info('hello\\n');");
    expect(body("const nothing = core.info('x');")).toBe("const nothing = (void KSR.info('x'));");
  });

  it('drops the `> 0` of a status whose value a statement discards', () => {
    expect(body('sl.sl_reply_error();')).toBe('KSR.sl.sl_reply_error();');
  });

  it('leaves every other use of a namespace to the wrapper', () => {
    const source = 'use(siputils);\nconst f = siputils.has_totag;\nconst g = siputils["has_totag"]();\nsiputils.has_totag?.();';
    expect(body(source)).toBe(source);
  });

  it('leaves calls alone where the namespace or KSR is a local name', () => {
    const shadowing = 'function f(siputils: { has_totag(): boolean }) {\n  return siputils.has_totag();\n}\nsl.sl_reply_error();';
    const result = inline(`${IMPORTS}\n${shadowing}`);
    expect(result.code).toBe(`${IMPORTS}\n${shadowing.replace('sl.sl_reply_error()', 'KSR.sl.sl_reply_error()')}`);
    expect(result.skipped).toEqual([expect.objectContaining({ line: 7, reason: 'siputils is also declared in this file' })]);

    const localKsr = 'const KSR = { fake: true };\nsl.sl_reply_error();';
    expect(inline(`${IMPORTS}\n${localKsr}`).code).toBe(`${IMPORTS}\n${localKsr}`);
    const ambientKsr = 'declare const KSR: unknown;\nsl.sl_reply_error();';
    expect(inline(`${IMPORTS}\n${ambientKsr}`).code).toBe(`${IMPORTS}\ndeclare const KSR: unknown;\nKSR.sl.sl_reply_error();`);
  });

  it('leaves calls with spread or missing arguments, type-only imports and other modules alone', () => {
    expect(body('sl.sl_send_reply(...args);\nsl.sl_send_reply(404);')).toBe('sl.sl_send_reply(...args);\nsl.sl_send_reply(404);');
    const typeOnly = "import type * as tm from '../ksr/generated/tm';\nimport * as ksr from '../ksr';\ntm.t_relay();\nksr.exit();";
    expect(inline(typeOnly)).toEqual({ code: typeOnly, inlined: 0, skipped: [] });
  });

  it('never starts a statement with "(" (it would continue a previous line that has no semicolon)', () => {
    const source = 'const x = y\nsiputils.has_totag() || other();';
    expect(body(source)).toBe(source);
    expect(body('const x = y\nsiputils.has_totag();\nkx.get_ruri() || other();')).toBe(
      'const x = y\nKSR.siputils.has_totag();\nKSR.kx.get_ruri() || other();',
    );
  });

  it('keeps every line break, each argument on its line and column, and nothing after `return` on its line', () => {
    const source = [
      'sl.sl_send_reply(',
      '  404, // the code',
      "  'Not ' +",
      "    'here',",
      ');',
      'function f() {',
      '  return siputils',
      '    .has_totag();',
      '}',
    ].join('\n');
    expect(body(source).split('\n')).toEqual([
      'KSR.sl.sl_send_reply(',
      '  404, ',
      "  'Not ' +",
      "    'here')",
      ' ;', // blanks where the call's text was: what follows keeps its column
      'function f() {',
      '  return (KSR.siputils.has_totag() > 0',
      '                );',
      '}',
    ]);
  });

  it('keeps the lines of every routing file: lines without a facade call differ at most in closing punctuation', () => {
    const body = (line: string) => line.replace(/(\s|[,;()]|> 0)*$/, '');
    let inlined = 0;
    for (const name of readdirSync(ROUTING).filter((f) => f.endsWith('.ts'))) {
      const file = join(ROUTING, name);
      const source = readFileSync(file, 'utf8');
      const result = inline(source, file);
      expect(result.skipped, name).toEqual([]);
      inlined += result.inlined;
      const before = source.split('\n');
      const after = result.code.split('\n');
      expect(after.length, name).toBe(before.length);
      const namespaces = [...source.matchAll(/^import \* as (\w+) from '\.\.\/ksr\/generated\/\w+';$/gm)].map((m) => m[1]!);
      const facadeCall = new RegExp(`\\b(${namespaces.join('|') || '$^'})\\.\\w+\\(`);
      before.forEach((line, i) => {
        if (line.startsWith('import ') || !facadeCall.test(line)) expect(body(after[i]!), `${name}:${i + 1}`).toBe(body(line));
        else expect(after[i], `${name}:${i + 1}`).toMatch(/KSR\.\w+/);
      });
    }
    expect(inlined).toBeGreaterThan(40);
  });
});

describe('reading wrappers out of the inline table or a generated module', () => {
  const table = JSON.parse(readFileSync(join(FACADE, 'inline.json'), 'utf8')) as {
    modules: Record<string, { sha256: string; functions: Record<string, { params: string[]; body: string }> }>;
  };
  const refusals = (source: string, names: string[]) => {
    const module = readFacadeModule(join(FACADE, 'fake.ts'), `declare const KSR: any;\nconst helper = 1;\n${source}`);
    return Object.fromEntries(names.map((name) => [name, module.wrapper(name)]));
  };

  it('inlines the three shapes the generator writes', () => {
    const registrar = facadeFor(join(ROUTING, 'x.ts'), '../ksr/generated/registrar')!;
    expect(registrar.from).toBe('table');
    expect(registrar.wrapper('save')).toEqual({
      name: 'save',
      params: ['table', 'flags'],
      value: { pieces: ['KSR.registrar.save(', ', ', ') > 0'], isCall: false, bareSlots: [true, true] },
      discarded: { pieces: ['KSR.registrar.save(', ', ', ')'], isCall: true, bareSlots: [true, true] },
    });
    expect(registrar.wrapper('lookup')).toMatchObject({ value: { pieces: ['KSR.registrar.lookup(', ')'], isCall: true } });
    expect(facadeFor(join(ROUTING, 'x.ts'), '../ksr/generated/core')!.wrapper('info')).toMatchObject({
      value: { pieces: ['void KSR.info(', ')'], isCall: false },
      discarded: { pieces: ['KSR.info(', ')'], isCall: true },
    });
    expect(registrar.wrapper('no_such')).toBe('no such exported function');
    expect(registrar.wrapper('constructor')).toBe('no such exported function');
  });

  it('has a table entry for every wrapper of every module, inlined exactly as the .ts reads', () => {
    const modules = readdirSync(FACADE).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    expect(Object.keys(table.modules).sort()).toEqual(modules.map((f) => f.slice(0, -3)).sort());
    for (const file of modules) {
      const source = readFileSync(join(FACADE, file), 'utf8');
      const exported = [...source.matchAll(/^export function (\w+)\(/gm)].map((m) => m[1]!);
      const functions = table.modules[file.slice(0, -3)]!.functions;
      expect(Object.keys(functions), file).toEqual(exported);
      const fromSource = readFacadeModule(join(FACADE, file), source);
      const fromTable = tableFacadeModule(join(FACADE, file), functions);
      for (const name of exported) {
        expect(typeof fromTable.wrapper(name), `${file} ${name}`).toBe('object');
        expect(fromTable.wrapper(name), `${file} ${name}`).toEqual(fromSource.wrapper(name));
      }
    }
  });

  it('reads a module from its .ts when the table does not match it (edited by hand, not regenerated)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facade-'));
    cpSync(join(FACADE, 'inline.json'), join(dir, 'inline.json'));
    cpSync(join(FACADE, 'registrar.ts'), join(dir, 'registrar.ts'));
    const siputils = readFileSync(join(FACADE, 'siputils.ts'), 'utf8');
    writeFileSync(join(dir, 'siputils.ts'), siputils.replace('return KSR.siputils.has_totag() > 0;', 'return KSR.siputils.has_totag() >= 1;'));
    const resolver = createFacadeResolver(dir);
    const importer = join(dir, '..', 'x.ts');
    const prefix = `./${relative(join(dir, '..'), dir)}`;
    expect(resolver(importer, `${prefix}/registrar`)!.from).toBe('table');
    const edited = resolver(importer, `${prefix}/siputils`)!;
    expect(edited.from).toBe('source');
    expect(edited.wrapper('has_totag')).toMatchObject({ value: { pieces: ['KSR.siputils.has_totag() >= 1'] } });
    expect(createFacadeResolver(join(dir, 'elsewhere'))(importer, `${prefix}/elsewhere/registrar`)).toBeUndefined();
  });

  it('refuses a body that would evaluate an argument twice, out of order, conditionally, or use anything but KSR', () => {
    const names = ['twice', 'swapped', 'unused', 'lazy', 'free', 'two', 'optional', 'overloaded'];
    const found = refusals(
      [
        'export function twice(a: string): boolean { return KSR.m.f(a, a) > 0; }',
        'export function swapped(a: string, b: string): boolean { return KSR.m.f(b, a) > 0; }',
        'export function unused(a: string): boolean { return KSR.m.f() > 0; }',
        'export function lazy(a: string): boolean { return KSR.m.f() > 0 && KSR.m.g(a) > 0; }',
        'export function free(a: string): boolean { return KSR.m.f(a, helper) > 0; }',
        'export function two(a: string): boolean { KSR.m.g(); return KSR.m.f(a) > 0; }',
        'export function optional(a?: string): boolean { return KSR.m.f(a) > 0; }',
        'export function overloaded(a: string): boolean;',
        'export function overloaded(a: string): boolean { return KSR.m.f(a) > 0; }',
        'export function fine(a: string, b: number): number { return KSR.m.f(a, b + 1); }',
      ].join('\n'),
      [...names, 'fine'],
    );
    expect(found).toEqual({
      twice: 'parameters are not each used once, in order',
      swapped: 'parameters are not each used once, in order',
      unused: 'parameters are not each used once, in order',
      lazy: 'operator &&',
      free: 'body uses helper, which is neither KSR nor a parameter',
      two: 'more than one statement',
      optional: 'a parameter that is not a plain required name',
      overloaded: 'overloaded',
      // b is an operand there, not a whole argument: its argument text gets parentheses.
      fine: expect.objectContaining({ value: { pieces: ['KSR.m.f(', ', ', ' + 1)'], isCall: true, bareSlots: [true, false] } }),
    });
  });

  it('checks table entries like wrappers read from the .ts', () => {
    const module = tableFacadeModule(join(FACADE, 'fake.ts'), {
      twice: { params: ['a'], body: 'return KSR.m.f(a, a) > 0;' },
      injected: { params: ['a) { return 1; } function x(b'], body: 'return KSR.m.f(b);' },
    });
    expect(module.wrapper('twice')).toBe('parameters are not each used once, in order');
    expect(module.wrapper('injected')).toBe('inline table entry is not one function');
  });
});

/** Bundles a snippet under a throwaway directory, with and without inlining, and runs it on a recording KSR. */
describe('the same behaviour with and without inlining', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inline-facade-'));
  const facadeImport = (module: string) => `import * as ${module} from '${relative(dir, join(FACADE, module)).split('\\').join('/')}';`;

  async function run(source: string, inlineFacade: boolean): Promise<{ log: string[]; result: unknown; code: string }> {
    const entry = join(dir, `entry-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(entry, `${['core', 'kx', 'registrar', 'siputils', 'sl'].map(facadeImport).join('\n')}\n${source}`);
    const bundled = await bundleTypeScript({
      entry,
      outFile: join(dir, 'out.js'),
      tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
      projectRoot: PROJECT_ROOT,
      inlineFacade,
    });
    expect(bundled.facade.skipped).toEqual([]);
    const log: string[] = [];
    const fn = (path: string, value: unknown) => (...args: unknown[]) => {
      log.push(`${path}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
      return value;
    };
    const KSR = {
      info: fn('info', 7),
      kx: { get_ruri: fn('kx.get_ruri', 'sip:a@b'), get_srcip: fn('kx.get_srcip', null) },
      registrar: { lookup: fn('registrar.lookup', -2) },
      siputils: { has_totag: fn('siputils.has_totag', -1), cmp_uri: fn('siputils.cmp_uri', 1) },
      sl: { sl_send_reply: fn('sl.sl_send_reply', 1) },
    };
    const context: Record<string, unknown> = { KSR, note: (what: string) => (log.push(`note ${what}`), what) };
    runInNewContext(bundled.code, context);
    return { log, result: (context.__ksr as { result: unknown }).result, code: bundled.code };
  }

  it('runs KEMI calls and argument side effects in the same order, with the same results', async () => {
    const source = [
      'export const result = [',
      '  siputils.has_totag(),',
      "  sl.sl_send_reply(Number(note('404')), note('Not ' + String(kx.get_ruri()))),",
      "  siputils.cmp_uri(note('a'), String(kx.get_srcip())),",
      "  registrar.lookup(note('location')),",
      "  core.info(note('done')),",
      '];',
      "core.info('statement');",
    ].join('\n');
    const wrapped = await run(source, false);
    const inlined = await run(source, true);
    expect(wrapped.code).toContain('function has_totag()');
    expect(inlined.code).not.toContain('function has_totag()');
    expect(inlined.log).toEqual(wrapped.log);
    expect(inlined.result).toEqual(wrapped.result);
    expect(inlined.result).toEqual([false, true, true, -2, undefined]);
    expect(inlined.log).toEqual([
      'siputils.has_totag()',
      'note 404',
      'kx.get_ruri()',
      'note Not sip:a@b',
      'sl.sl_send_reply(404, "Not sip:a@b")',
      'note a',
      'kx.get_srcip()',
      'siputils.cmp_uri("a", "null")',
      'note location',
      'registrar.lookup("location")',
      'note done',
      'info("done")',
      'info("statement")',
    ]);
  });

  it('keeps the wrapper in the bundle when the namespace is also used as a value', async () => {
    const inlined = await run('export const result = [siputils.has_totag(), typeof siputils.has_totag];', true);
    expect(inlined.code).toContain('function has_totag()');
    expect(inlined.code).toContain('KSR.siputils.has_totag() > 0');
    expect(inlined.result).toEqual([false, 'function']);
  });
});

describe('the build of src/main.ts (npm run build, into a throwaway directory)', () => {
  let report: BuildReport;
  let bundle: string;
  let map: { sources: string[]; sourcesContent: string[] };

  beforeAll(async () => {
    const outDir = join(mkdtempSync(join(tmpdir(), 'inline-facade-build-')), 'dist');
    mkdirSync(outDir);
    report = await runBuild(optionsFromArgs(['--out-dir', outDir], PROJECT_ROOT));
    bundle = readFileSync(report.bundlePath, 'utf8');
    map = JSON.parse(readFileSync(`${report.bundlePath}.map`, 'utf8')) as typeof map;
  }, 120_000);

  it('passes the type check, every guard and (when duk is installed) the Duktape load check', () => {
    expect(report.problems.map((p) => p.message)).toEqual([]);
    expect(report.notes.filter((note) => !(duktapeVersion() === undefined && note.startsWith('duk ')))).toEqual([]);
  });

  it('calls KSR directly, with no facade wrapper left', () => {
    expect(bundle).not.toContain('function has_totag');
    expect(bundle).toContain('KSR.siputils.has_totag() > 0');
    expect(map.sources.filter((source) => source.includes('ksr/generated/'))).toEqual([]);
  });

  it('maps each inlined KSR call to the TypeScript line of its facade call, and embeds the sources as written', () => {
    const locator = new SourceLocator(JSON.stringify(map), join(report.bundlePath, '..'), PROJECT_ROOT, 'kamailio.js');
    let checked = 0;
    bundle.split('\n').forEach((text, index) => {
      for (const match of text.matchAll(/KSR\.(?:\w+\.)?(\w+)\(/g)) {
        const at = locator.at(index + 1, match.index);
        if (!at?.file.startsWith('src/routing/')) continue;
        const line = readFileSync(join(PROJECT_ROOT, at.file), 'utf8').split('\n')[at.line - 1];
        expect(line, `kamailio.js:${index + 1} -> ${at.file}:${at.line}`).toContain(`.${match[1]}(`);
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(40);
    map.sources.forEach((source, i) => {
      expect(map.sourcesContent[i]).toBe(readFileSync(join(report.bundlePath, '..', source), 'utf8'));
    });
  });

  it('is smaller than the same bundle without inlining', async () => {
    const input = {
      entry: join(PROJECT_ROOT, 'src/main.ts'),
      outFile: report.bundlePath,
      tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
      projectRoot: PROJECT_ROOT,
    };
    const without = await compileBundle({ ...input, inlineFacade: false });
    expect(without.code).toContain('function has_totag');
    expect(bundle.length).toBeLessThan(without.code.length - 3000);
  });
});
