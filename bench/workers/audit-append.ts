import Redis from 'ioredis';
import { cardauth } from '../lib/cardauth';
import { serveRpc } from '../lib/children';
import { runFor, type LoadResult } from '../lib/load';
import { EVENT } from '../sections/audit-append';

/**
 * A server node in its own process for the audit section: one ioredis client,
 * a `createAuditLog` per stream key, `inFlight` appends back to back for `ms`
 * to the run's `key`, starting at the wall-clock time `at` (so that two nodes
 * start together).
 */

export interface AuditNodeParams {
  port: number;
  inFlight: number;
}

/** What the lean writer did: records per second inside the window, and every record written (for CPU per record). */
export interface AuditLeanResult {
  perSec: number;
  completed: number;
}

export interface AuditNodeRun {
  ms: number;
  at: number;
  /** The chain: the same for every node (one shared chain), or one each (no coordination). */
  key: string;
}

/** The turns run: this node's chain `key` and the other node's `other`; `first` starts. */
export interface AuditTurnsRun extends AuditNodeRun {
  other: string;
  first: boolean;
}

export interface AuditNodeResult {
  load: LoadResult;
  batches: number;
  records: number;
  calls: number;
  rounds: number;
  maxRounds: number;
}

const p = JSON.parse(process.argv[2] ?? '{}') as AuditNodeParams;
const redis = new Redis({ port: p.port, host: '127.0.0.1' });
const stats = { batches: 0, records: 0, calls: 0, rounds: 0, maxRounds: 0 };
const logs = new Map<string, ReturnType<typeof cardauth.auditLog.createAuditLog>>();
const logFor = (key: string) => {
  const made = logs.get(key);
  if (made) return made;
  const log = cardauth.auditLog.createAuditLog({
    redis,
    clock: { now: () => Date.now() },
    key,
    onBatch(b) {
      stats.batches++;
      stats.records += b.records;
      stats.calls += b.calls;
      stats.rounds += b.rounds;
      stats.maxRounds = Math.max(stats.maxRounds, b.rounds);
    },
  });
  logs.set(key, log);
  return log;
};

/**
 * A bound, not a protocol: the least any chained append from this process can do per batch of
 * `inFlight` records. Validate, canonicalise and seal them on a chain of this process's own, and
 * XADD them in one script call (no compare, no intake, no queue, no promise per record). The
 * chains continue across runs, so they verify afterwards.
 */
const LEAN_LUA = "for i = 1, #ARGV, 2 do redis.call('XADD', KEYS[1], '*', 'r', ARGV[i], 'h', ARGV[i + 1]) end return #ARGV / 2";
redis.defineCommand('benchLeanAppend', { numberOfKeys: 1, lua: LEAN_LUA });
/** The same, and a turn signal: one entry in `KEYS[2]` (MAXLEN 1) that the other node's blocked XREAD wakes on. */
const TURN_LUA = `${LEAN_LUA.replace(' return #ARGV / 2', '')} redis.call('XADD', KEYS[2], 'MAXLEN', '1', '*', 'n', #ARGV / 2) return #ARGV / 2`;
redis.defineCommand('benchTurnAppend', { numberOfKeys: 2, lua: TURN_LUA });
const leanRedis = redis as unknown as {
  benchLeanAppend(key: string, ...fields: string[]): Promise<number>;
  benchTurnAppend(key: string, turn: string, ...fields: string[]): Promise<number>;
};
const leanHeads = new Map<string, { seq: number; hash: string }>();
/** For the turns run: a second connection, blocked on the other node's turn signal. */
const blocker = new Redis({ port: p.port, host: '127.0.0.1' });
const lastTurn = new Map<string, string>();

serveRpc(
  {
    async lean(arg): Promise<AuditLeanResult> {
      const { ms, at, key } = arg as AuditNodeRun;
      const { parseAuditInput, canonicalMembers, sealRecordFields, GENESIS_PREV } = cardauth.auditRecord;
      let head = leanHeads.get(key) ?? { seq: 0, hash: GENESIS_PREV };
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      const end = performance.now() + ms;
      let inWindow = 0;
      let completed = 0;
      while (performance.now() < end) {
        const fields: string[] = [];
        for (let i = 0; i < p.inFlight; i++) {
          const event = parseAuditInput(EVENT);
          const { record, fields: [, r, , h] } = sealRecordFields(event, { seq: head.seq + 1, prev: head.hash, ts: new Date().toISOString() }, canonicalMembers(event));
          head = record;
          fields.push(r, h);
        }
        await leanRedis.benchLeanAppend(key, ...fields);
        completed += p.inFlight;
        if (performance.now() <= end) inWindow += p.inFlight;
      }
      leanHeads.set(key, head);
      return { perSec: inWindow / (ms / 1000), completed };
    },
    /**
     * A bound for one shared chain whose nodes coordinate only through Redis, if that cost nothing: the lean writer, but the two nodes take
     * strict turns. Each validates its batch as appends come, then waits until the other's batch has
     * landed (a blocked XREAD on its turn signal: it wakes with the other's reply, after the same fsync,
     * as soon as any node can know a head another wrote) before it seals and writes, as a shared chain
     * needs. No compare, no refused call, no intake: what remains is the wait for each other's fsync.
     */
    async turns(arg): Promise<AuditLeanResult> {
      const { ms, at, key, other, first } = arg as AuditTurnsRun;
      const { parseAuditInput, canonicalMembers, sealRecordFields, GENESIS_PREV } = cardauth.auditRecord;
      let head = leanHeads.get(key) ?? { seq: 0, hash: GENESIS_PREV };
      const signal = `${other}:turn`;
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      const end = performance.now() + ms;
      let inWindow = 0;
      let completed = 0;
      let mine = first;
      const validated = () =>
        Array.from({ length: p.inFlight }, () => {
          const event = parseAuditInput(EVENT);
          return { event, members: canonicalMembers(event), ts: new Date().toISOString() };
        });
      let events = validated();
      while (performance.now() < end) {
        if (!mine) {
          // The other node's turn: wait for its landing (or 200 ms, when it has stopped).
          const got = (await blocker.xread('BLOCK', 200, 'STREAMS', signal, lastTurn.get(signal) ?? '0-0')) as Array<[string, Array<[string, string[]]>]> | null;
          const id = got?.[0]?.[1].at(-1)?.[0];
          if (id) lastTurn.set(signal, id);
        }
        mine = false;
        const fields: string[] = [];
        for (const { event, members, ts } of events) {
          const { record, fields: [, r, , h] } = sealRecordFields(event, { seq: head.seq + 1, prev: head.hash, ts }, members);
          head = record;
          fields.push(r, h);
        }
        const landed = leanRedis.benchTurnAppend(key, `${key}:turn`, ...fields);
        // The next batch is validated while this one is written, off the turn's critical path: generous to the bound (in a closed loop a node's next appends come only once these resolve).
        events = validated();
        await landed;
        completed += p.inFlight;
        if (performance.now() <= end) inWindow += p.inFlight;
      }
      leanHeads.set(key, head);
      return { perSec: inWindow / (ms / 1000), completed };
    },
    async run(arg): Promise<AuditNodeResult> {
      const { ms, at, key } = arg as AuditNodeRun;
      const log = logFor(key);
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      Object.assign(stats, { batches: 0, records: 0, calls: 0, rounds: 0, maxRounds: 0 });
      const load = await runFor(ms, p.inFlight, () => log.append(EVENT).then(() => undefined));
      return { load, ...stats };
    },
  },
  null,
  async () => {
    blocker.disconnect();
    await redis.quit();
  },
);
