/**
 * Scripts run by the Duktape load check between and after the two loads of
 * the bundle. They print one marker line each on stdout, which is how the
 * check tells how far Duktape got.
 */
import { KSR_EXIT_MARKER } from './stub-ksr.ts';

export const FIRST_LOAD_MARKER = 'KSR_PROBE_FIRST_LOAD_OK';
export const RESULT_MARKER = 'KSR_PROBE_RESULT ';

export interface ProbeResult {
  /** `typeof ksr_request_route` after the second load. */
  readonly requestRoute: string;
  readonly globals: readonly string[];
  /**
   * What ksr_request_route threw other than the exit marker (the stack when
   * an Error); null if it was not called or did not throw.
   */
  readonly routeError: string | null;
}

export const FIRST_LOAD_SCRIPT = `print(${JSON.stringify(FIRST_LOAD_MARKER)});\n`;

/** ES5 for Duktape; `this` at top level is the global object. */
export function probeScript(callRequestRoute: boolean): string {
  return `(function (g) {
  var result = { requestRoute: typeof g.ksr_request_route, globals: [], routeError: null };
  for (var name in g) {
    if (name.indexOf('ksr_') === 0 && typeof g[name] === 'function') result.globals.push(name);
  }
  if (${callRequestRoute} && result.requestRoute === 'function') {
    try {
      g.ksr_request_route();
    } catch (e) {
      if (e !== ${JSON.stringify(KSR_EXIT_MARKER)}) result.routeError = e && e.stack ? String(e.stack) : String(e);
    }
  }
  print(${JSON.stringify(RESULT_MARKER)} + JSON.stringify(result));
})(this);
`;
}
