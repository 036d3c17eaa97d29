import pcsclite = require('pcsclite');
import type { CardSource } from '../../src/card-agent/agent';
import { createReaderWatcher, type ReaderWatcher } from '../../src/card-agent/reader-watcher';
import { silentLogger } from '../../src/logger';
import { systemClock } from '../../src/clock';
import { VPCD_READERS, type TestPcscd } from '../helpers/pcscd';
import { liftCard, recordEvents, sleep, waitUntil, watchVirtualReaders, type EventRecorder } from './watcher-events';

// Real pcscd + vpcd + pcsclite; no PC/SC mocks (test/helpers/pcscd.ts).
const [SLOT0, SLOT1] = VPCD_READERS;

let pcscd: TestPcscd;
let watcher: ReaderWatcher;
let rec: EventRecorder;

watchVirtualReaders({ reversedReaders: [SLOT1] }, (p, w, r) => {
  [pcscd, watcher, rec] = [p, w, r];
});
const lift = (slot: 0 | 1 = 0) => liftCard(pcscd, watcher, slot);

describe('reader-watcher.success (real pcscd + vpcd)', () => {
  it('announces both vpcd readers and reports PC/SC up', () => {
    expect(watcher.status()).toEqual({
      pcscUp: true,
      readers: [
        { name: SLOT0, cardPresent: false },
        { name: SLOT1, cardPresent: false },
      ],
    });
    expect(rec.events.filter((e) => e.type === 'pcsc').map((e) => e.payload)).toEqual([{ up: true, at: expect.any(Number) }]);
  });

  it.each([
    ['4-byte', '04A22BB2'],
    ['7-byte', '04a2:2b:b2:5c:61:80'],
    ['10-byte', '04A22BB25C6180112233'],
  ])('a %s UID tap gives exactly one card event with the normalised UID, and removal gives removed', async (_label, uid) => {
    const expected = uid.replace(/:/g, '').toUpperCase();
    const before = Date.now();
    await pcscd.tap(uid);
    const card = await rec.waitFor('card');
    expect(card).toEqual({ reader: SLOT0, uid: expected, at: expect.any(Number), readMs: expect.any(Number) });
    expect(card.at).toBeGreaterThanOrEqual(before);
    expect(card.readMs).toBeGreaterThanOrEqual(0);
    expect(watcher.presentCard()).toEqual({ reader: card.reader, uid: card.uid, at: card.at });
    expect(watcher.status().readers).toContainEqual({ name: SLOT0, cardPresent: true });

    await pcscd.remove(0);
    const removed = await rec.waitFor('removed');
    expect(removed).toEqual({ reader: SLOT0, uid: expected, at: expect.any(Number) });
    expect(removed.at).toBeGreaterThanOrEqual(card.at);
    expect(rec.since('card')).toHaveLength(1);
    expect(rec.since('removed')).toHaveLength(1);
    expect(rec.since('read-error')).toHaveLength(0);
    expect(watcher.presentCard()).toBeUndefined();
  });

  it('retries once with the length a 6C XX asks for, and reads the UID', async () => {
    const card = await pcscd.tap('04A22BB25C6180', 0, (apdu) => (apdu[4] === 0x00 ? Uint8Array.of(0x6c, 0x07) : undefined));
    await expect(rec.waitFor('card')).resolves.toMatchObject({ reader: SLOT0, uid: '04A22BB25C6180' });
    expect(card.apdus).toEqual(['FFCA000000', 'FFCA000007']);
    await lift();
    expect(rec.since('read-error')).toHaveLength(0);
  });

  it('reverses the byte order on a reader listed in reversedReaders only', async () => {
    await pcscd.tap('04A22BB25C6180', 1);
    await expect(rec.waitFor('card')).resolves.toMatchObject({ reader: SLOT1, uid: '80615CB22BA204' });
    await pcscd.tap('04A22BB25C6180', 0);
    await expect(rec.waitFor('card', (c) => c.reader === SLOT0)).resolves.toMatchObject({ uid: '04A22BB25C6180' });
    await Promise.all([lift(0), lift(1)]);
  });

  it('reads the card already on a reader on request, without emitting a tap', async () => {
    const card = await pcscd.tap('04A22BB25C6180');
    await rec.waitFor('card');
    await sleep(1200); // three pcscd polls with the card lying there
    expect(card.apdus).toEqual(['FFCA000000']); // read once per tap: our own connect/disconnect does not trigger a re-read
    rec.mark();
    await expect(watcher.readCurrentCard(SLOT0)).resolves.toMatchObject({ reader: SLOT0, uid: '04A22BB25C6180' });
    await expect(watcher.readCurrentCard(SLOT1)).rejects.toMatchObject({ code: 'card_absent' });
    await expect(watcher.readCurrentCard('No Such Reader')).rejects.toMatchObject({ code: 'reader_not_found' });
    expect(watcher.presentCard(SLOT0)).toMatchObject({ uid: '04A22BB25C6180' });
    expect(watcher.presentCard(SLOT1)).toBeUndefined();
    expect(rec.since('card')).toHaveLength(0);
    expect(card.apdus).toEqual(['FFCA000000', 'FFCA000000']);
    await lift();
  });

  it('serves as the agent’s CardSource as is', () => {
    const source: CardSource = watcher; // compile-time contract with src/card-agent/agent.ts
    expect(typeof source.presentCard).toBe('function');
  });
});

describe('reader-watcher.success debounce (real pcscd + vpcd)', () => {
  const DEBOUNCE_MS = 2500;
  let slow: ReaderWatcher;
  let slowRec: ReturnType<typeof recordEvents>;
  const slowPresent = () => slow.status().readers.find((r) => r.name === SLOT0)?.cardPresent === true;

  beforeAll(async () => {
    slow = createReaderWatcher({ pcsc: () => pcsclite(), clock: systemClock, logger: silentLogger, debounceMs: DEBOUNCE_MS });
    slowRec = recordEvents(slow);
    await slowRec.waitFor('reader', (r) => r.name === SLOT0);
  });
  afterAll(() => slow?.close());
  beforeEach(() => slowRec.mark());

  it('a card bouncing off and back within debounceMs is one tap', async () => {
    await pcscd.tap('04A22BB25C6180');
    const first = await slowRec.waitFor('card');
    await pcscd.remove(0);
    await waitUntil(() => !slowPresent(), 'card seen leaving');
    const backAt = Date.now();
    await pcscd.tap('04A22BB25C6180');
    await waitUntil(() => slow.presentCard() !== undefined, 'card seen back and read');
    expect(Date.now() - first.at).toBeLessThan(DEBOUNCE_MS + 2000); // sanity: we were inside the window
    await sleep(DEBOUNCE_MS - (Date.now() - backAt) + 300); // past the removal timer that was cancelled
    expect(slowRec.since('card')).toEqual([first]);
    expect(slowRec.since('removed')).toEqual([]);

    await pcscd.remove(0);
    const removed = await slowRec.waitFor('removed', () => true, DEBOUNCE_MS + 3000);
    expect(removed).toMatchObject({ reader: SLOT0, uid: '04A22BB25C6180' });
    expect(slowRec.since('card')).toHaveLength(1);
    expect(slowRec.since('removed')).toHaveLength(1);
  });

  it('another card within debounceMs ends the first tap at once and starts a new one', async () => {
    await pcscd.tap('04A22BB2');
    await slowRec.waitFor('card');
    await pcscd.remove(0);
    await waitUntil(() => !slowPresent(), 'card seen leaving');
    await pcscd.tap('04C0FFEE');
    const second = await slowRec.waitFor('card', (c) => c.uid === '04C0FFEE');
    expect(slowRec.since('removed')).toEqual([{ reader: SLOT0, uid: '04A22BB2', at: expect.any(Number) }]);
    expect(slowRec.since('removed')[0]!.at).toBeLessThanOrEqual(second.at);
    await pcscd.remove(0);
    await slowRec.waitFor('removed', (r) => r.uid === '04C0FFEE', DEBOUNCE_MS + 3000);
  });
});
