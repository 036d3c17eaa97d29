/** A job that runs now and then every `everyMs`, until stopped. */
export interface Periodic {
  /** Runs `look` now, then every `everyMs`; the timer does not hold the process. A second start does nothing. */
  start(): void;
  /** Stops the timer; resolves once a look still running has finished (so shutdown can close Redis after it). */
  stop(): Promise<void>;
}

/**
 * Runs `look` on a timer that does not keep the process alive, one look at a
 * time: a look still running when the next is due is not started again.
 * `look` handles its own errors (a job logs them and tries again at the next
 * look) and must not reject.
 *
 * @example
 * const job = periodic(5_000, safeTick);
 * job.start();
 * await job.stop(); // on shutdown, before closing Redis
 */
export function periodic(everyMs: number, look: () => Promise<unknown>): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const run = () => {
    running ??= look().finally(() => {
      running = undefined;
    });
  };
  return {
    start() {
      if (timer) return;
      run();
      timer = setInterval(run, everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
