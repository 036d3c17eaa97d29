import type Redis from 'ioredis';
import { CardauthError } from '../errors';
import type { AuditEventType } from './events';
import { readAudit, type AuditEntry, type AuditFilter } from './query';
import { fromStreamFields } from './record';

/**
 * The one way people read the audit trail (issue 11 §4): `cardauth audit list|export`, the
 * JSON API and the auditor's pages all ask this service, so they answer alike. Read-only.
 *
 * This first version scans the stream (newest first, in batches); the index streams replace
 * the scan behind the same interface.
 */

/** A page of records, newest first; `next` continues after its last entry (null: no more). */
export interface AuditPage {
  entries: AuditEntry[];
  next: string | null;
}

/** Per UTC day: logins (`session.created`), failures (any failure record of the login), lockouts. */
export interface AuditDay {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  logins: number;
  failures: number;
  lockouts: number;
}

export interface AuditQueryService {
  /** Up to `limit` matching records, newest first, after `cursor` (a previous page's `next`). A cursor that is not one answers `bad_request`. */
  page(filter: AuditFilter, opts: { limit: number; cursor?: string }): Promise<AuditPage>;
  /** Every matching record, in batches, never all in memory (exports). */
  read(filter: AuditFilter, opts?: { newestFirst?: boolean; stop?: () => boolean; onUnreadable?: (id: string) => void }): AsyncGenerator<AuditEntry>;
  /** One record by its stream id, or null. */
  get(id: string): Promise<AuditEntry | null>;
  /** The chart's counts for each UTC day from `since` (inclusive) to `until` (exclusive), ms since epoch, oldest first. */
  days(since: number, until: number): Promise<AuditDay[]>;
}

export interface AuditQueryDeps {
  redis: Pick<Redis, 'xrange' | 'xrevrange'>;
  /** The stream key. Default `audit:log`. */
  key?: string;
}

/** A stream id as Redis writes it; the only cursor the service hands out. */
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** The types the chart counts, by column. */
const LOGIN_TYPES: readonly AuditEventType[] = ['session.created'];
const LOCKOUT_TYPES: readonly AuditEventType[] = ['account.locked', 'card.locked'];
const FAILURE_TYPES: readonly AuditEventType[] = ['card.presented', 'password.checked', 'login.refused', 'session.unlocked', 'presence.denied'];
const DAY_MS = 86_400_000;

/** The stream id as a cursor, or `bad_request`. */
export function parseCursor(cursor: string): string {
  if (!STREAM_ID.test(cursor)) throw new CardauthError('bad_request', 'cursor: not one this service handed out');
  return cursor;
}

/**
 * @example
 * const audit = createAuditQueryService({ redis });
 * const { entries, next } = await audit.page({ login: 'ivanova', outcome: 'failure' }, { limit: 50 });
 */
export function createAuditQueryService({ redis, key = 'audit:log' }: AuditQueryDeps): AuditQueryService {
  const read: AuditQueryService['read'] = (filter, opts = {}) => readAudit(redis, { ...opts, filter, key });
  return {
    read,
    async page(filter, { limit, cursor }) {
      const after = cursor === undefined ? undefined : parseCursor(cursor);
      const entries: AuditEntry[] = [];
      // One more than asked, to know whether there is a next page.
      for await (const e of readAudit(redis, { filter, key, newestFirst: true, limit: limit + 1, ...(after ? { after } : {}) })) entries.push(e);
      const more = entries.length > limit;
      if (more) entries.length = limit;
      return { entries, next: more ? entries[entries.length - 1]!.id : null };
    },
    async get(id) {
      if (!STREAM_ID.test(id)) return null;
      let found: [string, string[]][];
      try {
        found = await redis.xrange(key, id, id);
      } catch (err) {
        throw new CardauthError('audit_unavailable', 'cannot read the audit trail', { cause: err });
      }
      const entry = found[0];
      if (!entry) return null;
      const d = fromStreamFields(entry[1]);
      return d.ok ? { id: entry[0], record: d.record, intact: d.intact } : null;
    },
    async days(since, until) {
      const first = Math.floor(since / DAY_MS);
      const last = Math.ceil(until / DAY_MS);
      const out: AuditDay[] = [];
      for (let d = first; d < last; d++) out.push({ day: new Date(d * DAY_MS).toISOString().slice(0, 10), logins: 0, failures: 0, lockouts: 0 });
      const types = [...LOGIN_TYPES, ...LOCKOUT_TYPES, ...FAILURE_TYPES];
      for await (const { record } of read({ types, since, until })) {
        const row = out[Math.floor(Date.parse(record.ts) / DAY_MS) - first];
        if (!row) continue;
        if (LOGIN_TYPES.includes(record.type) && record.outcome === 'success') row.logins++;
        else if (LOCKOUT_TYPES.includes(record.type)) row.lockouts++;
        else if (record.outcome === 'failure' && FAILURE_TYPES.includes(record.type)) row.failures++;
      }
      return out;
    },
  };
}
