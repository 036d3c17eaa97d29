/**
 * Runs at most `max` tasks at once; the rest wait in FIFO order.
 *
 * @example
 * const limit = limitConcurrency(2);
 * await limit(() => expensive());
 */
export function limitConcurrency(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(max) || max < 1) throw new TypeError('limitConcurrency: max must be a positive integer');
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
