import { describe, expect, it } from 'vitest';
import { checkKemiCalls } from '../../build/guards/kemi-calls.ts';
import { parseApiList } from '../../build/kemi/api-list.ts';
import { craftedProgram, messages } from './crafted-bundle.ts';

const API = parseApiList(
  `
func: {
  ret: bool
  module: 
  name: is_method
  params: str
}
func: {
  ret: int
  module: tm
  name: t_relay
  params: none
}
func: {
  ret: int
  module: sl
  name: sl_send_reply
  params: int, str
}
`,
  'api_list-test.txt',
);

function check(code: string): string[] {
  const { bundle, program } = craftedProgram(code);
  return messages(checkKemiCalls(bundle, program, API, 'api_list-test.txt'));
}

describe('kemi-calls guard', () => {
  it('accepts module and core functions of the API list, and the KSR.x built-ins of app_jsdt', () => {
    const code = [
      'if (KSR.is_method("INVITE")) KSR.tm.t_relay();',
      'KSR.sl.sl_send_reply(200, "OK");',
      'var tm = KSR.tm;',
      'KSR.x.modf("sl_send_reply", "200", "OK"); KSR.x.drop(); KSR.x.exit();',
      'KSR.is_method.call(null, "ACK");',
    ].join('\n');
    expect(check(code)).toEqual([]);
  });

  it('refuses a function of a module the cfg does not load, naming where it is called', () => {
    expect(check('KSR.sl.sl_send_reply(200, "OK");\nKSR.acc.acc_log_request("x");\n')).toEqual([
      'KSR.acc.acc_log_request is not in the KEMI API list api_list-test.txt (module "acc" is not loaded) at kamailio.js:2:1',
    ]);
  });

  it('refuses a function missing from a loaded module', () => {
    expect(check('KSR.tm.t_relayy();')).toEqual([
      'KSR.tm.t_relayy is not in the KEMI API list api_list-test.txt (module "tm" has no function "t_relayy") at kamailio.js:1:1',
    ]);
  });

  it('refuses an unknown core function, and an unknown KSR.x member', () => {
    expect(check('KSR.is_methd("A");\nKSR.x.quit();\n')).toEqual([
      'KSR.is_methd is not in the KEMI API list api_list-test.txt (no core function or module "is_methd") at kamailio.js:1:1',
      'KSR.x.quit is not in the KEMI API list api_list-test.txt (KSR.x of app_jsdt has only exit, drop, modf) at kamailio.js:2:1',
    ]);
  });

  it('reports a repeated unknown call once, with its count and first location', () => {
    expect(check('KSR.tm.t_foo();\nKSR.tm.t_foo();\n')).toEqual([
      expect.stringContaining('KSR.tm.t_foo is not in the KEMI API list api_list-test.txt (module "tm" has no function "t_foo") (2 uses, first) at kamailio.js:1:1'),
    ]);
  });

  it('checks literal computed members and refuses members computed at run time', () => {
    expect(check('KSR["tm"]["t_relay"]();\nKSR.tm[name]();\n')).toEqual([
      'KSR member computed at run time at kamailio.js:2:1 cannot be checked against api_list-test.txt; write KSR.<module>.<function> literally',
    ]);
  });
});
