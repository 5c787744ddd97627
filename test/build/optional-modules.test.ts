import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadApiList, parseApiList } from '../../build/kemi/api-list.ts';
import { apiListTextWith, optionalModules, withOptionalModules } from '../../build/kemi/optional-modules.ts';

describe('modules kamailio.cfg loads only under #!ifdef', () => {
  it('are found in the cfg, nested blocks included, and unconditional ones are not', () => {
    const cfg = ['loadmodule "tm.so"', '#!ifdef WITH_TLS', 'loadmodule "tls.so"', '#!endif', '#!ifdef A', '#!ifndef B', 'loadmodule "dmq.so"', '#!endif', '#!endif', 'loadmodule "sl.so"'].join('\n');
    expect(optionalModules(cfg)).toEqual(['dmq', 'tls']);
  });

  it("are tls and dmq/path in the project's kamailio.cfg", () => {
    expect(optionalModules(readFileSync('kamailio.cfg', 'utf8'))).toEqual(expect.arrayContaining(['dmq', 'path', 'tls']));
  });

  it('are accepted from the committed api_list when a running Kamailio (one node, no DMQ) lacks them, and written back as a parsable list', () => {
    const committed = loadApiList();
    const runningText = `{\n\tmsize: 1\n\tmethods: {\n\t\tfunc: {\n\t\t\tret: int\n\t\t\tmodule: tm\n\t\t\tname: t_relay\n\t\t\tparams: none\n\t\t}\n\t}\n}\n`;
    const running = parseApiList(runningText);
    const merged = withOptionalModules(running, committed, ['dmq', 'tls']);
    expect(merged.added).toEqual(['dmq', 'tls']);
    expect(merged.api.byPath.has('dmq.handle_message')).toBe(true);
    expect(merged.api.byPath.has('registrar.save')).toBe(false);
    const text = apiListTextWith(runningText, merged.api.functions.slice(1));
    expect(parseApiList(text).byPath.has('dmq.handle_message')).toBe(true);
  });

  it('add nothing when the running Kamailio loaded them', () => {
    const committed = loadApiList();
    expect(withOptionalModules(committed, committed, ['dmq']).added).toEqual([]);
  });
});
