/**
 * Everything a run starts (child processes, redis-servers, temp dirs) is
 * registered here and torn down in reverse order: at the end of a section,
 * at the end of the run, on an error, and on SIGINT/SIGTERM/SIGHUP.
 *
 * Children also stop by themselves when the runner dies without cleaning up
 * (even on SIGKILL): server children exit when their IPC channel closes, and
 * each redis-server gets SIGTERM from the kernel (dev/child-process.ts runs it
 * under `setpriv --pdeathsig`); the next run removes its temp dir (lib/redis.ts).
 */
export class Cleanup {
  private tasks: Array<{ label: string; fn: () => Promise<void> | void }> = [];

  /** Registers a teardown; returns a function that runs it now (once) and unregisters it. */
  add(label: string, fn: () => Promise<void> | void): () => Promise<void> {
    const task = { label, fn };
    this.tasks.push(task);
    return async () => {
      const i = this.tasks.indexOf(task);
      if (i < 0) return;
      this.tasks.splice(i, 1);
      await fn();
    };
  }

  /** A scope whose teardowns run when `body` ends, however it ends. */
  async scope<T>(body: (cleanup: Cleanup) => Promise<T>): Promise<T> {
    const inner = new Cleanup();
    const release = this.add('scope', () => inner.runAll());
    try {
      return await body(inner);
    } finally {
      await release();
    }
  }

  async runAll(): Promise<void> {
    while (this.tasks.length > 0) {
      const task = this.tasks.pop()!;
      try {
        await task.fn();
      } catch (err) {
        process.stderr.write(`cleanup ${task.label} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  }
}
