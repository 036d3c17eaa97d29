import type { Clock } from '../clock';
import { errorMessage, type Logger } from '../logger';
import type { AuditLog } from './log';
import type { AuditEventInput, AuditRecord } from './record';

/** An audit log that remembers its failed writes until it has recorded them. */
export interface AuditLogWithFailures extends AuditLog {
  /**
   * Records the failed writes (`audit.write_failed`) now if there were any since the last
   * good write; resolves at once when there were none, rejects while the trail is still
   * unwritable. `/readyz` calls it, so the node reports the failure and, once the trail is
   * back, records it without waiting for a login.
   */
  settle(): Promise<void>;
}

/**
 * РСБ.5 around an audit log: a failed write is alerted at once (an error
 * line in the process log, the only channel left when the trail is down),
 * and once the trail is writable again (the next successful append, or
 * `settle`) an `audit.write_failed` record says how many writes failed, since
 * when, and how long the trail was down. The failed writes themselves fail
 * closed with the caller (no audit record, no session); nothing is queued or
 * replayed.
 *
 * @example
 * const audit = withWriteFailureRecord(createAuditLog({ redis, clock }), { logger, clock });
 */
export function withWriteFailureRecord(log: AuditLog, deps: { logger: Logger; clock: Clock }): AuditLogWithFailures {
  let failed: { count: number; since: number; last: number } | undefined;

  /** Appends the record of the failed writes; keeps them for the next try when that fails too. */
  async function recordFailures(): Promise<void> {
    const down = failed;
    if (!down) return;
    failed = undefined;
    const details = {
      failedWrites: down.count,
      since: new Date(down.since).toISOString(),
      lastFailure: new Date(down.last).toISOString(),
      // From the first failed write to the first good one after it: how long the trail was down.
      downMs: Math.max(0, deps.clock.now() - down.since),
    };
    try {
      await log.append({ type: 'audit.write_failed', outcome: 'failure', reason: 'trail_unwritable', details });
    } catch (err) {
      // Try again with the next record, counting the writes that failed meanwhile.
      const meanwhile = failed as typeof down | undefined;
      failed = meanwhile ? { count: down.count + meanwhile.count, since: down.since, last: meanwhile.last } : down;
      deps.logger.error('audit_write_failed', { type: 'audit.write_failed', err: errorMessage(err) });
      throw err;
    }
  }

  return {
    head: () => log.head(),
    settle: recordFailures,
    async append(input: AuditEventInput): Promise<AuditRecord> {
      let record: AuditRecord;
      try {
        record = await log.append(input);
      } catch (err) {
        const now = deps.clock.now();
        failed = failed ? { ...failed, count: failed.count + 1, last: now } : { count: 1, since: now, last: now };
        deps.logger.error('audit_write_failed', { type: input.type, failures: failed.count, err: errorMessage(err) });
        throw err;
      }
      await recordFailures().catch(() => undefined); // this record is written; the failures' record waits for the next
      return record;
    },
  };
}
