import Redis from 'ioredis';
import { cardauth } from '../lib/cardauth';
import { serveRpc } from '../lib/children';
import { runFor, type LoadResult } from '../lib/load';
import { EVENT } from '../sections/audit-append';

/**
 * A server node in its own process for the audit section: one ioredis client,
 * a `createAuditLog` per stream key, `inFlight` appends back to back for `ms`
 * to the run's `key`, starting at the wall-clock time `at` (so that two nodes
 * start together).
 */

export interface AuditNodeParams {
  port: number;
  inFlight: number;
}

export interface AuditNodeRun {
  ms: number;
  at: number;
  /** The chain: the same for every node (one shared chain), or one each (no coordination). */
  key: string;
}

export interface AuditNodeResult {
  load: LoadResult;
  batches: number;
  records: number;
  calls: number;
  rounds: number;
  maxRounds: number;
}

const p = JSON.parse(process.argv[2] ?? '{}') as AuditNodeParams;
const redis = new Redis({ port: p.port, host: '127.0.0.1' });
const stats = { batches: 0, records: 0, calls: 0, rounds: 0, maxRounds: 0 };
const logs = new Map<string, ReturnType<typeof cardauth.auditLog.createAuditLog>>();
const logFor = (key: string) => {
  const made = logs.get(key);
  if (made) return made;
  const log = cardauth.auditLog.createAuditLog({
    redis,
    clock: { now: () => Date.now() },
    key,
    onBatch(b) {
      stats.batches++;
      stats.records += b.records;
      stats.calls += b.calls;
      stats.rounds += b.rounds;
      stats.maxRounds = Math.max(stats.maxRounds, b.rounds);
    },
  });
  logs.set(key, log);
  return log;
};

serveRpc(
  {
    async run(arg): Promise<AuditNodeResult> {
      const { ms, at, key } = arg as AuditNodeRun;
      const log = logFor(key);
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      Object.assign(stats, { batches: 0, records: 0, calls: 0, rounds: 0, maxRounds: 0 });
      const load = await runFor(ms, p.inFlight, () => log.append(EVENT).then(() => undefined));
      return { load, ...stats };
    },
  },
  null,
  async () => redis.quit(),
);
