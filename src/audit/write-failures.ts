import type { Clock } from '../clock';
import { errorMessage, type Logger } from '../logger';
import type { AuditLog } from './log';
import type { AuditEventInput, AuditRecord } from './record';

/**
 * РСБ.5 around an audit log: a failed write is alerted at once (an error
 * line in the process log, the only channel left when the trail is down),
 * and once the trail is writable again the first successful append is
 * followed by an `audit.write_failed` record saying how many writes failed
 * and since when. The failed writes themselves fail closed with the caller
 * (no audit record, no session); nothing is queued or replayed.
 *
 * @example
 * const audit = withWriteFailureRecord(createAuditLog({ redis, clock }), { logger, clock });
 */
export function withWriteFailureRecord(log: AuditLog, deps: { logger: Logger; clock: Clock }): AuditLog {
  let failed: { count: number; since: number } | undefined;
  return {
    head: () => log.head(),
    async append(input: AuditEventInput): Promise<AuditRecord> {
      let record: AuditRecord;
      try {
        record = await log.append(input);
      } catch (err) {
        failed = failed ? { ...failed, count: failed.count + 1 } : { count: 1, since: deps.clock.now() };
        deps.logger.error('audit_write_failed', { type: input.type, failures: failed.count, err: errorMessage(err) });
        throw err;
      }
      if (failed) {
        const { count, since } = failed;
        failed = undefined;
        await log
          .append({ type: 'audit.write_failed', outcome: 'failure', reason: 'trail_unwritable', details: { failedWrites: count, since: new Date(since).toISOString() } })
          .catch((err: unknown) => {
            failed = { count, since }; // try again with the next record
            deps.logger.error('audit_write_failed', { type: 'audit.write_failed', err: errorMessage(err) });
          });
      }
      return record;
    },
  };
}
