import { percentile } from './stats';

export interface LoadResult {
  /** Operations completed inside the window. */
  ops: number;
  /** Every operation that completed, including those in flight at the end of the window (divide resource counters by this). */
  completed: number;
  errors: number;
  firstError?: string;
  windowMs: number;
  perSec: number;
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number };
}

/**
 * Runs `concurrency` workers, each calling `op` back to back, for
 * `durationMs`. Counts the operations that completed inside the window; no
 * new operation starts after it, and the ones in flight are awaited (so
 * nothing leaks into the next run) but not counted.
 */
export async function runFor(durationMs: number, concurrency: number, op: (worker: number) => Promise<void>): Promise<LoadResult> {
  const t0 = performance.now();
  const end = t0 + durationMs;
  let ops = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const lat: number[] = [];
  const worker = async (w: number) => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        await op(w);
        const e = performance.now();
        completed++;
        if (e <= end) {
          ops++;
          lat.push(e - s);
        }
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        // A failing server must not turn the loop into a busy spin.
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  return {
    ops,
    completed,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    windowMs: durationMs,
    perSec: (ops * 1000) / durationMs,
    latencyMs: { p50: percentile(lat, 50), p90: percentile(lat, 90), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat.length ? lat.reduce((a, b) => (b > a ? b : a), -Infinity) : NaN },
  };
}
