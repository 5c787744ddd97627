import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cfgCallbackNames, checkCallbackNames } from '../../build/guards/callback-names.ts';
import { craftedProgram, messages } from './crafted-bundle.ts';

const GLOBALS = new Set(['ksr_request_route', 'ksr_failure_manage', 'ksr_websocket_event']);
const NO_CFG = '/nonexistent/kamailio.cfg';

function check(code: string, cfgPath = NO_CFG): string[] {
  const { bundle, program } = craftedProgram(code);
  return messages(checkCallbackNames(bundle, program, GLOBALS, cfgPath));
}

function cfgFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'callback-names-')), 'kamailio.cfg');
  writeFileSync(path, text);
  return path;
}

describe('callback-names guard', () => {
  it('accepts callback names that are global functions of the bundle', () => {
    expect(check('KSR.tm.t_on_failure("ksr_failure_manage");\nvar r = "ksr_request_route";\n')).toEqual([]);
  });

  it('refuses a t_on_failure name that is not a global function, naming the setter and where', () => {
    expect(check('function f() {\n  KSR.tm.t_on_failure("ksr_failure_typo");\n}\n')).toEqual([
      'callback "ksr_failure_typo" passed to t_on_failure at kamailio.js:2:23 is not a global function of the bundle',
    ]);
  });

  it.each(['t_on_reply', 't_on_branch', 't_on_branch_failure'])('checks %s names whatever their prefix', (setter) => {
    expect(check(`KSR.tm.${setter}("onreply");`)).toEqual([
      expect.stringMatching(new RegExp(`^callback "onreply" passed to ${setter} at kamailio\\.js:1:`)),
    ]);
  });

  it('refuses any other ksr_<name> string literal that names no global function', () => {
    expect(check('var FAILURE = "ksr_failure_mange";')).toEqual([
      'string "ksr_failure_mange" at kamailio.js:1:15 looks like a callback name but is not a global function of the bundle',
    ]);
  });

  it('ignores strings that only start with ksr_ (messages, the globals footer) and property keys', () => {
    expect(check('KSR.info("ksr_request_route failed");\nvar p = "ksr_";\nvar o = { "ksr_key": 1 };\n')).toEqual([]);
  });

  it('refuses an event_callback of the cfg that is not a global function, naming the cfg line', () => {
    const cfg = cfgFile('loadmodule "xhttp.so"\nmodparam("xhttp", "event_callback", "ksr_xhttp_event")\n');
    expect(check('', cfg)).toEqual([
      `callback "ksr_xhttp_event" named by modparam("xhttp", "event_callback") at ${relative(process.cwd(), cfg)}:2 ` +
        'is not a global function of the bundle',
    ]);
  });

  it('accepts a cfg whose callbacks all exist, and a cfg path that does not exist', () => {
    expect(check('', cfgFile('modparam("websocket", "event_callback", "ksr_websocket_event")\n'))).toEqual([]);
    expect(check('', NO_CFG)).toEqual([]);
  });
});

describe('cfgCallbackNames', () => {
  it('finds event_callback modparams, their variants and the kemi.*_callback core parameters', () => {
    const cfg = [
      '#!KAMAILIO',
      'modparam("tm", "event_callback", "ksr_tm_event")',
      "modparam('sl', 'event_callback_lres_sent', 'ksr_sl_sent')",
      'kemi.onsend_route_callback="ksr_my_onsend"',
      'kemi.reply_route_callback="none"',
      '# modparam("xhttp", "event_callback", "ksr_commented")',
      '/* modparam("xhttp", "event_callback", "ksr_in_block_comment") */',
      'modparam("dispatcher", "list_file", "ksr_not_a_callback")',
    ].join('\n');
    expect(cfgCallbackNames(cfg)).toEqual([
      { name: 'ksr_tm_event', line: 2, source: 'modparam("tm", "event_callback")' },
      { name: 'ksr_sl_sent', line: 3, source: 'modparam("sl", "event_callback_lres_sent")' },
      { name: 'ksr_my_onsend', line: 4, source: 'kemi.onsend_route_callback' },
    ]);
  });

  it('keeps line numbers right after a multi-line block comment', () => {
    const cfg = '/*\n modparam("a", "event_callback", "ksr_hidden")\n*/\nmodparam("b", "event_callback", "ksr_b")\n';
    expect(cfgCallbackNames(cfg)).toEqual([{ name: 'ksr_b', line: 4, source: 'modparam("b", "event_callback")' }]);
  });
});
