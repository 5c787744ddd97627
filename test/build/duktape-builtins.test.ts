import { describe, expect, it } from 'vitest';
import { checkDuktapeBuiltins } from '../../build/guards/duktape-builtins.ts';
import { craftedProgram, messages } from './crafted-bundle.ts';

function check(code: string): string[] {
  const { bundle, program } = craftedProgram(code);
  return messages(checkDuktapeBuiltins(bundle, program));
}

describe('duktape-builtins guard', () => {
  it('refuses new Map(), naming the built-in and where it is used', () => {
    expect(check('var seen;\nseen = new Map();\n')).toEqual([
      'Map does not exist in Duktape 2.7 (fails when the route runs) at kamailio.js:2:12',
    ]);
  });

  it.each(['Set', 'WeakMap', 'WeakSet', 'Promise'])('refuses the global %s', (name) => {
    expect(check(`var x = ${name};`)).toEqual([expect.stringMatching(new RegExp(`^${name} does not exist`))]);
  });

  it.each([
    'Object.values',
    'Object.entries',
    'Object.fromEntries',
    'Object.getOwnPropertyDescriptors',
    'Array.from',
    'Array.of',
    'Symbol.asyncIterator',
  ])('refuses %s', (member) => {
    expect(check(`var x = ${member};`)).toEqual([expect.stringMatching(new RegExp(`^${member} does not exist`))]);
  });

  it.each([
    ['find', 'Array.prototype.find'],
    ['findIndex', 'Array.prototype.findIndex'],
    ['fill', 'Array.prototype.fill'],
    ['flat', 'Array.prototype.flat'],
    ['flatMap', 'Array.prototype.flatMap'],
    ['padStart', 'String.prototype.padStart'],
    ['padEnd', 'String.prototype.padEnd'],
    ['trimStart', 'String.prototype.trimStart'],
    ['trimEnd', 'String.prototype.trimEnd'],
    ['matchAll', 'String.prototype.matchAll'],
    ['replaceAll', 'String.prototype.replaceAll'],
  ])('refuses a .%s() call, naming %s', (method, qualified) => {
    expect(check(`function f(x) { return x.${method}(1); }`)).toEqual([
      `.${method}() (${qualified}) does not exist in Duktape 2.7 (fails when the route runs) at kamailio.js:1:24`,
    ]);
  });

  it('refuses a method reached with a literal computed key', () => {
    expect(check('function f(x) { return x["padStart"](2); }')).toEqual([expect.stringContaining('.padStart()')]);
  });

  it('leaves .includes to the type checker, since strings have it and arrays do not', () => {
    expect(check('function f(x) { return x.includes("a"); }')).toEqual([]);
  });

  it('accepts names that are not reads of the global: typeof, property keys, members, local bindings', () => {
    const code = [
      'var hasMap = typeof Map !== "undefined";',
      'var o = { Map: 1, Promise: 2 };',
      'var p = o.Promise;',
      'function f() { var Set = function () {}; return new Set(); }',
    ].join('\n');
    expect(check(code)).toEqual([]);
  });

  it.each([
    ['_unsupported_iterable_to_array', 'function _unsupported_iterable_to_array(o) { return Array.from(o); }'],
    ['_wrap_native_super', 'function _wrap_native_super(C) { var c = typeof Map === "function" ? new Map() : undefined; }'],
  ])('accepts the swc helper %s, whose use of a missing built-in never runs in Duktape', (_helper, code) => {
    expect(check(code)).toEqual([]);
  });
});
