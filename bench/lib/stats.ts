export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank-with-interpolation percentile; NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `n` pairs of `a` and `b` side by side, A B, B A, A B, …: a drift in machine load hits both sides equally. `done(i)` after each pair. */
export async function abba(n: number, a: () => Promise<unknown>, b: () => Promise<unknown>, done?: (i: number) => void): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      await a();
      await b();
    } else {
      await b();
      await a();
    }
    done?.(i);
  }
}
