import type Redis from 'ioredis';
import { CardauthError, guardAudit } from '../errors';
import { chartColumn, dayKey, indexSourcesFor } from './index-plan';
import { readIndexCursor } from './indexer';
import { matchesAudit, type AuditEntry, type AuditFilter } from './query';
import { fromStreamFields } from './record';
import { DAY_MS, dayOf } from '../days';

/**
 * The one way people read the audit trail (issue 11 §4): `cardauth audit list|export`, the
 * JSON API and the auditor's pages all ask this service, so they answer alike. Read-only.
 *
 * It reads the index streams (src/audit/index-plan.ts) up to the indexer's cursor, and the
 * stream itself after it, so an answer is complete at once, indexed or not (no indexer running:
 * the whole stream is read). Of the indexes it reads the narrowest the filter allows (the
 * account, the login, the card, the IP, the workstation, the agent, the types, the failures; none
 * fits: the stream itself), within the id range that holds the time range: records' `ts` are
 * off their stream ids by at most the bounds the indexer saw (`lo`, `hi` of its cursor), so that
 * range is exact, however far a node's clock was off. EVERY record read is checked against the
 * whole filter, so an index entry naming another record adds nothing. A record missing from an
 * index would be missing from the answer: index entries are append-only for the app's Redis
 * user, and only the indexer writes them.
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
  /**
   * The chart's counts for each UTC day from `since` (inclusive) to `until` (exclusive), ms since
   * epoch, oldest first. Its callers ask for at most {@link MAX_CHART_DAYS} days.
   */
  days(since: number, until: number): Promise<AuditDay[]>;
}

/** The longest range of days the chart is drawn for: the JSON API and the chart page refuse a longer one. */
export const MAX_CHART_DAYS = 366;

export interface AuditQueryDeps {
  redis: Pick<Redis, 'xrange' | 'xrevrange'>;
  /** The stream key. Default `audit:log`. */
  key?: string;
}

/** A stream id as Redis writes it; the only cursor the service hands out. */
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const MAX_SEQ = 18446744073709551615n;
/** Entries per XRANGE of a scan or an index; records fetched by id at a time. */
const BATCH = 500;
const FETCH = 64;

/** Whether `id` is a stream id Redis takes: two parts, each at most 2^64 - 1. */
export function isStreamId(id: string): boolean {
  return STREAM_ID.test(id) && id.split('-').every((part) => BigInt(part) <= MAX_SEQ);
}

/** The stream id as a cursor, or `bad_request` (`0-0` neither: nothing comes before it). */
function parseCursor(cursor: string): string {
  if (!isStreamId(cursor) || cursor === '0-0') throw new CardauthError('bad_request', 'cursor: not one this service handed out');
  return cursor;
}

/** A stream id as a number pair, for comparing and stepping. */
type Id = [ms: bigint, seq: bigint];
const toId = (s: string): Id => {
  const i = s.indexOf('-');
  return [BigInt(s.slice(0, i)), BigInt(s.slice(i + 1))];
};
const str = ([ms, seq]: Id) => `${ms}-${seq}`;
const cmp = (a: Id, b: Id) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] === b[1] ? 0 : a[1] < b[1] ? -1 : 1);
const min = (a: Id, b: Id) => (cmp(a, b) <= 0 ? a : b);
const max = (a: Id, b: Id) => (cmp(a, b) >= 0 ? a : b);
const pred = ([ms, seq]: Id): Id => (seq > 0n ? [ms, seq - 1n] : [ms - 1n, MAX_SEQ]);
const succ = ([ms, seq]: Id): Id => (seq < MAX_SEQ ? [ms, seq + 1n] : [ms + 1n, 0n]);
const FIRST: Id = [0n, 0n];
const LAST: Id = [MAX_SEQ, MAX_SEQ];
/** Inclusive id bounds of one read. */
interface Range {
  from: Id;
  to: Id;
}

const redisRead = <T>(p: Promise<T>) => guardAudit(p, 'cannot read the audit trail');

type Redisish = Pick<Redis, 'xrange' | 'xrevrange'>;

/** The entries of one stream within a range, batch by batch, in the direction asked. */
async function* streamEntries(redis: Redisish, key: string, { from, to }: Range, newestFirst: boolean): AsyncGenerator<[string, string[]][]> {
  let lo = from;
  let hi = to;
  while (cmp(lo, hi) <= 0) {
    const batch = await redisRead(newestFirst ? redis.xrevrange(key, str(hi), str(lo), 'COUNT', BATCH) : redis.xrange(key, str(lo), str(hi), 'COUNT', BATCH));
    const full = batch.length === BATCH;
    const last = batch.length > 0 ? toId(batch[batch.length - 1]![0]) : FIRST;
    if (batch.length > 0) yield batch; // the reader may consume the array
    if (!full) return;
    if (newestFirst) hi = pred(last);
    else lo = succ(last);
  }
}

/** The ids of several index streams within a range, merged in order (a record is in each stream at most once). */
async function* mergedIds(redis: Redisish, keys: readonly string[], range: Range, newestFirst: boolean): AsyncGenerator<string> {
  const sources = keys.map((k) => ({ it: streamEntries(redis, k, range, newestFirst), buf: [] as [string, string[]][], done: false }));
  const fill = async (s: (typeof sources)[number]) => {
    if (s.buf.length === 0 && !s.done) {
      const n = await s.it.next();
      if (n.done) s.done = true;
      else s.buf = n.value;
    }
  };
  await Promise.all(sources.map(fill));
  for (;;) {
    let best: (typeof sources)[number] | undefined;
    for (const s of sources) {
      if (s.buf.length === 0) continue;
      if (!best || cmp(toId(s.buf[0]![0]), toId(best.buf[0]![0])) * (newestFirst ? -1 : 1) < 0) best = s;
    }
    if (!best) return;
    yield best.buf.shift()![0];
    await fill(best);
  }
}

interface ReadOpts {
  newestFirst?: boolean;
  /** Continue after this id (exclusive), in the direction read. */
  after?: string;
  stop?: () => boolean;
  onUnreadable?: (id: string) => void;
}

/**
 * @example
 * const audit = createAuditQueryService({ redis });
 * const { entries, next } = await audit.page({ login: 'ivanova', outcome: 'failure' }, { limit: 50 });
 */
export function createAuditQueryService({ redis, key = 'audit:log' }: AuditQueryDeps): AuditQueryService {
  /** Records of the stream itself within a range, matching the filter. */
  async function* scan(filter: AuditFilter, range: Range, o: ReadOpts): AsyncGenerator<AuditEntry> {
    for await (const batch of streamEntries(redis, key, range, !!o.newestFirst)) {
      for (const [id, fields] of batch) {
        const d = fromStreamFields(fields);
        if (!d.ok) o.onUnreadable?.(id);
        else if (matchesAudit(d.record, filter)) yield { id, record: d.record, intact: d.intact };
      }
      if (o.stop?.()) return;
    }
  }

  /** The records the index streams name within a range, fetched by id, matching the filter. */
  async function* viaIndex(filter: AuditFilter, sources: readonly string[], range: Range, o: ReadOpts): AsyncGenerator<AuditEntry> {
    const ids = mergedIds(redis, sources, range, !!o.newestFirst);
    for (let done = false; !done; ) {
      const chunk: string[] = [];
      while (chunk.length < FETCH) {
        const n = await ids.next();
        if (n.done) {
          done = true;
          break;
        }
        chunk.push(n.value);
      }
      const found = await redisRead(Promise.all(chunk.map((id) => redis.xrange(key, id, id))));
      for (const [entry] of found) {
        if (!entry) continue; // trimmed, or an index entry naming no record
        const d = fromStreamFields(entry[1]);
        if (!d.ok) o.onUnreadable?.(entry[0]);
        else if (matchesAudit(d.record, filter)) yield { id: entry[0], record: d.record, intact: d.intact };
      }
      if (o.stop?.()) return;
    }
  }

  async function* select(filter: AuditFilter, o: ReadOpts): AsyncGenerator<AuditEntry> {
    const cursor = await readIndexCursor(redis);
    const after = o.after === undefined ? undefined : toId(parseCursor(o.after));
    // Records after the cursor: not indexed yet, read from the stream (their `ts` bounds unknown).
    const tail: Range = { from: cursor.id === null ? FIRST : succ(toId(cursor.id)), to: LAST };
    // Records up to the cursor: ids within the time range, widened by the skew the indexer saw.
    const indexed: Range = {
      from: filter.since === undefined ? FIRST : [BigInt(Math.max(0, filter.since - cursor.hi)), 0n],
      to: cursor.id === null ? pred(FIRST) : filter.until === undefined ? toId(cursor.id) : min(toId(cursor.id), [BigInt(Math.max(0, filter.until - cursor.lo)), MAX_SEQ]),
    };
    if (filter.until !== undefined && filter.until - cursor.lo < 0) indexed.to = pred(FIRST);
    const parts: Range[] = o.newestFirst ? [tail, indexed] : [indexed, tail];
    for (const part of parts) {
      if (after) {
        if (o.newestFirst) part.to = min(part.to, pred(after));
        else part.from = max(part.from, succ(after));
      }
      if (cmp(part.from, part.to) > 0) continue;
      const sources = part === indexed ? indexSourcesFor(filter) : null;
      yield* sources ? viaIndex(filter, sources, part, o) : scan(filter, part, o);
      if (o.stop?.()) return;
    }
  }

  return {
    async *read(filter, opts = {}) {
      yield* select(filter, opts);
    },
    async page(filter, { limit, cursor }) {
      const entries: AuditEntry[] = [];
      // One more than asked, to know whether there is a next page.
      for await (const e of select(filter, { newestFirst: true, ...(cursor === undefined ? {} : { after: cursor }) })) {
        entries.push(e);
        if (entries.length > limit) break;
      }
      const more = entries.length > limit;
      if (more) entries.length = limit;
      return { entries, next: more ? entries[entries.length - 1]!.id : null };
    },
    async get(id) {
      if (!isStreamId(id)) return null;
      const [entry] = await redisRead(redis.xrange(key, id, id));
      if (!entry) return null;
      const d = fromStreamFields(entry[1]);
      return d.ok ? { id: entry[0], record: d.record, intact: d.intact } : null;
    },
    async days(since, until) {
      const first = Math.floor(since / DAY_MS);
      const last = Math.ceil(until / DAY_MS);
      const out: AuditDay[] = [];
      for (let d = first; d < last; d++) out.push({ day: dayOf(d * DAY_MS), logins: 0, failures: 0, lockouts: 0 });
      const cursor = await readIndexCursor(redis);
      // Indexed records: each day's running totals as of the cursor (a batch the indexer adds meanwhile is counted from the stream below, not twice).
      if (cursor.id !== null) {
        const upTo = cursor.id;
        const totals = await redisRead(Promise.all(out.map((row) => redis.xrevrange(dayKey(row.day), upTo, '-', 'COUNT', 1))));
        totals.forEach(([entry], i) => {
          if (!entry) return;
          const f = entry[1];
          const at = (name: string) => Number(f[f.indexOf(name) + 1]) || 0;
          Object.assign(out[i]!, { logins: at('l'), failures: at('f'), lockouts: at('k') });
        });
      }
      // Records after the cursor: counted from the stream.
      const tail: Range = { from: cursor.id === null ? FIRST : succ(toId(cursor.id)), to: LAST };
      for await (const { record } of scan({ since: first * DAY_MS, until: last * DAY_MS }, tail, {})) {
        const column = chartColumn(record);
        const row = out[Math.floor(Date.parse(record.ts) / DAY_MS) - first];
        if (column && row) row[column]++;
      }
      return out;
    },
  };
}
