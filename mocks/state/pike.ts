/**
 * pike: counts requests per source IP over a sampling window on the mock
 * clock; more than `density` requests in one window is a flood. Defaults
 * are pike's modparams sampling_time_unit=2 and reqs_density_per_unit=30.
 * (Real pike smooths over several windows; a fixed window is enough to test
 * that the routing reacts to the -1.)
 */
import type { Clock } from '../runtime/clock.ts';

export interface PikeConfig {
  samplingSeconds: number;
  density: number;
}

export class Pike {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly clock: Clock,
    readonly config: PikeConfig,
  ) {}

  /** pike_check_req: 1 = allowed, -1 = over the limit. */
  check(ip: string): number {
    const now = this.clock.now();
    let w = this.windows.get(ip);
    if (!w || now - w.start >= this.config.samplingSeconds * 1000) {
      w = { start: now, count: 0 };
      this.windows.set(ip, w);
    }
    w.count++;
    return w.count > this.config.density ? -1 : 1;
  }
}
