/**
 * The one place allowed to catch: wraps every KEMI entry point.
 *
 * app_jsdt logs an uncaught exception and then DROPS the request silently, so
 * the client retransmits into the same bug. Here an unexpected exception is
 * logged with its stack (bundle lines, which `npm run map-stack` also turns
 * into TypeScript file:line) followed by the same frames at their TypeScript
 * file:line, read from the line table the build appends (./line-table.ts),
 * and the request gets a 500: a SIP reply for SIP
 * requests (never for an ACK), an HTTP reply for xhttp's requests (xhttp does
 * not answer by itself, the browser would wait). The exit marker thrown by
 * KSR.x.exit()/drop() passes through untouched, as app_jsdt expects it.
 */
import { BUILD_ID } from '../build-info';
import { isExitSignal } from './exit';
import { runningTypeScriptFrames } from './line-table';
import { preparePkgFragments } from './pkg-fragments';

declare const KSR: {
  err(message: string): void;
  is_ACK(): boolean;
  sl: { send_reply(code: number, reason: string): number };
  xhttp: { xhttp_reply(code: number, reason: string, ctype: string, body: string): number };
};

type Route = (arg: string) => void;

/** What the caller of a crashed route is owed: a SIP reply, an HTTP reply, or
 * nothing (reply and event routes have no request of their own to answer). */
export type CrashReply = 'sip' | 'http' | 'none';

export function guardEntry(name: string, route: Route, crashReply: CrashReply): Route {
  return function guarded(arg: string): void {
    try {
      // Once per process; inside the try, so a fault there is answered like any other.
      preparePkgFragments();
      route(arg);
    } catch (thrown) {
      if (isExitSignal(thrown)) throw thrown;
      reportCrash(name, thrown);
      if (crashReply === 'sip' && !KSR.is_ACK()) {
        KSR.sl.send_reply(500, 'Server Internal Error');
      } else if (crashReply === 'http') {
        KSR.xhttp.xhttp_reply(500, 'Internal Server Error', '', '');
      }
    }
  };
}

function reportCrash(name: string, thrown: unknown): void {
  const detail = thrown instanceof Error ? thrown.stack || String(thrown) : String(thrown);
  KSR.err('routing error in ' + name + ' (build ' + BUILD_ID + '): ' + detail + typeScriptStack(thrown) + '\n');
}

/** The TypeScript frames as extra lines, or nothing; never a second exception in the crash path. */
function typeScriptStack(thrown: unknown): string {
  if (!(thrown instanceof Error)) return '';
  try {
    const frames = runningTypeScriptFrames(String(thrown.stack));
    return frames === undefined ? '' : '\nTypeScript stack:\n' + frames;
  } catch (failure) {
    return '\n(no TypeScript positions: ' + String(failure) + ')';
  }
}
