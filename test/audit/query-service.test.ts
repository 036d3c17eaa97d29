import type { Clock } from '../../src/clock';
import { createAuditLog } from '../../src/audit/log';
import { createAuditQueryService } from '../../src/audit/query-service';
import { suiteRedis } from '../helpers/redis';
import { codeOf } from '../store/support';

// The audit query service on a real Redis stream written by the real audit log.
describe('the audit query service', () => {
  const redis = suiteRedis();
  const T0 = Date.parse('2026-11-25T08:00:00.000Z');
  const HOUR = 3_600_000;

  /** Ten records, one every 6 hours from T0: logins and failures of two accounts, a lockout. */
  async function seed() {
    let now = T0;
    const clock: Clock = { now: () => now };
    const log = createAuditLog({ redis: redis(), clock });
    const a = { agentId: 'ag_00000000000000a1', workstation: 'РМ-101', ip: '10.0.0.7' };
    const b = { agentId: 'ag_00000000000000b2', workstation: 'РМ-202', ip: '10.0.0.8' };
    const ivanova = { accountId: 'acc_1', login: 'ivanova' };
    const petrov = { accountId: 'acc_2', login: 'petrov' };
    const events = [
      { type: 'session.created', outcome: 'success', subject: ivanova, source: a, cardUid: '04A22BB25C6180' },
      { type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: petrov, source: b },
      { type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: ivanova, source: a },
      { type: 'account.locked', outcome: 'success', subject: ivanova },
      { type: 'session.created', outcome: 'success', subject: petrov, source: b },
      { type: 'card.presented', outcome: 'failure', reason: 'unknown_card', source: b, cardUid: '04C0FFEE' },
      { type: 'session.created', outcome: 'success', subject: ivanova, source: b },
      { type: 'session.logout', outcome: 'success', subject: ivanova, source: b },
    ] as const;
    for (const e of events) {
      await log.append(e);
      now += 6 * HOUR;
    }
  }

  it('pages newest first with a cursor, through every match once', async () => {
    await seed();
    const q = createAuditQueryService({ redis: redis() });
    const first = await q.page({}, { limit: 3 });
    expect(first.entries.map((e) => e.record.seq)).toEqual([8, 7, 6]);
    const second = await q.page({}, { limit: 3, cursor: first.next! });
    expect(second.entries.map((e) => e.record.seq)).toEqual([5, 4, 3]);
    const third = await q.page({}, { limit: 3, cursor: second.next! });
    expect(third.entries.map((e) => e.record.seq)).toEqual([2, 1]);
    expect(third.next).toBeNull();
  });

  it('filters by account, workstation, IP, outcome and time together', async () => {
    await seed();
    const q = createAuditQueryService({ redis: redis() });
    const seqs = async (f: Parameters<typeof q.page>[0]) => (await q.page(f, { limit: 50 })).entries.map((e) => e.record.seq);
    expect(await seqs({ accountId: 'acc_1' })).toEqual([8, 7, 4, 3, 1]);
    expect(await seqs({ accountId: 'acc_1', outcome: 'failure' })).toEqual([3]);
    expect(await seqs({ workstation: 'РМ-202' })).toEqual([8, 7, 6, 5, 2]);
    expect(await seqs({ ip: '10.0.0.7' })).toEqual([3, 1]);
    expect(await seqs({ since: T0 + 24 * HOUR, until: T0 + 42 * HOUR })).toEqual([7, 6, 5]);
  });

  it('finds one record by its id, and none by an id that is not there', async () => {
    await seed();
    const q = createAuditQueryService({ redis: redis() });
    const [newest] = (await q.page({}, { limit: 1 })).entries;
    expect((await q.get(newest!.id))?.record.seq).toBe(8);
    expect(await q.get('1-0')).toBeNull();
    expect(await q.get('not an id')).toBeNull();
    expect(await q.get('99999999999999999999-0')).toBeNull(); // past 2^64: no record, not a Redis error
  });

  it('refuses a cursor it did not hand out', async () => {
    const q = createAuditQueryService({ redis: redis() });
    expect(await codeOf(q.page({}, { limit: 5, cursor: 'DROP' }))).toBe('bad_request');
    // Well-formed, but refused by Redis: still the caller's mistake, not the trail being down.
    expect(await codeOf(q.page({}, { limit: 5, cursor: '0-0' }))).toBe('bad_request');
    expect(await codeOf(q.page({}, { limit: 5, cursor: '99999999999999999999-0' }))).toBe('bad_request');
  });

  it('counts logins, failures and lockouts per UTC day, empty days included', async () => {
    await seed();
    const q = createAuditQueryService({ redis: redis() });
    const days = await q.days(Date.parse('2026-11-24T00:00:00Z'), Date.parse('2026-11-28T00:00:00Z'));
    expect(days).toEqual([
      { day: '2026-11-24', logins: 0, failures: 0, lockouts: 0 },
      { day: '2026-11-25', logins: 1, failures: 2, lockouts: 0 },
      { day: '2026-11-26', logins: 2, failures: 1, lockouts: 1 },
      { day: '2026-11-27', logins: 0, failures: 0, lockouts: 0 },
    ]);
  });
});
