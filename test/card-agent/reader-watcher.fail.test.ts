import type { Responder } from '../../dev/vpcd-card';
import type { ReaderWatcher } from '../../src/card-agent/reader-watcher';
import type { ErrorCode } from '../../src/errors';
import { VPCD_READERS, type TestPcscd } from '../helpers/pcscd';
import { liftCard, watchVirtualReaders, type EventRecorder } from './watcher-events';

// Real pcscd + vpcd + pcsclite; misbehaving readers are virtual cards whose
// `respond` answers GET DATA with the status word under test.
const [SLOT0, SLOT1] = VPCD_READERS;

let pcscd: TestPcscd;
let watcher: ReaderWatcher;
let rec: EventRecorder;

watchVirtualReaders({}, (p, w, r) => {
  [pcscd, watcher, rec] = [p, w, r];
});
const lift = (slot: 0 | 1 = 0) => liftCard(pcscd, watcher, slot);

/** After a failure the watcher still reads the next good tap. */
async function expectStillReading(slot: 0 | 1 = 0) {
  rec.mark();
  await pcscd.tap('04A22BB25C6180', slot);
  await expect(rec.waitFor('card')).resolves.toMatchObject({ reader: VPCD_READERS[slot], uid: '04A22BB25C6180' });
  await lift(slot);
}

const answer =
  (...bytes: number[]): Responder =>
  (apdu) =>
    apdu[0] === 0xff && apdu[1] === 0xca ? Uint8Array.from(bytes) : undefined;


describe('reader-watcher.fail (real pcscd + vpcd)', () => {
  it('a random UID (4 bytes starting 08) gives read-error uid_random, then the next tap reads', async () => {
    await pcscd.tap('08A1B2C3');
    const err = await rec.waitFor('read-error');
    // The bytes as read travel on (to be signed and refused by the server), never in the message.
    expect(err).toEqual({ reader: SLOT0, code: 'uid_random', message: expect.any(String), at: expect.any(Number), presentedUid: '08A1B2C3' });
    expect(err.message).not.toContain('A1B2C3');
    await lift();
    expect(rec.since('card')).toHaveLength(0);
    expect(rec.since('removed')).toHaveLength(0);
    await expectStillReading();
  });

  it('a UID of a length MIFARE does not have gives uid_length', async () => {
    await pcscd.tap('0411223344');
    await expect(rec.waitFor('read-error')).resolves.toMatchObject({ code: 'uid_length', presentedUid: '0411223344' });
    await lift();
    await expectStillReading();
  });

  const cases: Array<[string, Responder, ErrorCode, string]> = [
    ['62 82', answer(0x62, 0x82), 'card_end_of_data', '62 82'],
    ['63 00', answer(0x63, 0x00), 'card_operation_failed', '63 00'],
    ['6A 81', answer(0x6a, 0x81), 'card_function_unsupported', '6A 81'],
    ['6E 00', answer(0x6e, 0x00), 'card_class_unsupported', '6E 00'],
    ['6F 00 (unknown)', answer(0x6f, 0x00), 'card_status_unknown', '6F 00'],
    ['a 1-byte response', answer(0x90), 'card_response_malformed', ''],
    ['90 00 with no UID', answer(0x90, 0x00), 'card_response_malformed', ''],
    ['6C 04 for a 7-byte UID (6C again on the retry)', answer(0x6c, 0x04), 'card_response_malformed', ''],
  ];
  it.each(cases)('GET DATA answered with %s gives read-error %s; the watcher keeps reading', async (_label, respond, code, swHex) => {
    await pcscd.tap('04A22BB25C6180', 0, respond);
    const err = await rec.waitFor('read-error');
    expect(err).toMatchObject({ reader: SLOT0, code });
    expect(err).not.toHaveProperty('presentedUid');
    expect(err.message).toContain(swHex);
    await lift();
    expect(rec.since('card')).toHaveLength(0);
    await expectStillReading();
  });

  it('a failing reader does not stop the other one', async () => {
    await Promise.all([pcscd.tap('04A22BB25C6180', 1, answer(0x63, 0x00)), pcscd.tap('04C0FFEE', 0)]);
    const [err, card] = await Promise.all([rec.waitFor('read-error'), rec.waitFor('card')]);
    expect(err).toMatchObject({ reader: SLOT1, code: 'card_operation_failed' });
    expect(card).toMatchObject({ reader: SLOT0, uid: '04C0FFEE' });
    await Promise.all([lift(0), lift(1)]);
    await expectStillReading(1);
  });

  it('a listener that throws is contained: no crash, and the other listeners still run', async () => {
    const seen: string[] = [];
    const boom = () => {
      throw new Error('listener bug');
    };
    watcher.on('card', boom);
    watcher.on('card', (c) => seen.push(c.uid));
    try {
      await expectStillReading();
      expect(seen).toEqual(['04A22BB25C6180']);
    } finally {
      watcher.off('card', boom);
    }
  });
});
