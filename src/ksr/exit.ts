/**
 * KSR.x: built into app_jsdt, not part of api_list.
 *
 * app_jsdt ends a route by THROWING the string '~~ksr~exit~~' and catching it
 * around the callback (app_jsdt_api.c: KSR.x.exit/drop evaluate
 * "throw '~~ksr~exit~~';", app_jsdt_run_ex compares the thrown value). A
 * try/catch in routing code would swallow it and the route would go on, so routing has no try/catch at all (the build refuses
 * one, build/guards/no-try-in-routing.ts); the entry wrapper (./entry.ts) is
 * the only catcher and rethrows the marker.
 */

declare const KSR: {
  readonly x: {
    drop(): void;
  };
};

export const EXIT_MARKER = '~~ksr~exit~~';

export function isExitSignal(thrown: unknown): boolean {
  return thrown === EXIT_MARKER;
}

/**
 * Ends the current route, like `exit` in native kamailio.cfg: throws the
 * marker itself. KSR.x.exit() does exactly this, but through
 * duk_eval_string("throw '~~ksr~exit~~';"), which compiles that snippet on
 * every call: about 20 µs per message in Kamailio 5.6.3 (bench/README.md).
 * app_jsdt_run_ex treats the thrown string the same whoever throws it.
 */
export function exit(): never {
  throw EXIT_MARKER;
}

/** Marks the message dropped (no reply, no relay) and ends the route, like `drop`. */
export function drop(): never {
  KSR.x.drop();
  throw EXIT_MARKER;
}
