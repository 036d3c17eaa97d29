import { hostname } from 'node:os';
import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { guard } from '../errors';
import { errorMessage, type Logger } from '../logger';
import { periodic } from '../periodic';
import type { CheckpointWriter } from './checkpoint';

/** The Redis key one node holds while it is the one to sign. */
const LEASE_KEY = 'job:audit-checkpoint';

export interface CheckpointJobDeps {
  redis: Pick<Redis, 'set'>;
  writer: CheckpointWriter;
  clock: Clock;
  logger: Logger;
  /** CARDAUTH_AUDIT_CHECKPOINT_RECORDS: a checkpoint once the head is this many records past the last. */
  records: number;
  /** CARDAUTH_AUDIT_CHECKPOINT_SEC: a checkpoint once the last is this old and records came since. */
  sec: number;
  /** How often a node looks, and how long the node that looked holds the lease. Default 5 s (at most `sec`). */
  everyMs?: number;
}

/**
 * The server's checkpoints of the audit chain: every node looks every few seconds, and the one
 * that takes the lease (SET NX, expiring after the look's interval, in the Redis shared by all)
 * signs a checkpoint of the head when it is `records` past the last checkpoint, or the last is
 * `sec` old and records came since (whichever first; a log with no checkpoint yet gets one at
 * once). A head that did not move is not signed again. A failure (Redis, a damaged head) is
 * logged and tried again at the next look.
 *
 * @example
 * const job = createCheckpointJob({ redis, writer, clock, logger, records: 1000, sec: 300 });
 * job.start(); // … await job.stop() on shutdown, before closing Redis
 */
export function createCheckpointJob(deps: CheckpointJobDeps) {
  const everyMs = deps.everyMs ?? Math.min(5000, deps.sec * 1000);

  /** One look: `skipped` (another node holds the lease), `idle` (nothing due) or `signed` with the seq. */
  async function tick(): Promise<{ outcome: 'skipped' | 'idle' } | { outcome: 'signed'; seq: number }> {
    const took = await guard(deps.redis.set(LEASE_KEY, hostname(), 'PX', everyMs, 'NX'));
    if (took !== 'OK') return { outcome: 'skipped' };
    const [head, last] = await Promise.all([deps.writer.head(), deps.writer.last()]);
    if (!head || (last && head.seq <= last.seq)) return { outcome: 'idle' };
    const due = !last || head.seq - last.seq >= deps.records || deps.clock.now() - last.time >= deps.sec * 1000;
    if (!due) return { outcome: 'idle' };
    await deps.writer.write(head);
    return { outcome: 'signed', seq: head.seq };
  }

  const safeTick = () => tick().catch((err: unknown) => deps.logger.error('audit_checkpoint_failed', { err: errorMessage(err) }));

  return { tick, ...periodic(everyMs, safeTick) };
}
