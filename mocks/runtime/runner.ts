/**
 * Runs a routing function the way app_jsdt_run_ex does: KSR installed as a
 * global for the duration of the call only, the exit marker string caught
 * as a normal end, any other exception logged with its stack and reported
 * as an error (Kamailio then sends nothing more for that message).
 */
import { EXIT_MARKER, type KsrObject } from '../surface.ts';
import type { MsgContext } from './context.ts';
import type { RouteEnd } from './outcome.ts';

export type RoutingModule = Readonly<Record<string, unknown>>;

export interface RouteResult {
  end: RouteEnd;
  error: unknown;
}

export class Runner {
  private stack: MsgContext[] = [];

  constructor(
    private readonly routing: RoutingModule,
    private ksr: () => KsrObject,
  ) {}

  get current(): MsgContext | null {
    return this.stack[this.stack.length - 1] ?? null;
  }

  hasFunction(name: string): boolean {
    return typeof this.routing[name] === 'function';
  }

  /**
   * Calls routing[name](...args) on ctx. `optional` mirrors app_jsdt: a missing
   * ksr_request_route is an error, missing reply/callback functions are skipped.
   */
  run(name: string, ctx: MsgContext, optional: boolean, args: unknown[] = []): RouteResult | null {
    const fn = this.routing[name];
    if (typeof fn !== 'function') {
      if (optional) return null;
      throw new Error(`mock KSR: the routing module exports no function ${name} (app_jsdt: "no such function [${name}] in js scripts")`);
    }
    const g = globalThis as { KSR?: unknown };
    const hadKsr = 'KSR' in g;
    const previous = g.KSR;
    g.KSR = this.ksr();
    this.stack.push(ctx);
    try {
      (fn as (...a: unknown[]) => unknown)(...args);
      return { end: ctx.drop ? 'drop' : 'return', error: undefined };
    } catch (e) {
      if (e === EXIT_MARKER) return { end: ctx.drop ? 'drop' : 'exit', error: undefined };
      const stack = e instanceof Error ? e.stack ?? String(e) : `${String(e)} thrown`;
      ctx.rec.logs.push({ level: 'ERROR', text: `app_jsdt_run_ex(): error stack from js: ${stack}` });
      ctx.rec.logs.push({ level: 'ERROR', text: `app_jsdt_run_ex(): error executing: ${name} (err: 1)` });
      return { end: 'error', error: e };
    } finally {
      this.stack.pop();
      if (this.stack.length === 0) {
        if (hadKsr) g.KSR = previous;
        else delete g.KSR;
      }
    }
  }
}
