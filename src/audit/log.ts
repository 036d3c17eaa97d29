import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { CardauthError, guardAudit } from '../errors';
import {
  canonicalJson,
  canonicalMembers,
  fromStreamFields,
  GENESIS_PREV,
  parseAuditInput,
  sealRecordFields,
  sha256Hex,
  storedEvent,
  type AuditEvent,
  type AuditEventInput,
  type AuditRecord,
  type CanonicalMembers,
} from './record';
import { idAfter } from './stream-id';

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
export type AuditLogRedis = Pick<Redis, 'xrevrange' | 'xrange' | 'defineCommand'>;

/** What one batch (one group commit) cost: script calls, and compare rounds through the intake. For tests and the bench. */
export interface AuditBatchStats {
  records: number;
  /** Script calls: 1 on the fast path, 2 when the head had moved. */
  calls: number;
  /** Compare-and-appends of intake entries after the fast path was refused: at most 2 while the intake's backlog fits one read. */
  rounds: number;
}

export interface AuditLogDeps {
  redis: AuditLogRedis;
  clock: Clock;
  /** The stream key. Default `audit:log`. */
  key?: string;
  /** The intake stream. Default `audit:intake` for the default key, else `<key>:intake`. */
  intakeKey?: string;
  /** Called after each batch is written (tests and the bench count rounds with it). */
  onBatch?: (stats: AuditBatchStats) => void;
}

const COMMAND = 'cardauthAuditAppend';
const MAX_BATCH = 100;
/** Intake entries chained per compare, and chain entries returned after a refused one. */
const READ_COUNT = 500;
/** A safety net: two rounds suffice while the backlog fits one read (see createAuditLog). */
const MAX_ROUNDS = 20;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One script. KEYS: the chain stream, the intake stream. ARGV: [1] the hash
 * of the head the records link to ('' for an empty chain), [2] that head's
 * stream id ('' for an empty chain), [3] the mode, [4] the number of records
 * n, [5] the first of the caller's intake entries not known chained ('' for
 * none), [6] how many of the records (first) are chained from intake entries
 * the caller saw waiting, [7] the id of the last of those entries ('' for
 * none), then the `r` and `h` fields of each record in chain order.
 *
 * - 'seal' (the fast path): when the head is ARGV[1] and the intake holds no
 *   entry past the head's cursor (or past ARGV[7], when the first ARGV[6]
 *   records chain those), XADDs the records to the chain and returns
 *   {1, ids, 0, the last id}. Otherwise XADDs the caller's own records (those
 *   after the first ARGV[6]) to the intake as they are (field `r`: sealed on
 *   a head that has moved; chaining them replaces their chain fields) and
 *   returns the state.
 * - 'try': as 'seal', but refused it writes nothing: it only returns the
 *   state (the head that moved, the intake entries waiting).
 * - 'chain' (records chained from the intake): when the head is ARGV[1],
 *   XADDs them; when the head is one of them (another node chained the same
 *   entries on the same head: the same records), XADDs those after it. Then
 *   returns {1, ids, how many were already there, the last one's stream id,
 *   the intake entries past ARGV[7]}. Otherwise (or with n = 0) the state.
 *
 * The state: {0, head entry or false, the intake entries past the head's
 * cursor (up to COUNT), the ids of the intake entries just added, and, when
 * the head moved past ARGV[5], the chain entries after ARGV[2] (up to COUNT)}.
 * The cursor is the head record's `intake` ('0-0' without one). Touches only
 * the two keys, with XREVRANGE, XRANGE and XADD.
 */
const APPEND_LUA = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local head, cursor = false, '0-0'
if last then
  local f = last[2]
  for i = 1, #f - 1, 2 do
    if f[i] == 'h' then head = f[i + 1] end
    if f[i] == 'r' then
      local ok, rec = pcall(cjson.decode, f[i + 1])
      if ok and type(rec) == 'table' and type(rec.intake) == 'string' then cursor = rec.intake end
    end
  end
end
local function after(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  if am ~= bm then return am > bm end
  return as > bs
end
local same
if last then same = ARGV[1] ~= '' and head == ARGV[1] else same = ARGV[1] == '' end
local mode, n, p, count = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[6]), ${READ_COUNT}
local from = false
if same and n > 0 then from = 0 end
if not from and last then
  local upto = n
  if mode ~= 'chain' then upto = p end
  for i = 0, upto - 1 do
    if head == ARGV[9 + 2 * i] then from = i + 1 end
  end
end
if from and mode ~= 'chain' then
  local after_chained = cursor
  if p > 0 then after_chained = ARGV[7] end
  if #redis.call('XRANGE', KEYS[2], '(' .. after_chained, '+', 'COUNT', 1) > 0 then from = false end
end
if from then
  local ids = {}
  for i = from, n - 1 do
    ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'r', ARGV[8 + 2 * i], 'h', ARGV[9 + 2 * i])
  end
  local waiting = {}
  if mode == 'chain' and ARGV[7] ~= '' then waiting = redis.call('XRANGE', KEYS[2], '(' .. ARGV[7], '+', 'COUNT', count) end
  return {1, ids, from, ids[#ids] or last[1], waiting}
end
local mine, since = {}, {}
if mode == 'seal' then
  for i = p, n - 1 do
    mine[#mine + 1] = redis.call('XADD', KEYS[2], '*', 'r', ARGV[8 + 2 * i])
  end
end
if not same and ARGV[5] ~= '' and not after(ARGV[5], cursor) then
  local from = '-'
  if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
  since = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', count)
end
return {0, last or false, redis.call('XRANGE', KEYS[2], '(' .. cursor, '+', 'COUNT', count), mine, since}
`;

type StreamEntry = [id: string, fields: string[]];
type Mode = 'try' | 'seal' | 'chain';
type AppendCommand = {
  [COMMAND](key: string, intake: string, expected: string, expectedId: string, mode: Mode, n: number, firstMine: string, chained: number, cursorAfter: string, ...fields: string[]): Promise<unknown>;
};
type State = [0, StreamEntry | null, StreamEntry[], string[], StreamEntry[]];
interface Pending {
  event: AuditEvent;
  /** The event's canonical members, taken once: its intake JSON, and each seal merges the chain fields into them. */
  members: CanonicalMembers;
  ts: string;
  resolve(record: AuditRecord): void;
  reject(err: unknown): void;
}
/** The chain's last record, where it is in the stream, and how far it has taken the intake. */
interface Head extends AuditHead {
  id: string;
  /** The `intake` of the head record, if any. */
  cursor?: string;
}

const redisCall = <T>(what: 'read' | 'write', p: Promise<T>) => guardAudit(p, `audit ${what} failed`);

const unavailable = (why: string) => new CardauthError('audit_unavailable', `audit write: ${why}`);

function headOf(entry: StreamEntry | null | undefined): Head | null {
  if (!entry) return null;
  const d = fromStreamFields(entry[1], { canonical: false });
  if (!d.ok) throw new CardauthError('audit_unavailable', `audit head ${entry[0]} is not a readable record; run the audit verification`);
  return { seq: d.seq, hash: d.hash, id: entry[0], ...(typeof d.record.intake === 'string' ? { cursor: d.record.intake } : {}) };
}

/** What sealing puts around an event; an intake entry holding a record sealed on a moved head loses them (they are sealed anew). */
const CHAIN_FIELDS = ['v', 'seq', 'ts', 'prev', 'intake'] as const;

/** A record's event: its members but the chain fields. */
const eventPart = (record: object) => Object.fromEntries(Object.entries(record).filter(([k]) => !(CHAIN_FIELDS as readonly string[]).includes(k)));

/** Whether `ts` is a time as records carry it: ISO-8601 UTC with milliseconds. */
const isIsoTime = (ts: unknown): ts is string => {
  try {
    return typeof ts === 'string' && new Date(ts).toISOString() === ts;
  } catch {
    return false; // an invalid date
  }
};

const parseJson = (json: unknown): unknown => {
  try {
    return typeof json === 'string' ? JSON.parse(json) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * An intake entry as the event and time it holds: `r`, a record sealed on a
 * head that moved (its chain fields dropped, its `ts` kept). One that is not
 * (not written by a node: not JSON, not exactly an event as `parseAuditInput`
 * writes it (`storedEvent`), or no time as records carry it) is chained as `audit.intake_rejected`,
 * naming the entry and the hash of its fields, at the time of its id: so
 * every node chaining it builds the same record, and appends go on rather
 * than stop at it, and nothing is dropped unseen.
 */
function intakeEvent([id, fields]: StreamEntry): { event: AuditEvent; ts: string } {
  const record = fields.length === 2 && fields[0] === 'r' ? parseJson(fields[1]) : undefined;
  if (typeof record === 'object' && record !== null && !Array.isArray(record)) {
    const { ts } = record as { ts?: unknown };
    const event = storedEvent(eventPart(record));
    if (event && isIsoTime(ts)) return { event, ts };
  }
  const rejected = parseAuditInput({ type: 'audit.intake_rejected', outcome: 'failure', reason: 'unreadable_entry', details: { entry: id, sha256: sha256Hex(canonicalJson(fields)) } });
  // An id set by hand may lie past any date: then the epoch, still the same on every node.
  const at = new Date(Number(id.split('-')[0]));
  return { event: rejected, ts: (Number.isNaN(at.getTime()) ? new Date(0) : at).toISOString() };
}

/** A reply saying the records are in the chain: {1, ids of those added, how many were there already, the last one's stream id, the intake entries waiting after them}. */
function isWritten(reply: unknown, n: number): reply is [1, string[], number, string, StreamEntry[]] {
  return Array.isArray(reply) && reply[0] === 1 && Array.isArray(reply[1]) && typeof reply[2] === 'number' && reply[1].length === n - reply[2] && typeof reply[3] === 'string' && Array.isArray(reply[4]);
}

function asState(reply: unknown): State {
  if (Array.isArray(reply) && reply[0] === 0 && reply.length === 5 && Array.isArray(reply[2]) && Array.isArray(reply[3]) && Array.isArray(reply[4])) return reply as State;
  throw unavailable('unexpected reply from the append script');
}

/** The head once `records` are in the chain, the last under stream id `id`. */
function headAfter(records: readonly AuditRecord[], id: string): Head {
  const last = records.at(-1) as AuditRecord;
  return { seq: last.seq, hash: last.hash, id, ...(last.intake === undefined ? {} : { cursor: last.intake }) };
}

/** Seals `items` onto `head`, in order: the records and their XADD fields. */
function seal(items: ReadonlyArray<{ event: AuditEvent; members?: CanonicalMembers; ts: string; intake?: string }>, head: Head | null) {
  const records: AuditRecord[] = [];
  const fields: string[] = [];
  let prev: AuditHead | null = head;
  let cursor = head?.cursor;
  for (const { event, members, ts, intake = cursor } of items) {
    const { record, fields: [, r, , h] } = sealRecordFields(event, { seq: prev ? prev.seq + 1 : 1, prev: prev ? prev.hash : GENESIS_PREV, ts, ...(intake === undefined ? {} : { intake }) }, members);
    records.push(record);
    fields.push(r, h);
    prev = record;
    cursor = intake;
  }
  return { records, fields };
}

/**
 * Creates the audit log over one Redis stream, shared by every server node.
 *
 * Records are built and hashed here (Redis Lua has no SHA-256); a Lua
 * script appends them only if the stream's last entry is still the one they
 * link to, so the chain stays a single line. What keeps nodes from fighting
 * over the head is a second stream, the intake (`audit:intake`):
 *
 * - **Fast path** (one round trip): a batch is sealed on the head this log
 *   last saw and sent. If that is still the head and the
 *   intake has nothing unchained, the script appends the records. When this
 *   log last saw entries waiting in the intake (other nodes' events that
 *   arrived while it chained), it chains those first, in the same call: the
 *   script then also needs nothing else waiting after them.
 * - **Once more on a moved head**: the first call only tries ('try'); when
 *   the head moved, it answers the new head and what waits in the intake,
 *   writing nothing, and the log seals the batch anew on them and sends it
 *   as below. Two nodes writing at once mostly land this way, in two round
 *   trips, instead of passing their batches through the intake.
 * - **Otherwise** the same script XADDs the batch's records to the intake as
 *   they are (never refused; chaining keeps each one's event and `ts` and
 *   seals it anew) and returns the head and every intake entry the chain has not
 *   taken yet (up to 500). This log chains all of them, its own and other
 *   nodes', in intake order, each record carrying the id of the entry it came
 *   from in `intake` (a record appended directly carries its predecessor's:
 *   the head always says how far the intake is chained, the cursor), and
 *   compare-and-appends them. A record chained from the intake is
 *   determined by the one before and its entry, so another node chaining the
 *   same entries builds the same records: the compare also lands when the
 *   head is one of ours, appending the rest. A refused compare (the chain
 *   passed the whole list) answers the same state plus, if some of ours were
 *   chained meanwhile, the records chained since; the log takes its own from
 *   those and chains the rest once more.
 * - **At most two compare rounds**: if our first compare is refused, another
 *   node's compare succeeded after our intake XADD; any compare that succeeds
 *   after that one read the head after it, so after our XADD, and so chains
 *   our entries. If our second compare is refused, such a compare has done it.
 *   Either way the log finds its records (whoever chained them) and resolves
 *   with them. With the 'try' before, a batch takes at most four script
 *   calls besides reads. The bound grows with the backlog (500 entries per read), never
 *   with the number of nodes. An intake entry is chained once: only past the
 *   head's cursor, and only on an unchanged head.
 *
 * Appends of one log are queued and written in batches (group commit, up to
 * 100 records per script call), so only nodes contend, never the requests
 * of one node; the log remembers the head it last saw, so an uncontended
 * append is one round trip. Each script call is atomic: a batch's records
 * are in the chain (or its events in the intake) whole or not at all. The
 * next batch starts once this one is done or in the intake: at most two in
 * flight, in order. `onBatch` (tests, bench) hears what each batch cost.
 *
 * Any Redis failure rejects with `audit_unavailable` (HTTP 503; the cause is
 * kept), so a login can fail closed. Events already in the intake are then
 * chained by the next append of any node: the log may show an action that
 * was refused, never an action without its record. Give the client a
 * `commandTimeout`: a Redis that stops answering holds the queue until the
 * command fails.
 *
 * `ts` is read from the clock when `append` is called; records from
 * different nodes may therefore be a few ms out of time order, while `seq`
 * is the order of the chain. The intake is never deleted from here;
 * retention may trim it below the head's cursor.
 *
 * The script is registered on the client with `defineCommand` (EVALSHA,
 * falling back to EVAL after a restart). A Redis ACL for the server needs
 * `+evalsha +eval +xadd +xrevrange +xrange ~audit:*`.
 *
 * @example
 * const audit = createAuditLog({ redis, clock: systemClock });
 * await audit.append({ type: 'session.created', outcome: 'success', subject: { accountId }, sessionId: req.sessionID });
 */
export function createAuditLog({ redis, clock, key = 'audit:log', intakeKey, onBatch }: AuditLogDeps): AuditLog {
  if (!redis || typeof redis.defineCommand !== 'function' || typeof redis.xrevrange !== 'function') {
    throw new TypeError('createAuditLog: redis must be an ioredis client');
  }
  if (!clock || typeof clock.now !== 'function') throw new TypeError('createAuditLog: clock.now() is required');
  if (typeof key !== 'string' || key === '') throw new TypeError('createAuditLog: key must be a non-empty string');
  const intake = intakeKey ?? (key === 'audit:log' ? 'audit:intake' : `${key}:intake`);
  if (typeof intake !== 'string' || intake === '' || intake === key) throw new TypeError('createAuditLog: intakeKey must be a non-empty string other than key');

  if (typeof (redis as Partial<AppendCommand>)[COMMAND] !== 'function') {
    redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: APPEND_LUA });
  }
  const script = redis as unknown as AppendCommand;

  const lastEntry = async () => (await redisCall('read', redis.xrevrange(key, '+', '-', 'COUNT', 1)))[0] as StreamEntry | undefined;

  /** The head this log last saw; undefined when unknown (start, or after an error). */
  let known: Head | null | undefined;
  /** The intake entries past `known`'s cursor, as last seen: the next batch chains them ahead of its own records. */
  let waiting: StreamEntry[] = [];

  /** Writes `batch`: the fast path, else through the intake. Resolves with its records in batch order. */
  async function write(batch: readonly Pending[], inIntake: () => void): Promise<AuditRecord[]> {
    const stats: AuditBatchStats = { records: batch.length, calls: 0, rounds: 0 };
    const mine = new Map<string, number>();
    const firstMine = () => mine.keys().next().value ?? '';
    /** This batch's intake entries: they are chained from what the log holds, not read back. */
    const own = new Map<string, Pending>();
    const call = (mode: Mode, head: Head | null, records: readonly string[], chained = 0, cursorAfter = '') => {
      stats.calls++;
      return redisCall('write', script[COMMAND](key, intake, head?.hash ?? '', head?.id ?? '', mode, records.length / 2, firstMine(), chained, cursorAfter, ...records));
    };
    /** Other nodes' intake entries, each read once in this batch however many calls seal it (an entry never changes). */
    const read = new Map<string, { event: AuditEvent; members: CanonicalMembers; ts: string; intake: string }>();
    /** An intake entry, ready to seal: its event, canonical members, time and id. */
    const toChain = (e: StreamEntry) => {
      const p = own.get(e[0]);
      if (p) return { event: p.event, members: p.members, ts: p.ts, intake: e[0] };
      let entry = read.get(e[0]);
      if (!entry) {
        const { event, ts } = intakeEvent(e);
        entry = { event, members: canonicalMembers(event), ts, intake: e[0] };
        read.set(e[0], entry);
      }
      return entry;
    };
    try {
      /** The fast path on the head last seen: the entries seen waiting in the intake first, then the batch. */
      const fast = async (mode: 'try' | 'seal'): Promise<{ records: AuditRecord[] } | { state: State }> => {
        // What waits belongs to the head known now: with none known, another batch may set it while we read the head.
        const seen = known === undefined ? [] : waiting;
        const start = known === undefined ? headOf(await lastEntry()) : known;
        const pre = seal(seen.map(toChain), start);
        const sealed = seal(batch, pre.records.length ? headAfter(pre.records, '') : start);
        const reply = await call(mode, start, [...pre.fields, ...sealed.fields], pre.records.length, seen.at(-1)?.[0] ?? '');
        if (!isWritten(reply, pre.records.length + batch.length)) return { state: asState(reply) };
        known = headAfter(sealed.records, reply[3]);
        waiting = [];
        onBatch?.(stats);
        return { records: sealed.records };
      };
      // Refused, 'try' writes nothing and answers the head that moved: sealed anew on it, the batch usually lands.
      const tried = await fast('try');
      if ('records' in tried) return tried.records;
      known = headOf(tried.state[1]);
      waiting = tried.state[2];
      const sealed = await fast('seal');
      if ('records' in sealed) return sealed.records;
      sealed.state[3].forEach((id, i) => {
        mine.set(id, i);
        own.set(id, batch[i] as Pending);
      });
      if (mine.size !== batch.length) throw unavailable('unexpected reply from the append script');
      inIntake();
      const out: AuditRecord[] = [];
      const take = (record: AuditRecord) => {
        const i = record.intake === undefined ? undefined : mine.get(record.intake);
        if (i === undefined) return;
        // Another node chains our entry as what it reads there: a node of another version may not know our event.
        const p = batch[i] as Pending;
        const { hash: _hash, ...body } = record;
        if (body.ts !== p.ts || canonicalJson(eventPart(body)) !== `{${p.members.map(([, m]) => m).join(',')}}`) {
          throw unavailable(`own intake entry ${record.intake} was chained as another event (do all nodes run the same version?)`);
        }
        out[i] = record;
        mine.delete(record.intake as string);
      };
      // The chain's head, the intake entries past its cursor, and the records chained since the head this log knew.
      let head = headOf(sealed.state[1]);
      let entries = sealed.state[2];
      let since = sealed.state[4];
      for (;;) {
        known = head;
        waiting = entries;
        await takeChained(since, head, take, mine);
        if (mine.size === 0) break;
        if (stats.rounds >= MAX_ROUNDS) throw unavailable(`the intake was not chained in ${MAX_ROUNDS} rounds`);
        if (entries.length === 0) throw unavailable('own intake entries are neither chained nor in the intake');
        const chained = seal(entries.map(toChain), head);
        stats.rounds++;
        const reply = await call('chain', head, chained.fields, 0, entries.at(-1)?.[0]);
        if (isWritten(reply, chained.records.length)) {
          // On our own head: the reply's waiting entries are those past its cursor, and nothing was chained since.
          chained.records.forEach(take);
          head = headAfter(chained.records, reply[3]);
          entries = reply[4];
          since = [];
        } else {
          const state = asState(reply);
          head = headOf(state[1]);
          entries = state[2];
          since = state[4];
        }
      }
      onBatch?.(stats);
      return out;
    } catch (e) {
      known = undefined;
      waiting = [];
      throw e;
    }
  }

  /**
   * Takes our records out of the chain entries a refused compare returned,
   * reading on when more went in than it carried.
   */
  async function takeChained(since: readonly StreamEntry[], head: Head | null, take: (r: AuditRecord) => void, mine: ReadonlyMap<string, number>): Promise<void> {
    const chainedOurs = () => [...mine.keys()].some((id) => head?.cursor !== undefined && !idAfter(id, head.cursor));
    let entries = since;
    while (entries.length > 0) {
      for (const [, fields] of entries) {
        const d = fromStreamFields(fields, { canonical: false });
        if (d.ok) take(d.record);
      }
      const from = entries.at(-1)?.[0] as string;
      entries = chainedOurs() ? ((await redisCall('read', redis.xrange(key, `(${from}`, '+', 'COUNT', READ_COUNT))) as StreamEntry[]) : [];
    }
    if (chainedOurs()) throw unavailable('own records chained but not found after the head this log knew');
  }

  const pending: Pending[] = [];
  let draining = false;
  /** The batch before the one being written; settles when it is done. */
  let previous: Promise<void> = Promise.resolve();

  /**
   * Writes what is pending, up to MAX_BATCH records per batch. The next batch
   * starts once this one is done or its events are in the intake (its order
   * after them is then kept), so at most two are in flight: one being chained
   * while the next goes into the intake.
   */
  async function drain(): Promise<void> {
    draining = true;
    while (pending.length > 0) {
      await nextTurn(); // appends made in this tick join the batch
      const batch = pending.splice(0, MAX_BATCH);
      let queued = () => {};
      const inIntake = new Promise<void>((resolve) => (queued = resolve));
      const done = write(batch, () => queued()).then(
        (records) => batch.forEach((p, i) => p.resolve(records[i] as AuditRecord)),
        (e: unknown) => batch.forEach((p) => p.reject(e)),
      );
      await Promise.race([inIntake, done]);
      await previous;
      previous = done;
    }
    draining = false;
  }

  return {
    async append(input) {
      const event = parseAuditInput(input);
      const ts = new Date(clock.now()).toISOString();
      const members = canonicalMembers(event);
      return new Promise<AuditRecord>((resolve, reject) => {
        pending.push({ event, members, ts, resolve, reject });
        if (!draining) void drain();
      });
    },
    async head() {
      const head = headOf(await lastEntry());
      return head && { seq: head.seq, hash: head.hash };
    },
  };
}
