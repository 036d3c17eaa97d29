import type Redis from 'ioredis';
import { guardAudit } from '../errors';
import { foldLogin } from '../store/accounts';
import type { AuditEventType } from './events';
import { fromStreamFields, type AuditOutcome, type AuditRecord } from './record';

/**
 * Reading the audit trail for people (РСБ.4): the records that match a
 * filter, oldest first or newest first. Read-only; `audit verify` is what
 * checks the chain, and each entry here only says whether its own hash holds.
 */

/** What an auditor asks for. Every field given must hold; none given matches every record. */
export interface AuditFilter {
  types?: readonly AuditEventType[];
  outcome?: AuditOutcome;
  /** The subject's login, compared after NFKC and case folding (as logins are). */
  login?: string;
  /** Compared as uppercase hex, separators ignored: a UID as presented, random ones included. */
  cardUid?: string;
  agentId?: string;
  /** The subject's account id. */
  accountId?: string;
  /** The workstation's name as the agent reported it, exact. */
  workstation?: string;
  /** The client IP as recorded, exact. */
  ip?: string;
  /** ms since epoch; records at or after it (by their `ts`). */
  since?: number;
  /** ms since epoch; records before it. */
  until?: number;
}

/** One readable record of the stream. */
export interface AuditEntry {
  /** The Redis stream id. */
  id: string;
  record: AuditRecord;
  /** Whether the record's stored text is its canonical JSON and its hash matches it (the link to the one before is `audit verify`'s job). */
  intact: boolean;
}

/** A card UID as the filter compares it: uppercase hex, separators dropped. */
export const foldUid = (s: string) => s.replace(/[\s:-]/g, '').toUpperCase();

/**
 * Whether a record matches a filter. Fields of the wrong type in a damaged
 * record simply do not match.
 *
 * @example
 * matchesAudit(record, { types: ['session.created'], login: 'Ivanova' })
 */
export function matchesAudit(record: AuditRecord, f: AuditFilter): boolean {
  if (f.types && !f.types.includes(record.type)) return false;
  if (f.outcome && record.outcome !== f.outcome) return false;
  if (f.login !== undefined) {
    const login = record.subject?.login;
    if (typeof login !== 'string' || foldLogin(login) !== foldLogin(f.login)) return false;
  }
  if (f.cardUid !== undefined && (typeof record.cardUid !== 'string' || foldUid(record.cardUid) !== foldUid(f.cardUid))) return false;
  if (f.agentId !== undefined && record.source?.agentId !== f.agentId) return false;
  if (f.accountId !== undefined && record.subject?.accountId !== f.accountId) return false;
  if (f.workstation !== undefined && record.source?.workstation !== f.workstation) return false;
  if (f.ip !== undefined && record.source?.ip !== f.ip) return false;
  if (f.since !== undefined || f.until !== undefined) {
    const ts = Date.parse(record.ts);
    if (!Number.isFinite(ts)) return false;
    if (f.since !== undefined && ts < f.since) return false;
    if (f.until !== undefined && ts >= f.until) return false;
  }
  return true;
}

export interface AuditReadOptions {
  filter?: AuditFilter;
  newestFirst?: boolean;
  /** Stop after this many matches. Default: no limit. */
  limit?: number;
  /** Asked after each batch; `true` ends the read there (e.g. on Ctrl-C, when a narrow filter matches nothing for long). */
  stop?: () => boolean;
  /** Called with the stream id of each entry that cannot be read as a record (it is skipped). */
  onUnreadable?: (id: string) => void;
  /** The stream key. Default `audit:log`. */
  key?: string;
  /** Entries per XRANGE. Default 1000. */
  batch?: number;
  /** Start after this stream id (exclusive), in the direction read: a page's cursor. */
  after?: string;
}

/**
 * The matching records of the audit stream, read in batches, so a long trail
 * is never held in memory at once. Redis errors reject with
 * `audit_unavailable`.
 *
 * @example
 * for await (const e of readAudit(redis, { filter: { types: ['session.created'] }, newestFirst: true, limit: 50 })) print(e.record);
 */
export async function* readAudit(redis: Pick<Redis, 'xrange' | 'xrevrange'>, opts: AuditReadOptions = {}): AsyncGenerator<AuditEntry> {
  const { filter = {}, newestFirst = false, limit = Infinity, key = 'audit:log', batch = 1000 } = opts;
  let from = opts.after !== undefined ? `(${opts.after}` : newestFirst ? '+' : '-';
  let found = 0;
  for (;;) {
    const entries = await guardAudit(newestFirst ? redis.xrevrange(key, from, '-', 'COUNT', batch) : redis.xrange(key, from, '+', 'COUNT', batch), 'cannot read the audit trail');
    for (const [id, fields] of entries) {
      const decoded = fromStreamFields(fields);
      if (!decoded.ok) {
        opts.onUnreadable?.(id);
        continue;
      }
      if (!matchesAudit(decoded.record, filter)) continue;
      yield { id, record: decoded.record, intact: decoded.intact };
      if (++found >= limit) return;
    }
    if (entries.length < batch || opts.stop?.()) return;
    from = `(${entries[entries.length - 1]![0]}`; // exclusive: the next batch starts after the last one read
  }
}
