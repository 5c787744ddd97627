/**
 * KSR.x: built into app_jsdt, not part of api_list.
 *
 * app_jsdt ends a route by THROWING the string '~~ksr~exit~~' and catching it
 * around the callback. A try/catch in routing code would swallow it and the
 * route would go on, so routing has no try/catch at all (the build refuses
 * one, build/guards/no-try-in-routing.ts); the entry wrapper (./entry.ts) is
 * the only catcher and rethrows the marker.
 */

declare const KSR: {
  readonly x: {
    exit(): void;
    drop(): void;
  };
};

export const EXIT_MARKER = '~~ksr~exit~~';

export function isExitSignal(thrown: unknown): boolean {
  return thrown === EXIT_MARKER;
}

/** Ends the current route, like `exit` in native kamailio.cfg. */
export function exit(): never {
  KSR.x.exit();
  throw EXIT_MARKER; // not reached under app_jsdt; keeps `never` honest if KSR.x.exit() ever returns
}

/** Marks the message dropped (no reply, no relay) and ends the route, like `drop`. */
export function drop(): never {
  KSR.x.drop();
  throw EXIT_MARKER;
}
