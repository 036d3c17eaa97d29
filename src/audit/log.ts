import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { CardauthError } from '../errors';
import {
  fromStreamFields,
  GENESIS_PREV,
  parseAuditInput,
  sealRecordFields,
  type AuditEvent,
  type AuditEventInput,
  type AuditRecord,
} from './record';

/** The last record of a chain. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/** The append-only, hash-chained audit log (РСБ.4). */
export interface AuditLog {
  /**
   * Validates, chains and stores one record; resolves once it is in Redis.
   * Rejects with `TypeError` for a malformed input (see `AuditEventInput`),
   * and with `CardauthError('audit_unavailable')` when the record could not
   * be confirmed written: the caller then refuses the action (fail closed).
   * The only way such a record can still be in the log is a reply lost after
   * Redis wrote it; so the log may show an action that was then refused,
   * never an action without its record. (Likewise, ioredis resending an
   * unanswered script after a reconnect can store one event twice, under two
   * `seq`s; two nodes may write byte-identical records, so that is not
   * deduplicated.)
   */
  append(input: AuditEventInput): Promise<AuditRecord>;
  /** The last record's `seq` and `hash`, or `null` for an empty log. */
  head(): Promise<AuditHead | null>;
}

/** What the log needs from an ioredis client. */
export type AuditLogRedis = Pick<Redis, 'xrevrange' | 'defineCommand'>;

export interface AuditLogDeps {
  redis: AuditLogRedis;
  clock: Clock;
  /** The stream key. Default `audit:log`. */
  key?: string;
}

const COMMAND = 'cardauthAuditAppend';
const MAX_ATTEMPTS = 50;
const MAX_BATCH = 100;
/** A batch that starts within this long of the previous write is back-to-back... */
const BUSY_MS = 1;
/** ...and waits this long first, so that other nodes' retries get their turn. */
const YIELD_MS = 2;

// Scheduling only (not audit time, so not the injected clock). Without these,
// Redis serves simultaneous scripts in a fixed connection order, and under
// back-to-back load one node wins every round while another exhausts its
// attempts: measured with 3 and 5 nodes in one process.
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** After a conflict: now or in 1 ms, at random, so retries stop arriving in lockstep. */
const jitter = () => (Math.random() < 0.5 ? nextTurn() : sleep(1));

/**
 * Compare-and-append. KEYS[1] is the stream; ARGV[1] the hash of the head the
 * new records link to ('' when the client saw an empty stream); then the `r`
 * and `h` fields of each record, in chain order. When the head is still
 * ARGV[1], XADDs each record and returns {1, {ids}}; otherwise writes nothing
 * and returns {0, last entry} ({0} when the stream is empty). Touches only
 * KEYS[1], with XREVRANGE and XADD.
 */
const APPEND_LUA = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local ok
if last == nil then
  ok = ARGV[1] == ''
else
  local head = false
  local f = last[2]
  for i = 1, #f - 1, 2 do
    if f[i] == 'h' then head = f[i + 1] end
  end
  ok = ARGV[1] ~= '' and head == ARGV[1]
end
if not ok then return {0, last} end
local ids = {}
for i = 2, #ARGV - 1, 2 do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'r', ARGV[i], 'h', ARGV[i + 1])
end
return {1, ids}
`;

type StreamEntry = [id: string, fields: string[]];
type AppendCommand = { [COMMAND](key: string, expected: string, ...fields: string[]): Promise<unknown> };
interface Pending {
  event: AuditEvent;
  ts: string;
  resolve(record: AuditRecord): void;
  reject(err: unknown): void;
}

async function redisCall<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new CardauthError('audit_unavailable', `audit ${what} failed`, { cause: e });
  }
}

function headOf(entry: StreamEntry | undefined): AuditHead | null {
  if (!entry) return null;
  const d = fromStreamFields(entry[1]);
  if (!d.ok) throw new CardauthError('audit_unavailable', `audit head ${entry[0]} is not a readable record; run the audit verification`);
  return { seq: d.seq, hash: d.hash };
}

/**
 * Creates the audit log over one Redis stream, shared by every server node.
 *
 * The chain stays a single line under concurrent writers: records are
 * built and hashed here (Redis Lua has no SHA-256), then a small Lua script
 * appends them only if the stream's last entry is still the one they link
 * to; otherwise the script returns the current last entry and the records
 * are rebuilt on it, up to 50 times (then `audit_unavailable`).
 *
 * - Appends of one log are queued and written in batches (group commit, up
 *   to 100 records per call), so only nodes contend, never the requests of
 *   one node.
 * - The log remembers the head it last saw, so an uncontended append is one
 *   round trip.
 * - Under back-to-back load, a batch waits 2 ms after the previous one and a
 *   retry waits 0–1 ms at random, so that one node cannot win every round.
 *
 * One XADD per record, all of a batch in one atomic script: a record is
 * written whole or not at all. Any Redis failure rejects with
 * `audit_unavailable` (HTTP 503; the cause is kept), so a login can fail
 * closed. Give the client a `commandTimeout`: a Redis that stops answering
 * holds the queue until the command fails.
 *
 * `ts` is read from the clock when `append` is called; records from
 * different nodes may therefore be a few ms out of time order, while `seq`
 * is the order of the chain.
 *
 * The script is registered on the client with `defineCommand` (EVALSHA,
 * falling back to EVAL after a restart). A Redis ACL for the server needs
 * `+evalsha +eval +xadd +xrevrange +xrange ~audit:*`.
 *
 * @example
 * const audit = createAuditLog({ redis, clock: systemClock });
 * await audit.append({ type: 'session.created', outcome: 'success', subject: { accountId }, sessionId: req.sessionID });
 */
export function createAuditLog({ redis, clock, key = 'audit:log' }: AuditLogDeps): AuditLog {
  if (!redis || typeof redis.defineCommand !== 'function' || typeof redis.xrevrange !== 'function') {
    throw new TypeError('createAuditLog: redis must be an ioredis client');
  }
  if (!clock || typeof clock.now !== 'function') throw new TypeError('createAuditLog: clock.now() is required');
  if (typeof key !== 'string' || key === '') throw new TypeError('createAuditLog: key must be a non-empty string');

  if (typeof (redis as Partial<AppendCommand>)[COMMAND] !== 'function') {
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: APPEND_LUA });
  }
  const script = redis as unknown as AppendCommand;

  const readHead = async () => headOf((await redisCall('read', () => redis.xrevrange(key, '+', '-', 'COUNT', 1)))[0]);

  /** The head this log last saw; undefined when unknown (start, or after an error). */
  let known: AuditHead | null | undefined;

  /** Chains `batch` onto the current head and writes it in one script call. */
  async function write(batch: readonly Pending[]): Promise<AuditRecord[]> {
    try {
      let head = known === undefined ? await readHead() : known;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const records: AuditRecord[] = [];
        const fields: string[] = [];
        let prev = head;
        for (const { event, ts } of batch) {
          const { record, fields: [, r, , h] } = sealRecordFields(event, { seq: prev ? prev.seq + 1 : 1, prev: prev ? prev.hash : GENESIS_PREV, ts });
          records.push(record);
          fields.push(r, h);
          prev = record;
        }
        const reply = await redisCall('write', () => script[COMMAND](key, head ? head.hash : '', ...fields));
        if (!Array.isArray(reply) || (reply[0] !== 1 && reply[0] !== 0)) {
          throw new CardauthError('audit_unavailable', 'audit write: unexpected reply from the append script');
        }
        if (reply[0] === 1) {
          known = prev;
          return records;
        }
        head = headOf(reply[1] as StreamEntry | undefined);
        await jitter();
      }
      throw new CardauthError('audit_unavailable', `audit write: the chain head kept moving (${MAX_ATTEMPTS} attempts)`);
    } catch (e) {
      known = undefined;
      throw e;
    }
  }

  const pending: Pending[] = [];
  let draining = false;
  let lastEnd = -Infinity;

  /** Writes what is pending, up to MAX_BATCH records per script call, one call in flight. */
  async function drain(): Promise<void> {
    draining = true;
    while (pending.length > 0) {
      await nextTurn(); // appends made in this tick join the batch
      if (performance.now() - lastEnd < BUSY_MS) await sleep(YIELD_MS);
      const batch = pending.splice(0, MAX_BATCH);
      try {
        const records = await write(batch);
        lastEnd = performance.now();
        batch.forEach((p, i) => p.resolve(records[i] as AuditRecord));
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
    }
    draining = false;
  }

  return {
    async append(input) {
      const event = parseAuditInput(input);
      const ts = new Date(clock.now()).toISOString();
      return new Promise<AuditRecord>((resolve, reject) => {
        pending.push({ event, ts, resolve, reject });
        if (!draining) void drain();
      });
    },
    head: readHead,
  };
}
