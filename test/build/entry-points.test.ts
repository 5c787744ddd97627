import { describe, expect, it } from 'vitest';
import { checkEntryPoints } from '../../build/guards/entry-points.ts';
import { craftedBundle, messages } from './crafted-bundle.ts';

describe('entry-points guard', () => {
  it('lists the ksr_* global functions, the way app_jsdt looks them up', () => {
    const code = [
      'function ksr_request_route() {}',
      'var ksr_reply_route = function () {};',
      'var ksr_not_a_function = 1;',
      'function helper() {}',
    ].join('\n');
    const result = checkEntryPoints(craftedBundle(code));
    expect(result.refusals).toEqual([]);
    expect([...(result.globals ?? [])].sort()).toEqual(['ksr_reply_route', 'ksr_request_route']);
  });

  it('refuses a bundle without ksr_request_route, naming the globals it has', () => {
    expect(messages(checkEntryPoints(craftedBundle('function ksr_reply_route() {}')).refusals)).toEqual([
      'ksr_request_route is not a global function of kamailio.js (ksr_* globals found: ksr_reply_route): ' +
        'export it from the entry module; without it Kamailio drops every request',
    ]);
  });

  it('refuses a bundle that throws while loading, naming the error and where', () => {
    const result = checkEntryPoints(craftedBundle('function ksr_request_route() {}\nthrow new Error("boom at load");\n'));
    expect(result.globals).toBeUndefined();
    expect(messages(result.refusals)).toEqual([
      'kamailio.js throws while loading (Kamailio would exit with code 255): boom at load at kamailio.js:2:7',
    ]);
  });

  it('refuses a bundle that throws when loaded a second time in the same context (reload)', () => {
    const code = 'function ksr_request_route() {}\nif (this.loaded) throw "again";\nthis.loaded = true;\n';
    expect(messages(checkEntryPoints(craftedBundle(code)).refusals)).toEqual([
      expect.stringContaining('throws when loaded a second time in the same context (app_jsdt reload does that): again'),
    ]);
  });

  it('lets top-level code call KSR functions of any module without throwing', () => {
    const code = 'var mode = KSR.kx.get_status() + KSR.pv.get("$var(x)");\nfunction ksr_request_route() { return mode; }\n';
    const result = checkEntryPoints(craftedBundle(code));
    expect(result.refusals).toEqual([]);
  });
});
