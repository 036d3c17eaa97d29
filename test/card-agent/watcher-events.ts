import pcsclite = require('pcsclite');
import { createReaderWatcher, type ReaderWatcher, type ReaderWatcherEvents, type ReaderWatcherOptions } from '../../src/card-agent/reader-watcher';
import { systemClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { startPcscd, VPCD_READERS, type TestPcscd } from '../helpers/pcscd';

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

export type EventRecorder = ReturnType<typeof recordEvents>;

/**
 * For a test file: a real pcscd + vpcd and a reader watcher on the real
 * pcsclite (debounce 200 ms unless `options` says otherwise), started before
 * the tests once both vpcd readers are announced, and closed after them.
 * Each test starts recording at a fresh mark. `ready` gets all three.
 *
 * @example
 * watchVirtualReaders({ reversedReaders: [SLOT1] }, (p, w, r) => ([pcscd, watcher, rec] = [p, w, r]));
 */
export function watchVirtualReaders(
  options: Partial<ReaderWatcherOptions>,
  ready: (pcscd: TestPcscd, watcher: ReaderWatcher, rec: EventRecorder) => void,
): void {
  let pcscd: TestPcscd | undefined;
  let watcher: ReaderWatcher | undefined;
  let rec: EventRecorder | undefined;
  beforeAll(async () => {
    pcscd = await startPcscd();
    watcher = createReaderWatcher({ pcsc: () => pcsclite(), clock: systemClock, logger: silentLogger, debounceMs: 200, ...options });
    rec = recordEvents(watcher);
    await rec.waitFor('reader', (r) => r.name === VPCD_READERS[1]);
    ready(pcscd, watcher, rec);
  });
  afterAll(async () => {
    await watcher?.close();
    await pcscd?.stop();
  });
  beforeEach(() => rec?.mark());
}

/** Takes the card off `slot` and waits until the watcher has seen it go (so the next tap is a fresh arrival). */
export async function liftCard(pcscd: TestPcscd, watcher: ReaderWatcher, slot: 0 | 1 = 0): Promise<void> {
  await pcscd.remove(slot);
  const reader = VPCD_READERS[slot];
  await waitUntil(() => watcher.status().readers.find((r) => r.name === reader)?.cardPresent !== true, `card off ${reader}`);
}
