import { createReaderWatcher, type ReaderWatcherOptions } from '../../src/card-agent/reader-watcher';
import { silentLogger } from '../../src/logger';
import { systemClock } from '../../src/clock';

describe('createReaderWatcher options (caller misuse is a TypeError at construction)', () => {
  const never = () => {
    throw new Error('pcsc() must not be called while validating');
  };
  const base: ReaderWatcherOptions = { pcsc: never, clock: systemClock, logger: silentLogger, debounceMs: 100 };
  it.each([
    ['pcsc', { pcsc: undefined }],
    ['clock', { clock: {} }],
    ['logger', { logger: undefined }],
    ['debounceMs', { debounceMs: -1 }],
    ['debounceMs', { debounceMs: Number.NaN }],
    ['retryMs', { retryMs: 0 }],
    ['reversedReaders', { reversedReaders: 'Virtual PCD 00 00' }],
  ])('a bad %s throws a TypeError naming it', (name, patch) => {
    expect(() => createReaderWatcher({ ...base, ...(patch as object) } as ReaderWatcherOptions)).toThrow(new RegExp(`\`${name}\``));
  });
  it('opens nothing synchronously, and close() before the first turn opens nothing at all', async () => {
    let calls = 0;
    const w = createReaderWatcher({ ...base, pcsc: () => (calls++, never()) });
    expect(calls).toBe(0);
    expect(w.status()).toEqual({ pcscUp: false, readers: [] });
    await w.close();
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(0);
  });
});
