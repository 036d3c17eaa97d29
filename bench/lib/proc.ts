import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** USER_HZ is 100 on Linux for every architecture Node supports. */
const TICK_MS = 10;

/**
 * CPU time of a process in ms, split into its main thread (JS) and every
 * other thread (libuv pool: argon2, WebCrypto; V8 GC helpers), and the time
 * those threads were runnable but waiting for a CPU (run-queue delay: a sign
 * the box is oversubscribed). From /proc/<pid>/task/<tid>/schedstat (ns).
 */
export interface ProcCpu {
  main: number;
  other: number;
  mainWait: number;
  otherWait: number;
}

function threadSchedstat(pid: number, tid: string): [cpuNs: number, waitNs: number] | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return [run ?? 0, wait ?? 0];
  } catch {
    try {
      // No schedstat: fall back to utime + stime (10 ms ticks), no wait figure.
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const rest = st.slice(st.lastIndexOf(') ') + 2).split(' ');
      return [(Number(rest[11]) + Number(rest[12])) * TICK_MS * 1e6, 0];
    } catch {
      return undefined; // thread ended
    }
  }
}

export function procCpu(pid: number): ProcCpu {
  const out: ProcCpu = { main: 0, other: 0, mainWait: 0, otherWait: 0 };
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return { main: NaN, other: NaN, mainWait: NaN, otherWait: NaN };
  }
  for (const tid of tids) {
    const s = threadSchedstat(pid, tid);
    if (!s) continue;
    if (Number(tid) === pid) {
      out.main += s[0] / 1e6;
      out.mainWait += s[1] / 1e6;
    } else {
      out.other += s[0] / 1e6;
      out.otherWait += s[1] / 1e6;
    }
  }
  return out;
}

/** Whole machine: busy and total CPU ms (all cores) from /proc/stat. */
export function systemCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: (total - idle) * TICK_MS, total: total * TICK_MS };
}

export type CpuReport = { wallMs: number; procs: Record<string, ProcCpu>; system: { busy: number; total: number } };

/**
 * Measures CPU used by the named processes between start and stop.
 *
 * @example
 * const stop = cpuMeter({ server: child.pid, redis: redis.pid, loadgen: process.pid });
 * ... ; const r = stop(); // r.procs.server.main = ms of the server's JS thread
 */
export function cpuMeter(pids: Record<string, number>): () => CpuReport {
  const t0 = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procCpu(pid)]));
  const sys0 = systemCpu();
  return () => {
    const procs: Record<string, ProcCpu> = {};
    for (const [k, pid] of Object.entries(pids)) {
      const a = procCpu(pid);
      const b = before[k]!;
      // Threads that ended during the window take their time with them; clamp at 0.
      procs[k] = { main: a.main - b.main, other: Math.max(0, a.other - b.other), mainWait: a.mainWait - b.mainWait, otherWait: Math.max(0, a.otherWait - b.otherWait) };
    }
    const sys1 = systemCpu();
    return { wallMs: performance.now() - t0, procs, system: { busy: sys1.busy - sys0.busy, total: sys1.total - sys0.total } };
  };
}

/** VmRSS and VmHWM (peak RSS) of a process, in MiB. */
export function procMemory(pid: number): { rssMiB: number; hwmMiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

export const CORES = availableParallelism();
