import type { Clock } from '../../src/clock';
import { createAuditLog } from '../../src/audit/log';
import { readAudit, type AuditReadOptions } from '../../src/audit/query';
import { canonicalJson, recordHash } from '../../src/audit/record';
import { suiteRedis } from '../helpers/redis';
import { codeOf, unreachableRedis } from '../store/support';

// readAudit on a real Redis stream written by the real audit log.
describe('reading the audit trail', () => {
  const redis = suiteRedis();
  const T0 = Date.parse('2026-11-25T08:00:00.000Z');
  const HOUR = 3_600_000;

  /** Six records, one an hour from T0: two logins of ivanova, a failure of petrov, a random card, a revoke, a lock. */
  async function seed() {
    let now = T0;
    const clock: Clock = { now: () => now };
    const log = createAuditLog({ redis: redis(), clock });
    const at = { agentId: 'ag_00000000000000a1', workstation: 'РМ-101', ip: '10.0.0.7' };
    const events = [
      { type: 'session.created', outcome: 'success', subject: { accountId: 'acc_1', login: 'ivanova' }, source: at, cardUid: '04A22BB25C6180' },
      { type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: { login: 'Petrov' }, source: at, cardUid: '04C0FFEE' },
      { type: 'card.presented', outcome: 'failure', reason: 'uid_random', source: { agentId: 'ag_00000000000000b2' }, cardUid: '08A1B2C3' },
      { type: 'session.created', outcome: 'success', subject: { accountId: 'acc_1', login: 'IVANOVA' }, source: { agentId: 'ag_00000000000000b2' }, cardUid: '04:a2:2b:b2:5c:61:80' },
      { type: 'card.revoked', outcome: 'success', reason: 'lost', actor: 'os:officer', cardUid: '04C0FFEE' },
      { type: 'session.locked', outcome: 'success', reason: 'tapout', subject: { accountId: 'acc_1', login: 'ivanova' }, source: at, cardUid: '04A22BB25C6180' },
    ] as const;
    for (const e of events) {
      await log.append(e);
      now += HOUR;
    }
  }
  const seqs = async (opts: AuditReadOptions) => {
    const out: number[] = [];
    for await (const e of readAudit(redis(), opts)) out.push(e.record.seq);
    return out;
  };

  it('every record, oldest first, each with its stream id and an intact hash', async () => {
    await seed();
    const all = [];
    for await (const e of readAudit(redis(), {})) all.push(e);
    expect(all.map((e) => e.record.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all.every((e) => e.intact && /^\d+-\d+$/.test(e.id))).toBe(true);
    const { hash, ...body } = all[0]!.record;
    expect(recordHash(body)).toBe(hash);
    expect(canonicalJson(body)).toContain('"login":"ivanova"');
  });

  it('filters by type (and family), outcome, login (case folded), card (separators ignored), agent and time', async () => {
    await seed();
    expect(await seqs({ filter: { types: ['session.created'] } })).toEqual([1, 4]);
    expect(await seqs({ filter: { outcome: 'failure' } })).toEqual([2, 3]);
    expect(await seqs({ filter: { login: 'Ivanova' } })).toEqual([1, 4, 6]);
    expect(await seqs({ filter: { login: 'petrov' } })).toEqual([2]);
    expect(await seqs({ filter: { cardUid: '04a22bb25c6180' } })).toEqual([1, 4, 6]);
    expect(await seqs({ filter: { cardUid: '08A1B2C3' } })).toEqual([3]); // a random UID can be looked up too
    expect(await seqs({ filter: { agentId: 'ag_00000000000000b2' } })).toEqual([3, 4]);
    expect(await seqs({ filter: { since: T0 + HOUR, until: T0 + 3 * HOUR } })).toEqual([2, 3]); // since inclusive, until exclusive
    expect(await seqs({ filter: { types: ['session.created', 'session.locked'], login: 'ivanova', since: T0 + 1 } })).toEqual([4, 6]);
    expect(await seqs({ filter: { login: 'nobody' } })).toEqual([]);
  });

  it('newest first with a limit reads across batches and stops at the limit', async () => {
    await seed();
    expect(await seqs({ newestFirst: true, limit: 4, batch: 1 })).toEqual([6, 5, 4, 3]);
    expect(await seqs({ batch: 2 })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await seqs({ newestFirst: true, filter: { login: 'ivanova' }, limit: 2, batch: 1 })).toEqual([6, 4]);
  });

  it('stop() ends the read after the batch it was asked on, even when nothing matched', async () => {
    await seed();
    let asked = 0;
    const out = await seqs({ filter: { login: 'nobody' }, batch: 2, stop: () => ++asked >= 2 });
    expect(out).toEqual([]);
    expect(asked).toBe(2); // two batches of the three were read
  });

  it('an unreadable entry is skipped and reported by id; an edited one is read with intact false', async () => {
    await seed();
    const badId = (await redis().xadd('audit:log', '*', 'r', '{not json', 'h', '0'.repeat(64))) as string;
    const [[, fields]] = (await redis().xrange('audit:log', '-', '+', 'COUNT', 1)) as [[string, string[]]];
    const edited = JSON.stringify({ ...JSON.parse(fields[1]!), actor: 'os:someone-else' });
    await redis().xadd('audit:log', '*', 'r', edited, 'h', fields[3]!);
    const skipped: string[] = [];
    const read = [];
    for await (const e of readAudit(redis(), { onUnreadable: (id) => skipped.push(id) })) read.push(e);
    expect(skipped).toEqual([badId]);
    expect(read.map((e) => e.intact)).toEqual([true, true, true, true, true, true, false]);
  });

  it('Redis unreachable: audit_unavailable', async () => {
    const down = await unreachableRedis();
    try {
      expect(await codeOf(readAudit(down).next())).toBe('audit_unavailable');
    } finally {
      down.disconnect();
    }
  });
});
