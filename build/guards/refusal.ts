/**
 * What every guard returns: refusals to ship the bundle, each naming its cause
 * and where it comes from (bundle line:col and, when the map knows, the .ts line).
 */
import type { SourceLocator } from '../bundle/source-locator.ts';

export type GuardName =
  | 'es5-syntax'
  | 'duktape-builtins'
  | 'size'
  | 'entry-points'
  | 'callback-names'
  | 'kemi-calls'
  | 'no-try-in-routing'
  | 'duktape-load';

export class GuardRefusal extends Error {
  constructor(
    readonly guard: GuardName,
    message: string,
  ) {
    super(message);
    this.name = 'GuardRefusal';
  }
}

/** The candidate bundle as the guards see it. */
export interface BundleUnderCheck {
  readonly code: string;
  /** File name used in messages and in stack traces (kamailio.js). */
  readonly fileName: string;
  readonly locator: SourceLocator;
}
