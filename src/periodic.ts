/** A job that runs now and then every `everyMs`, until stopped. */
export interface Periodic {
  /** Runs `look` now (or after `firstAfterMs`), then every `everyMs`; the timers do not hold the process. A second start does nothing. */
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
export function periodic(everyMs: number, look: () => Promise<unknown>, { firstAfterMs }: { firstAfterMs?: number } = {}): Periodic {
  let timers: NodeJS.Timeout[] = [];
  let running: Promise<unknown> | undefined;
  const run = () => {
    running ??= look().finally(() => {
      running = undefined;
    });
  };
  return {
    start() {
      if (timers.length > 0) return;
      if (firstAfterMs === undefined) run();
      else timers.push(setTimeout(run, firstAfterMs));
      timers.push(setInterval(run, everyMs));
      for (const t of timers) t.unref();
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers = [];
      await running;
    },
  };
}
