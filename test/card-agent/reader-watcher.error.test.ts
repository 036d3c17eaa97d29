import pcsclite = require('pcsclite');
import { createReaderWatcher, type ReaderWatcher } from '../../src/card-agent/reader-watcher';
import { silentLogger, type Logger } from '../../src/logger';
import { systemClock } from '../../src/clock';
import { startPcscd, VPCD_READERS, type TestPcscd } from '../helpers/pcscd';
import { recordEvents } from './watcher-events';

// pcscd going away and coming back, for real: SIGKILL (RPC transport error on
// a live context) and "not running at all" (pcsclite() throws synchronously).
const [SLOT0, SLOT1] = VPCD_READERS;
const RETRY_MS = 500;

let pcscd: TestPcscd;

beforeAll(async () => {
  pcscd = await startPcscd();
});
afterAll(() => pcscd?.stop());

function recordingLogger(): Logger & { lines: Array<[string, string, Record<string, unknown> | undefined]> } {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  return {
    lines,
    info: (e, f) => lines.push(['info', e, f]),
    warn: (e, f) => lines.push(['warn', e, f]),
    error: (e, f) => lines.push(['error', e, f]),
  };
}

describe('reader-watcher.error (real pcscd restarts)', () => {
  let watcher: ReaderWatcher | undefined;
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
  });

  it('pcscd killed mid-session: readers go, PC/SC is retried, and after pcscd returns the next tap is read', async () => {
    const logger = recordingLogger();
    watcher = createReaderWatcher({ pcsc: () => pcsclite(), clock: systemClock, logger, debounceMs: 200, retryMs: RETRY_MS });
    const rec = recordEvents(watcher);
    await rec.waitFor('reader', (r) => r.name === SLOT1);

    await pcscd.tap('04A22BB2');
    await expect(rec.waitFor('card')).resolves.toMatchObject({ uid: '04A22BB2' });

    rec.mark();
    await pcscd.kill('SIGKILL'); // the card goes with it
    await rec.waitFor('pcsc', (p) => !p.up);
    await rec.waitFor('removed', (r) => r.uid === '04A22BB2');
    expect(rec.since('reader').filter((r) => r.change === 'removed').map((r) => r.name).sort()).toEqual([SLOT0, SLOT1]);
    expect(watcher.status()).toEqual({ pcscUp: false, readers: [] });
    expect(logger.lines.some(([, e, f]) => e === 'pcsc_lost' && /0x80100013/.test(String(f?.err)))).toBe(true);
    await new Promise((r) => setTimeout(r, 3 * RETRY_MS)); // let it retry against a missing pcscd

    rec.mark();
    await pcscd.restart();
    const back = Date.now();
    await rec.waitFor('pcsc', (p) => p.up);
    const upMs = Date.now() - back;
    await rec.waitFor('reader', (r) => r.name === SLOT0 && r.change === 'added');
    const readersMs = Date.now() - back;

    await pcscd.tap('04C0FFEE');
    await expect(rec.waitFor('card')).resolves.toMatchObject({ reader: SLOT0, uid: '04C0FFEE' });
    const cardMs = Date.now() - back;
    console.log(`pcscd back → PC/SC up after ${upMs} ms, readers after ${readersMs} ms, tap read ${cardMs} ms after pcscd returned (retryMs ${RETRY_MS})`);
    expect(watcher.status().pcscUp).toBe(true);
    expect(rec.since('read-error')).toEqual([]);
    await pcscd.remove(0);
    await rec.waitFor('removed', (r) => r.uid === '04C0FFEE');
  });

  it('pcscd stopped twice in a row (graceful SIGTERM) still recovers', async () => {
    watcher = createReaderWatcher({ pcsc: () => pcsclite(), clock: systemClock, logger: silentLogger, debounceMs: 0, retryMs: RETRY_MS });
    const rec = recordEvents(watcher);
    await rec.waitFor('reader', (r) => r.name === SLOT0);
    for (let i = 0; i < 2; i++) {
      rec.mark();
      await pcscd.kill('SIGTERM');
      await rec.waitFor('pcsc', (p) => !p.up);
      await pcscd.restart();
      await rec.waitFor('reader', (r) => r.name === SLOT0 && r.change === 'added');
    }
    rec.mark();
    await pcscd.tap('04A22BB25C6180', 1);
    await expect(rec.waitFor('card')).resolves.toMatchObject({ reader: SLOT1, uid: '04A22BB25C6180' });
    await pcscd.remove(1);
    await rec.waitFor('removed');
  });

  it('started while pcscd is not running: pcsclite() throws Service not available, and the watcher comes up with pcscd', async () => {
    await pcscd.kill();
    const logger = recordingLogger();
    watcher = createReaderWatcher({ pcsc: () => pcsclite(), clock: systemClock, logger, debounceMs: 0, retryMs: RETRY_MS });
    const rec = recordEvents(watcher);
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS));
    expect(watcher.status()).toEqual({ pcscUp: false, readers: [] });
    expect(logger.lines.filter(([, e]) => e === 'pcsc_unavailable')).toEqual([['warn', 'pcsc_unavailable', expect.objectContaining({ err: expect.stringContaining('0x8010001d') })]]);
    await expect(watcher.readCurrentCard(SLOT0)).rejects.toMatchObject({ code: 'unavailable' });

    await pcscd.restart();
    await rec.waitFor('pcsc', (p) => p.up);
    await rec.waitFor('reader', (r) => r.name === SLOT1);
    rec.mark();
    await pcscd.tap('04A22BB2');
    await expect(rec.waitFor('card')).resolves.toMatchObject({ uid: '04A22BB2' });
    await pcscd.remove(0);
    await rec.waitFor('removed');
  });

  it('close() during an outage stops the retries: pcsc() is not called again', async () => {
    let calls = 0;
    const pcsc = () => {
      calls++;
      return pcsclite();
    };
    watcher = createReaderWatcher({ pcsc, clock: systemClock, logger: silentLogger, debounceMs: 0, retryMs: 50 });
    const rec = recordEvents(watcher);
    await rec.waitFor('reader', (r) => r.name === SLOT0);
    await pcscd.kill();
    await rec.waitFor('pcsc', (p) => !p.up);
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBeGreaterThan(1); // it was retrying
    await watcher.close();
    const after = calls;
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(after);
    await pcscd.restart();
  });
});
