import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type Redis from 'ioredis';
import { guard } from '../errors';
import { errorMessage, type Logger } from '../logger';
import { periodic } from '../periodic';
import type { AuditIndexer } from './indexer';

/** The Redis key one node holds while it is the one to index (outside `audit:`: it expires). */
const LEASE_KEY = 'job:audit-index';

export interface IndexJobDeps {
  redis: Pick<Redis, 'set' | 'get' | 'pexpire'>;
  indexer: AuditIndexer;
  logger: Logger;
  /** How often a node looks. Default 1000 ms. */
  everyMs?: number;
  /** How long the lease outlives its holder's last look. Default 5 × everyMs. */
  leaseMs?: number;
}

/**
 * The audit indexer of `cardauth serve`: every node looks every second; the node holding the lease
 * (SET NX with this node's id, renewed at each of its looks, so it keeps it while it lives, and
 * another takes over when it stops) indexes batch after batch until it has caught up. Even if two
 * nodes ever indexed at once, the indexer's script refuses a batch whose cursor moved, so nothing
 * is indexed or counted twice. A failure is logged (once until a look succeeds) and tried again at the next look.
 *
 * @example
 * const job = createIndexJob({ redis, indexer: createAuditIndexer({ redis }), logger });
 * job.start(); // … await job.stop() on shutdown, before closing Redis
 */
export function createIndexJob(deps: IndexJobDeps) {
  const everyMs = deps.everyMs ?? 1000;
  const leaseMs = deps.leaseMs ?? 5 * everyMs;
  const me = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  let failing = false;
  /** Set by stop(): a long catch-up ends after the batch it is in, so shutdown need not wait for it. */
  let stopping = false;

  /** One look: `skipped` (another node holds the lease) or the number of records indexed. */
  async function tick(): Promise<{ outcome: 'skipped' } | { outcome: 'indexed'; records: number }> {
    const took = await guard(deps.redis.set(LEASE_KEY, me, 'PX', leaseMs, 'NX'));
    if (took !== 'OK') {
      if ((await guard(deps.redis.get(LEASE_KEY))) !== me) return { outcome: 'skipped' };
      await guard(deps.redis.pexpire(LEASE_KEY, leaseMs));
    }
    let records = 0;
    for (let n; !stopping && (n = await deps.indexer.step()) > 0; ) {
      records += n;
      await guard(deps.redis.pexpire(LEASE_KEY, leaseMs)); // a long catch-up keeps its lease
    }
    return { outcome: 'indexed', records };
  }

  const safeTick = async () => {
    try {
      await tick();
      failing = false;
    } catch (err) {
      // Once per outage, not every second.
      if (!failing) deps.logger.error('audit_index_failed', { err: errorMessage(err) });
      failing = true;
    }
  };

  // One look at a time: periodic does not start a look while a long catch-up still runs.
  const job = periodic(everyMs, safeTick);
  return {
    tick,
    start() {
      stopping = false;
      job.start();
    },
    stop() {
      stopping = true;
      return job.stop();
    },
  };
}
