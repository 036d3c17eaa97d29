import { CHECKPOINTS_KEY, createCheckpointWriter } from '../../src/audit/checkpoint';
import { createCheckpointJob } from '../../src/audit/checkpoint-job';
import { generateAuditKey } from '../../src/audit/keys';
import { createAuditLog } from '../../src/audit/log';
import { verifyAuditChain } from '../../src/audit/verify';
import { silentLogger } from '../../src/logger';
import { manualClock } from '../helpers/app';
import { suiteRedis } from '../helpers/redis';

const redis = suiteRedis();

async function setup() {
  const clock = manualClock(Date.parse('2026-03-01T08:00:00.000Z'));
  const log = createAuditLog({ redis: redis(), clock });
  const key = await generateAuditKey();
  const job = () => createCheckpointJob({ redis: redis(), writer: createCheckpointWriter({ redis: redis(), clock, keys: [key] }), clock, logger: silentLogger, records: 3, sec: 60 });
  const append = async (n: number) => {
    for (let i = 0; i < n; i++) await log.append({ type: 'session.logout', outcome: 'success' });
  };
  /** Lets the lease of the last tick lapse (it lasts the look's interval, 5 s). */
  const nextLook = () => redis().del('job:audit-checkpoint');
  return { clock, key, job, append, nextLook };
}

describe('the checkpoint job', () => {
  it('signs at once for a log without checkpoints, then every N records or M seconds, whichever first; never the same head twice', async () => {
    const { clock, key, job, append, nextLook } = await setup();
    const j = job();
    expect(await j.tick()).toEqual({ outcome: 'idle' }); // empty log
    await nextLook();
    await append(1);
    expect(await j.tick()).toEqual({ outcome: 'signed', seq: 1 });
    await nextLook();
    expect(await j.tick()).toEqual({ outcome: 'idle' }); // head did not move
    await nextLook();
    await append(2);
    expect(await j.tick()).toEqual({ outcome: 'idle' }); // 2 < 3 records, 0 s < 60 s
    await nextLook();
    await append(1);
    expect(await j.tick()).toEqual({ outcome: 'signed', seq: 4 }); // 3 records past the last
    await nextLook();
    await append(1);
    clock.advance(59_999);
    expect(await j.tick()).toEqual({ outcome: 'idle' });
    await nextLook();
    clock.advance(1);
    expect(await j.tick()).toEqual({ outcome: 'signed', seq: 5 }); // 60 s since the last
    expect(await redis().xlen(CHECKPOINTS_KEY)).toBe(3);
    expect(await redis().xlen('audit:log')).toBe(5); // checkpoints stay out of the audit stream
    expect(await verifyAuditChain({ redis: redis(), checkpointKeys: [key] })).toMatchObject({ ok: true, count: 5, checkpoints: { count: 3, last: { seq: 5 }, unprotected: 0 } });
  });

  it('one node at a time: while one holds the lease, another skips', async () => {
    const { job, append } = await setup();
    await append(1);
    const [a, b] = [job(), job()];
    expect(await a.tick()).toEqual({ outcome: 'signed', seq: 1 });
    expect(await b.tick()).toEqual({ outcome: 'skipped' });
    expect(await redis().pttl('job:audit-checkpoint')).toBeGreaterThan(0);
    expect(await redis().xlen(CHECKPOINTS_KEY)).toBe(1);
  });

  it('a damaged head is not signed: the tick fails with audit_unavailable and nothing is written', async () => {
    const { job, append } = await setup();
    await append(1);
    await redis().xadd('audit:log', '*', 'r', '{not json', 'h', '0'.repeat(64));
    await expect(job().tick()).rejects.toMatchObject({ code: 'audit_unavailable' });
    expect(await redis().xlen(CHECKPOINTS_KEY)).toBe(0);
  });
});
