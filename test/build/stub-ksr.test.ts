import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { generateStubKsr, KSR_EXIT_MARKER } from '../../build/duktape/stub-ksr.ts';
import { loadApiList, parseApiList } from '../../build/kemi/api-list.ts';

const API = loadApiList();

function stubKsr(): Record<string, unknown> & { [module: string]: Record<string, () => unknown> } {
  return runInNewContext(`${generateStubKsr(API)}\nKSR;`) as ReturnType<typeof stubKsr>;
}

describe('generated KSR stub', () => {
  it('defines every function of the API list, core functions on KSR itself', () => {
    const ksr = stubKsr();
    const missing = API.functions.filter((fn) =>
      fn.module === '' ? typeof ksr[fn.name] !== 'function' : typeof ksr[fn.module]?.[fn.name] !== 'function',
    );
    expect(missing).toEqual([]);
  });

  it('answers a neutral value of each declared return type', () => {
    const text = ['int', 'bool', 'xval', 'str', 'none']
      .map((ret) => `func: {\nret: ${ret}\nmodule: demo\nname: returns_${ret}\nparams: none\n}`)
      .join('\n');
    const demo = (runInNewContext(`${generateStubKsr(parseApiList(text))}\nKSR.demo;`) as Record<string, () => unknown>);
    expect(Object.keys(demo).map((name) => [name, demo[name]!()])).toEqual([
      ['returns_bool', true],
      ['returns_int', 1],
      ['returns_none', undefined],
      ['returns_str', ''],
      ['returns_xval', null],
    ]);
  });

  it('makes KSR.x.exit and KSR.x.drop throw the exit marker, as app_jsdt does', () => {
    const ksr = stubKsr();
    expect(() => ksr.x!.exit!()).toThrow(KSR_EXIT_MARKER);
    expect(() => ksr.x!.drop!()).toThrow(KSR_EXIT_MARKER);
    expect(ksr.x!.modf!()).toBe(1);
  });

  it('is generated in a stable order, so regenerating gives the same text', () => {
    expect(generateStubKsr({ ...API, functions: [...API.functions].reverse() })).toBe(generateStubKsr(API));
  });
});
