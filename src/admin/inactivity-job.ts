import { hostname } from 'node:os';
import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { guard } from '../errors';
import { errorMessage, type Logger } from '../logger';
import { periodic } from '../periodic';
import type { Stores } from '../services';
import { createInactiveAccountBlock } from './inactive-accounts';
import { requireAuditTrail, type ChangedBy } from './record-change';

/** The actor of the server's own sweep in the audit; the server itself, so the `system` principal (permissions.ts). */
export const INACTIVITY_ACTOR: ChangedBy = { actor: 'system:inactivity', via: { via: 'server', host: hostname() }, principal: 'system' };

/** The Redis key one node holds while it is the one to sweep. */
const LEASE_KEY = 'job:inactive-block';

export interface InactivityJobDeps {
  redis: Pick<Redis, 'set'>;
  stores: Pick<Stores, 'accounts' | 'inactivity' | 'audit'>;
  clock: Clock;
  logger: Logger;
  /** CARDAUTH_INACTIVE_BLOCK_DAYS; 0: the job does nothing. */
  days: number;
  /** How often a node tries, and how long the node that sweeps holds the lease. Default one hour. */
  everyMs?: number;
}

/**
 * The server's hourly sweep of unused accounts (ИАФ.1), the same use case as
 * `account block-inactive`: every node tries each hour, and the one that
 * takes the lease (SET NX with the hour's expiry, in Redis shared by all)
 * sweeps; the others skip, so a cluster sweeps about once an hour, and two
 * sweeps that did overlap would still block and record each account once.
 * A failure (Redis, the audit trail) is logged and tried again next hour.
 *
 * @example
 * const job = createInactivityJob({ redis, stores: services, clock, logger, days: config.CARDAUTH_INACTIVE_BLOCK_DAYS });
 * job.start(); // … await job.stop() on shutdown, before closing Redis
 */
export function createInactivityJob(deps: InactivityJobDeps) {
  const everyMs = deps.everyMs ?? 3_600_000;
  const blockInactive = createInactiveAccountBlock(deps.stores);

  /** One try: `off`, `skipped` (another node holds the lease) or `ran` with how many were blocked. */
  async function tick(): Promise<{ outcome: 'off' | 'skipped' } | { outcome: 'ran'; blocked: number }> {
    if (deps.days === 0) return { outcome: 'off' };
    const took = await guard(deps.redis.set(LEASE_KEY, INACTIVITY_ACTOR.via.host ?? 'node', 'PX', everyMs, 'NX'));
    if (took !== 'OK') return { outcome: 'skipped' };
    await requireAuditTrail(deps.stores.audit);
    const { blocked } = await blockInactive(INACTIVITY_ACTOR, { days: deps.days, now: deps.clock.now(), dryRun: false });
    if (blocked.length > 0) deps.logger.info('inactive_accounts_blocked', { count: blocked.length, days: deps.days });
    return { outcome: 'ran', blocked: blocked.length };
  }

  const safeTick = () => tick().catch((err: unknown) => deps.logger.error('inactive_block_failed', { err: errorMessage(err) }));
  /** A minute after start (out of start-up's way), then every `everyMs`; stop() waits for a try still running. */
  const job = periodic(everyMs, safeTick, { firstAfterMs: 60_000 });

  return {
    tick,
    start() {
      if (deps.days !== 0) job.start();
    },
    stop: job.stop,
  };
}
