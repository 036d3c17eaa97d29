import type { ReaderWatcher, ReaderWatcherEvents } from '../../src/card-agent/reader-watcher';

export type Recorded = { [E in keyof ReaderWatcherEvents]: { type: E; payload: ReaderWatcherEvents[E]; t: number } }[keyof ReaderWatcherEvents];

const TYPES: ReadonlyArray<keyof ReaderWatcherEvents> = ['reader', 'card', 'removed', 'read-error', 'pcsc'];

/**
 * Records every watcher event in order, and waits for the next one that
 * matches. `mark()` sets where the next `waitFor` starts looking, so a test
 * never matches an event from the step before.
 */
export function recordEvents(watcher: ReaderWatcher) {
  const events: Recorded[] = [];
  const wakers = new Set<() => void>();
  let cursor = 0;
  for (const type of TYPES) {
    watcher.on(type, (payload: ReaderWatcherEvents[typeof type]) => {
      events.push({ type, payload, t: Date.now() } as Recorded);
      for (const wake of [...wakers]) wake();
    });
  }
  return {
    events,
    /** Events of one type since the last mark(). */
    since<E extends keyof ReaderWatcherEvents>(type: E): Array<ReaderWatcherEvents[E]> {
      return events
        .slice(cursor)
        .filter((e) => e.type === type)
        .map((e) => e.payload as ReaderWatcherEvents[E]);
    },
    mark() {
      cursor = events.length;
    },
    /** The first event of `type` (matching `pred`) since the last mark(), waiting up to `timeoutMs`. */
    waitFor<E extends keyof ReaderWatcherEvents>(
      type: E,
      pred: (p: ReaderWatcherEvents[E]) => boolean = () => true,
      timeoutMs = 5000,
    ): Promise<ReaderWatcherEvents[E]> {
      const from = cursor;
      const find = () => events.slice(from).find((e) => e.type === type && pred(e.payload as ReaderWatcherEvents[E]))?.payload as ReaderWatcherEvents[E] | undefined;
      return new Promise((resolve, reject) => {
        const hit = find();
        if (hit) return resolve(hit);
        const timer = setTimeout(() => {
          wakers.delete(wake);
          reject(new Error(`no '${type}' event within ${timeoutMs} ms; got: ${JSON.stringify(events.slice(from).map((e) => [e.type, e.payload]))}`));
        }, timeoutMs);
        const wake = () => {
          const h = find();
          if (!h) return;
          clearTimeout(timer);
          wakers.delete(wake);
          resolve(h);
        };
        wakers.add(wake);
      });
    },
  };
}

/** Polls `cond` every 25 ms until it is true, or fails after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
