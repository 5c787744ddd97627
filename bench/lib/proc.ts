/**
 * CPU accounting from /proc, for the benchmark: utime+stime of a process and
 * every process below it (Kamailio's workers, rtpengine's threads are in its
 * own stat), and the busy time of each core, so a run can tell which process
 * used the CPU and whether a core was saturated.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

/**
 * CPU seconds of one process, its threads included, 0 when it is gone: the
 * scheduler's exact run time (/proc/<pid>/task/<tid>/schedstat, ns) when the
 * kernel has schedstats, else utime + stime (10 ms ticks).
 */
export function processCpu(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (Number.isFinite(ns)) return ns / 1e9;
  } catch {
    /* no schedstat: fall back to ticks */
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime = field 14, stime = field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** The PIDs of `root` and all its descendants, from /proc/<pid>/task/<pid>/children. */
export function processTree(root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    let children = '';
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        children += ' ' + readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      }
    } catch {
      continue;
    }
    for (const child of children.split(/\s+/)) if (child !== '') stack.push(Number(child));
  }
  return out;
}

/** CPU seconds of a process tree, per PID (so a sample after the run can subtract per process). */
export function treeCpu(root: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of processTree(root)) out.set(pid, processCpu(pid));
  return out;
}

/** CPU used between two treeCpu samples (processes that appeared count from 0). */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

export interface CoreTimes {
  busy: number;
  total: number;
}

/** Busy and total jiffies of every core (/proc/stat "cpuN" lines), in seconds. */
export function coreTimes(): CoreTimes[] {
  const out: CoreTimes[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest is inside user)
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out[Number(m[1])] = { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
  }
  return out;
}

/** Fraction (0..1) of each core busy between two coreTimes samples. */
export function coreBusy(before: CoreTimes[], after: CoreTimes[]): number[] {
  return after.map((a, i) => {
    const b = before[i] ?? { busy: 0, total: 0 };
    const total = a.total - b.total;
    return total > 0 ? (a.busy - b.busy) / total : 0;
  });
}

/** 1-minute load average. */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}
