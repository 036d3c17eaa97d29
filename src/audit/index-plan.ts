import { foldLogin } from '../store/accounts';
import type { AuditEventType } from './events';
import { foldUid, type AuditFilter } from './query';
import type { AuditRecord } from './record';
import { dayOf } from '../days';

/**
 * The audit trail's index streams (issue 11 §4): which index streams a record goes in, which
 * ones a filter reads, and which chart column a record counts in. Pure; the indexer
 * (src/audit/indexer.ts) writes them, the query service (src/audit/query-service.ts) reads them.
 *
 * Every index entry is an empty entry (`x` → '') whose stream id IS the id of the record in
 * `audit:log`: adding it again is refused by Redis (idempotent), and a time range of the records
 * is an id range of every index. All keys are under `audit:ix:`, so the app's Redis user can
 * write (append) and read them, and retention trims them with the stream (XTRIM MINID).
 */

export const INDEX_PREFIX = 'audit:ix:';
/** The indexer's progress: one entry per batch, its id the last record indexed, with the `lo`/`hi` skew bounds. */
export const INDEX_CURSOR_KEY = `${INDEX_PREFIX}cursor`;

/** Every index and day stream, one entry (`k`: its key) when it was first written: retention trims each of them, not this list. */
export const INDEX_LIST_KEY = `${INDEX_PREFIX}keys`;

/** The chart's counts of one UTC day (`YYYY-MM-DD`): entries `l`, `f`, `k` running totals, the last one current. */
export const dayKey = (day: string) => `${INDEX_PREFIX}day:${day}`;

/** The types the chart counts, by column (a login is a `session.created` success). */
const LOGIN_TYPES: readonly AuditEventType[] = ['session.created'];
const LOCKOUT_TYPES: readonly AuditEventType[] = ['account.locked', 'card.locked'];
const FAILURE_TYPES: readonly AuditEventType[] = ['card.presented', 'password.checked', 'login.refused', 'session.unlocked', 'presence.denied'];

export type ChartColumn = 'logins' | 'failures' | 'lockouts';

/** The chart column a record counts in, or null. */
export function chartColumn(record: AuditRecord): ChartColumn | null {
  if (LOGIN_TYPES.includes(record.type)) return record.outcome === 'success' ? 'logins' : null;
  if (LOCKOUT_TYPES.includes(record.type)) return 'lockouts';
  if (FAILURE_TYPES.includes(record.type) && record.outcome === 'failure') return 'failures';
  return null;
}

/** The UTC day of a record's `ts`, or null when it is not a time. */
export function utcDay(ts: string): string | null {
  const t = Date.parse(ts);
  return Number.isFinite(t) ? dayOf(t) : null;
}

const str = (v: unknown): v is string => typeof v === 'string';
const typeKey = (type: string) => `${INDEX_PREFIX}type:${type}`;
const FAILURES_KEY = `${INDEX_PREFIX}fail`;

/**
 * The index streams a record goes in: its type; the failures; and where the record has one, its
 * account id, folded login (a claimed login of no account too), folded card UID, agent,
 * workstation and IP. Keys are compared exactly as `matchesAudit` compares the fields.
 *
 * @example
 * indexKeysOf(record) // => ['audit:ix:type:session.created', 'audit:ix:acct:acc_1', 'audit:ix:login:ivanova', …]
 */
export function indexKeysOf(record: AuditRecord): string[] {
  const keys = [typeKey(record.type)];
  if (record.outcome === 'failure') keys.push(FAILURES_KEY);
  const { subject, source } = record;
  if (str(subject?.accountId)) keys.push(`${INDEX_PREFIX}acct:${subject.accountId}`);
  if (str(subject?.login)) keys.push(`${INDEX_PREFIX}login:${foldLogin(subject.login)}`);
  if (str(record.cardUid)) keys.push(`${INDEX_PREFIX}uid:${foldUid(record.cardUid)}`);
  if (str(source?.agentId)) keys.push(`${INDEX_PREFIX}agent:${source.agentId}`);
  if (str(source?.workstation)) keys.push(`${INDEX_PREFIX}ws:${source.workstation}`);
  if (str(source?.ip)) keys.push(`${INDEX_PREFIX}ip:${source.ip}`);
  return keys;
}

/** More types than this in a filter: reading the stream itself beats merging that many indexes. */
const MAX_TYPE_STREAMS = 16;

/**
 * The index streams whose union holds every record the filter can match (each record is then
 * checked against the whole filter), narrowest first: the account, the login, the card, the IP,
 * the workstation, the agent, the types (merged), the failures. Null: none fits, read the stream.
 *
 * @example
 * indexSourcesFor({ accountId: 'acc_1', outcome: 'failure' }) // => ['audit:ix:acct:acc_1']
 */
export function indexSourcesFor(f: AuditFilter): string[] | null {
  if (f.accountId !== undefined) return [`${INDEX_PREFIX}acct:${f.accountId}`];
  if (f.login !== undefined) return [`${INDEX_PREFIX}login:${foldLogin(f.login)}`];
  if (f.cardUid !== undefined) return [`${INDEX_PREFIX}uid:${foldUid(f.cardUid)}`];
  if (f.ip !== undefined) return [`${INDEX_PREFIX}ip:${f.ip}`];
  if (f.workstation !== undefined) return [`${INDEX_PREFIX}ws:${f.workstation}`];
  if (f.agentId !== undefined) return [`${INDEX_PREFIX}agent:${f.agentId}`];
  if (f.types && f.types.length <= MAX_TYPE_STREAMS) return [...new Set(f.types)].map(typeKey);
  if (f.outcome === 'failure') return [FAILURES_KEY];
  return null;
}
