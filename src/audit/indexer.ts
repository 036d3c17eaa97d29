import type Redis from 'ioredis';
import { CardauthError, guardAudit } from '../errors';
import { chartColumn, dayKey, indexKeysOf, INDEX_CURSOR_KEY, INDEX_LIST_KEY, utcDay, type ChartColumn } from './index-plan';
import { fromStreamFields } from './record';

/** Where the indexer stands: the last record indexed, and how far records' `ts` lie from their ids. */
export interface IndexCursor {
  /** The stream id of the last record indexed; null: none yet. */
  id: string | null;
  /** min and max over the indexed records of `ts` − the ms of their stream id (0 and 0 when none). */
  lo: number;
  hi: number;
}

/** Reads the indexer's cursor (the last entry of `audit:ix:cursor`). */
export async function readIndexCursor(redis: Pick<Redis, 'xrevrange'>): Promise<IndexCursor> {
  const [last] = await guardAudit(redis.xrevrange(INDEX_CURSOR_KEY, '+', '-', 'COUNT', 1), 'cannot read the audit index');
  if (!last) return { id: null, lo: 0, hi: 0 };
  const f = last[1];
  const num = (name: string) => {
    const i = f.indexOf(name);
    const n = i >= 0 && i % 2 === 0 ? Number(f[i + 1]) : NaN;
    if (!Number.isSafeInteger(n)) throw new CardauthError('audit_unavailable', `audit index cursor ${last[0]} is damaged`);
    return n;
  };
  return { id: last[0], lo: num('lo'), hi: num('hi') };
}

/** The ms part of a stream id. */
const idMs = (id: string) => Number(id.slice(0, id.indexOf('-')));

const COMMAND = 'cardauthAuditIndex';

/**
 * One batch, atomically with the cursor. KEYS[1] the cursor stream, KEYS[2] the list of index
 * streams, KEYS[3..D+2] the day streams of the batch, then the index streams. ARGV: the cursor
 * the indexer read ('' none), the new cursor id, lo, hi, D, then D × (logins, failures,
 * lockouts) to add, then (key number, id) pairs. When the cursor moved (another indexer), writes
 * nothing and returns 0. An index entry already there (an earlier run that failed midway) is
 * skipped. A stream written for the first time is named in the list (retention finds every index
 * stream there: its Redis user may not SCAN). Touches only XREVRANGE, EXISTS and XADD.
 */
const INDEX_LUA = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local at = ''
if last then at = last[1] end
if at ~= ARGV[1] then return 0 end
local d = tonumber(ARGV[5])
local function listed(key)
  if redis.call('EXISTS', key) == 0 then redis.call('XADD', KEYS[2], '*', 'k', key) end
end
local seen = {}
for i = 6 + 3 * d, #ARGV - 1, 2 do
  local key = KEYS[tonumber(ARGV[i])]
  if not seen[key] then
    listed(key)
    seen[key] = true
  end
  local r = redis.pcall('XADD', key, ARGV[i + 1], 'x', '')
  if type(r) == 'table' and r.err and not string.find(r.err, 'equal or smaller', 1, true) then return redis.error_reply(r.err) end
end
for j = 1, d do
  local key = KEYS[j + 2]
  listed(key)
  local n = { l = 0, f = 0, k = 0 }
  local prev = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if prev then
    for i = 1, #prev[2] - 1, 2 do n[prev[2][i]] = tonumber(prev[2][i + 1]) or 0 end
  end
  local a = 6 + 3 * (j - 1)
  redis.call('XADD', key, ARGV[2], 'l', n.l + ARGV[a], 'f', n.f + ARGV[a + 1], 'k', n.k + ARGV[a + 2])
end
redis.call('XADD', KEYS[1], ARGV[2], 'lo', ARGV[3], 'hi', ARGV[4])
return 1
`;

type IndexCommand = { [COMMAND](numKeys: number, ...args: string[]): Promise<unknown> };

export interface AuditIndexerDeps {
  redis: Pick<Redis, 'xrange' | 'xrevrange' | 'defineCommand'>;
  /** The stream key. Default `audit:log`. */
  key?: string;
  /** Records per batch. Default 500. */
  batch?: number;
}

export interface AuditIndexer {
  /** Indexes the next batch after the cursor; resolves with how many records it read (0: caught up, or another indexer moved first). */
  step(): Promise<number>;
}

const COLUMN: Record<ChartColumn, number> = { logins: 0, failures: 1, lockouts: 2 };

/**
 * Tails the audit stream into its index streams (src/audit/index-plan.ts): each batch, the index
 * entries, the chart's day counts and the cursor in one script, which refuses to run when the
 * cursor is not where this indexer read it (so two indexers never count a record twice). The
 * cursor is a stream under `audit:ix:` too, so the app's Redis user can keep it (append only).
 * A record that cannot be read is in no index (the query service still reads it when it scans).
 *
 * @example
 * const indexer = createAuditIndexer({ redis });
 * while ((await indexer.step()) > 0);
 */
export function createAuditIndexer({ redis, key = 'audit:log', batch = 500 }: AuditIndexerDeps): AuditIndexer {
  if (typeof (redis as Partial<IndexCommand>)[COMMAND] !== 'function') redis.defineCommand(COMMAND, { lua: INDEX_LUA });
  const script = redis as unknown as IndexCommand;
  return {
    async step() {
      const cursor = await readIndexCursor(redis);
      const entries = await guardAudit(redis.xrange(key, cursor.id === null ? '-' : `(${cursor.id}`, '+', 'COUNT', batch), 'cannot read the audit trail');
      if (entries.length === 0) return 0;
      let { lo, hi } = cursor;
      const keyNo = new Map<string, number>();
      const days = new Map<string, [number, number, number]>();
      const pairs: string[] = [];
      for (const [id, fields] of entries) {
        const d = fromStreamFields(fields);
        if (!d.ok) continue;
        const { record } = d;
        const skew = Date.parse(record.ts) - idMs(id);
        if (Number.isSafeInteger(skew)) {
          lo = Math.min(lo, skew);
          hi = Math.max(hi, skew);
        }
        for (const k of indexKeysOf(record)) {
          if (!keyNo.has(k)) keyNo.set(k, keyNo.size);
          pairs.push(String(keyNo.get(k)), id);
        }
        const column = chartColumn(record);
        const day = utcDay(record.ts);
        if (column && day) {
          const counts = days.get(day) ?? [0, 0, 0];
          counts[COLUMN[column]]++;
          days.set(day, counts);
        }
      }
      const dayKeys = [...days.keys()].map(dayKey);
      const first = 3 + dayKeys.length; // KEYS number of the first index stream
      const args = [
        ...[INDEX_CURSOR_KEY, INDEX_LIST_KEY, ...dayKeys, ...keyNo.keys()],
        cursor.id ?? '',
        entries[entries.length - 1]![0],
        String(lo),
        String(hi),
        String(days.size),
        ...[...days.values()].flat().map(String),
        ...pairs.map((p, i) => (i % 2 === 0 ? String(Number(p) + first) : p)),
      ];
      const reply = await guardAudit(script[COMMAND](2 + dayKeys.length + keyNo.size, ...args), 'cannot write the audit index');
      return reply === 1 ? entries.length : 0;
    },
  };
}
