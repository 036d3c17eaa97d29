import { systemClock } from '../../src/clock';
import { createIndexJob } from '../../src/audit/index-job';
import { createAuditIndexer } from '../../src/audit/indexer';
import { createAuditLog } from '../../src/audit/log';
import { silentLogger } from '../../src/logger';
import { suiteRedis } from '../helpers/redis';

// The leased index job of `cardauth serve`: one node indexes at a time, on a real Redis.
describe('the audit index job', () => {
  const redis = suiteRedis();

  it('runs on one node of two: the other is skipped while the lease is held, and takes over when it is gone', async () => {
    const log = createAuditLog({ redis: redis(), clock: systemClock });
    for (let i = 0; i < 30; i++) await log.append({ type: 'session.created', outcome: 'success', subject: { accountId: `acc_${i % 3}` } });
    const other = redis().duplicate();
    try {
      const a = createIndexJob({ redis: redis(), indexer: createAuditIndexer({ redis: redis(), batch: 7 }), logger: silentLogger });
      const b = createIndexJob({ redis: other, indexer: createAuditIndexer({ redis: other, batch: 7 }), logger: silentLogger });
      const [x, y] = await Promise.all([a.tick(), b.tick()]);
      expect([x, y].map((t) => t.outcome).sort()).toEqual(['indexed', 'skipped']);
      const [holder, waiting] = x.outcome === 'indexed' ? [a, b] : [b, a];
      expect(x.outcome === 'indexed' ? x : y).toEqual({ outcome: 'indexed', records: 30 });
      expect(await redis().xlen('audit:ix:type:session.created')).toBe(30);

      // The holder keeps its lease at its next look; the other is still skipped.
      await log.append({ type: 'session.created', outcome: 'success', subject: { accountId: 'acc_1' } });
      expect(await holder.tick()).toEqual({ outcome: 'indexed', records: 1 });
      expect(await waiting.tick()).toEqual({ outcome: 'skipped' });

      // The holder is gone (its lease expired): the other takes over where the cursor stands.
      await redis().del('job:audit-index');
      await log.append({ type: 'session.created', outcome: 'success', subject: { accountId: 'acc_2' } });
      expect(await waiting.tick()).toEqual({ outcome: 'indexed', records: 1 });
      expect(await redis().xlen('audit:ix:acct:acc_2')).toBe(11);
      expect(await redis().xlen('audit:ix:type:session.created')).toBe(32);
    } finally {
      other.disconnect();
    }
  });
});
