/** A job that runs now and then every `everyMs`, until stopped. */
export interface Periodic {
  /** Runs `look` now, then every `everyMs`; the timer does not hold the process. A second start does nothing. */
  start(): void;
  stop(): void;
}

/**
 * Runs `look` on a timer that does not keep the process alive. `look` handles
 * its own errors (a job logs them and tries again at the next look).
 *
 * @example
 * const job = periodic(5_000, () => void safeTick());
 * job.start();
 */
export function periodic(everyMs: number, look: () => void): Periodic {
  let timer: NodeJS.Timeout | undefined;
  return {
    start() {
      if (timer) return;
      look();
      timer = setInterval(look, everyMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
