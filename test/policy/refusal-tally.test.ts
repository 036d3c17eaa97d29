import { createRefusalTally } from '../../src/policy/refusal-tally';
import { manualClock } from '../helpers/app';
import { suiteRedis } from '../helpers/redis';
import { codeOf, unreachableRedis } from '../store/support';

describe('refusal tally (real Redis)', () => {
  const redis = suiteRedis();
  const clock = manualClock(Date.parse('2026-03-02T08:00:00.000Z'));
  const tally = () => createRefusalTally({ redis: redis(), clock, prefix: 'rt:test', windowSec: 60 });

  it('records the first refusal of a window; the next window’s first carries the count of the rest', async () => {
    const t = tally();
    expect(await t.refused('192.0.2.1')).toEqual({ record: true, unrecorded: 0 });
    for (let i = 0; i < 5; i++) expect(await t.refused('192.0.2.1')).toEqual({ record: false, unrecorded: 0 });
    expect(await t.refused('192.0.2.2')).toEqual({ record: true, unrecorded: 0 }); // per key
    clock.advance(59_999);
    expect((await t.refused('192.0.2.1')).record).toBe(false);
    clock.advance(1);
    expect(await t.refused('192.0.2.1')).toEqual({ record: true, unrecorded: 6 });
    for (let i = 0; i < 2; i++) expect((await t.refused('192.0.2.1')).record).toBe(false);
    clock.advance(3_600_000); // a quiet hour: the count waits for the next record
    expect(await t.refused('192.0.2.1')).toEqual({ record: true, unrecorded: 2 });
  });

  it('going over the limit is recorded once per window, taking the count so far; later refusals, over the limit or not, count anew', async () => {
    const t = tally();
    await t.refused('192.0.2.3');
    for (let i = 0; i < 3; i++) await t.refused('192.0.2.3');
    expect(await t.overLimit('192.0.2.3')).toEqual({ record: true, unrecorded: 3 });
    expect(await t.overLimit('192.0.2.3')).toEqual({ record: false, unrecorded: 0 });
    await t.refused('192.0.2.3'); // in flight when the limit tripped
    clock.advance(60_000);
    expect(await t.refused('192.0.2.3')).toEqual({ record: true, unrecorded: 2 }); // the second overLimit and the one in flight
    expect(await t.overLimit('192.0.2.3')).toEqual({ record: true, unrecorded: 0 });
  });

  it('error: unavailable when Redis cannot be reached', async () => {
    const dead = await unreachableRedis();
    expect(await codeOf(createRefusalTally({ redis: dead, clock, prefix: 'rt:test', windowSec: 60 }).refused('192.0.2.1'))).toBe('unavailable');
    dead.disconnect();
  });
});
