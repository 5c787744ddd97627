import { describe, expect, it } from 'vitest';
import { parseBundle } from '../../build/guards/ast.ts';
import { checkEs5Syntax, unsupportedRegexFeature } from '../../build/guards/es5-syntax.ts';
import { craftedBundle, messages } from './crafted-bundle.ts';

function check(code: string): string[] {
  return messages(checkEs5Syntax(craftedBundle(code), parseBundle(code)));
}

describe('es5-syntax guard', () => {
  it('accepts ES5.1, getters in object literals included', () => {
    expect(check('var o = { get x() { return 1; } };\nfunction f(a) { return /a+/gi.test(a); }\n')).toEqual([]);
  });

  it('refuses let, naming the bundle line and column', () => {
    expect(check('var a = 1;\n  let b = 2;\n')).toEqual([
      'not ES5 (Duktape 2.7 would refuse to load the bundle): Unexpected token at kamailio.js:2:7',
    ]);
  });

  it('refuses an arrow function', () => {
    expect(check('var f = (a) => a;\n')).toEqual([expect.stringContaining('not ES5')]);
  });

  it('names the TypeScript line when the source map knows it', () => {
    const bundle = craftedBundle('const a = 1;\n', { sources: ['../src/routing/relay.ts'], mappings: 'AAOA' });
    expect(messages(checkEs5Syntax(bundle, undefined))).toEqual([
      expect.stringMatching(/at kamailio\.js:1:1 \(src\/routing\/relay\.ts:8\)$/),
    ]);
  });

  it.each([
    ['a sticky flag', 'var r = /a/y;', 'Invalid regular expression flag'],
    ['a lookbehind', 'var r = /(?<=sip:)\\w+/;', 'Invalid group'],
    ['a named group', 'var r = /(?<user>\\w+)/;', 'Invalid group'],
  ])('refuses a regex literal with %s', (_feature, code, reason) => {
    expect(check(code)).toEqual([expect.stringContaining(reason)]);
  });

  it('refuses RegExp calls that Duktape rejects when they run, as swc emits for /a/y', () => {
    expect(check('var r = RegExp("a", "y");\nvar s = new RegExp("(?<=a)b");\n')).toEqual([
      'regular expression /a/y uses flag "y" (Duktape: SyntaxError: invalid regexp flags) at kamailio.js:1:9',
      'regular expression /(?<=a)b/ uses a lookbehind (Duktape: SyntaxError: invalid regexp group) at kamailio.js:2:9',
    ]);
  });

  it('accepts RegExp calls with a computed pattern, which it cannot judge', () => {
    expect(check('function f(p) { return new RegExp(p, "g"); }\n')).toEqual([]);
  });
});

describe('unsupportedRegexFeature', () => {
  it.each([
    ['a+', 'gim', undefined],
    ['a', 's', 'flag "s"'],
    ['a', 'u', 'flag "u"'],
    ['(?<=a)b', '', 'a lookbehind'],
    ['(?<!a)b', '', 'a lookbehind'],
    ['(?<name>a)', '', 'a named group'],
    ['(?:a)(?=b)(?!c)', '', undefined],
    ['\\(?<a', '', undefined],
    ['[(?<]', '', undefined],
    ['[\\](?<]', '', undefined],
  ])('judges /%s/%s', (pattern, flags, feature) => {
    const found = unsupportedRegexFeature(pattern, flags);
    if (feature === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(feature);
  });
});
