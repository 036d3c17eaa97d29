import type Redis from 'ioredis';
import { guard } from '../errors';
import { defineScript, pairsToRecord } from './script';

/** Where connect-redis keeps sessions (`sess:<id>`); the scripts here and the sweep reach them there. */
export const SESSION_KEY_PREFIX = 'sess:';

/**
 * The sessions an OpenID client holds tokens for (src/oidc/backchannel-store.ts), by when to look
 * at each next. Every script that locks a session, or ends it or leaves it without a user, sets its
 * score to 0 here with `ZADD XX` (a no-op for a session no client holds tokens for), so the
 * back-channel logout worker of any node finds it at its next poll.
 */
export const SESSION_WATCH_KEY = 'oidc:watch';

/** Why a session was locked (УПД.8). */
export type LockReason = 'idle' | 'tapout' | 'switch' | 'request';

export interface SessionLock {
  reason: LockReason;
  /** ms since epoch */
  at: number;
}

/** A tap-out lock whose audit record is still to be written. */
export interface UnrecordedLock extends SessionLock {
  sessionId: string;
}

/** How long a lock waits for its `session.locked` record (a later tap-out of the card at that agent writes it). */
export const UNRECORDED_TTL_SEC = 7 * 24 * 3600;

export interface SessionLocks {
  /** Remembers that a session was opened with this card at this agent (for tap-out). */
  bind(sessionId: string, agentId: string, uid: string, ttlSec: number): Promise<void>;
  /**
   * Locks every live, unlocked session opened with this card at this agent.
   * Answers the ids it locked now, and every lock of this card at this agent
   * whose `session.locked` record is still to be written: these, and any an
   * earlier call locked but could not record (until {@link recorded}).
   */
  lockCard(agentId: string, uid: string, lock: SessionLock): Promise<{ locked: string[]; unrecorded: UnrecordedLock[] }>;
  /** The `session.locked` record of this lock was written. */
  recorded(agentId: string, uid: string, sessionId: string): Promise<void>;
  /** Sets `lastSeen` unless the session is locked, without a whole-session write racing a lock. */
  touch(sessionId: string, at: number): Promise<void>;
}

// Sessions are connect-redis JSON under `sess:<sid>`. These scripts patch one
// field in place, atomically, so a tap-out on one node and a request on
// another cannot overwrite each other's change. (They reach session keys
// named in ARGV, which a single Redis allows; a Redis Cluster would not.)
//
// LOCK_CARD splices the lock onto the end of the session JSON (which has no
// `locked` key yet), so the rest is stored byte for byte (cjson would turn []
// into {} and round long numbers). It also notes each
// lock it makes in the card's "unrecorded" hash (sid -> "reason:at"), in the
// same step, and answers every note: a lock does not wait for its audit
// record, and the note is what lets a later tap-out write a record an
// earlier one could not (`recorded` clears it). Records are written at least
// once: two tap-outs of one card at the same moment may both write one.
// KEYS: the card's index, its unrecorded hash, the watch set. ARGV: prefix, reason, at, ttl.
const LOCK_CARD = `
local locked = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local raw = redis.call('GET', ARGV[1] .. sid)
  if not raw then
    redis.call('SREM', KEYS[1], sid)
  else
    local s = cjson.decode(raw)
    if type(s.passport) == 'table' and type(s.passport.user) == 'table' and s.locked == nil then
      local lock = { reason = ARGV[2], at = tonumber(ARGV[3]) }
      local patched
      if string.sub(raw, -1) == '}' then
        patched = string.sub(raw, 1, -2) .. ',"locked":' .. cjson.encode(lock) .. '}'
      else
        s.locked = lock
        patched = cjson.encode(s)
      end
      redis.call('SET', ARGV[1] .. sid, patched, 'KEEPTTL')
      redis.call('HSET', KEYS[2], sid, ARGV[2] .. ':' .. ARGV[3])
      redis.call('ZADD', KEYS[3], 'XX', 0, sid)
      table.insert(locked, sid)
    end
  end
end
if #locked > 0 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return {locked, redis.call('HGETALL', KEYS[2])}
`;
const TOUCH = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {'gone'} end
local s = cjson.decode(raw)
if s.locked ~= nil then return {'locked'} end
s.lastSeen = tonumber(ARGV[1])
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return {'ok'}
`;

// KEYS: the card's index. ARGV: session id, ttl. Adds and (re)sets the TTL
// atomically, in one round trip.
const BIND = `
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {'ok'}
`;

/** The index of the sessions opened with a card at an agent (tap-out finds them there). */
export const indexKey = (agentId: string, uid: string) => `sessidx:${agentId}:${uid}`;
const unrecordedKey = (agentId: string, uid: string) => `sesslocks-unrecorded:${agentId}:${uid}`;

/** The unrecorded hash as HGETALL answers it (`[sid, "reason:at", …]`), oldest lock first. */
function unrecordedLocks(flat: unknown): UnrecordedLock[] {
  const out: UnrecordedLock[] = [];
  for (const [sessionId, value] of Object.entries(pairsToRecord(Array.isArray(flat) ? flat : []))) {
    const sep = value.lastIndexOf(':');
    out.push({ sessionId, reason: value.slice(0, sep) as LockReason, at: Number(value.slice(sep + 1)) });
  }
  return out.sort((a, b) => a.at - b.at || a.sessionId.localeCompare(b.sessionId));
}

/**
 * Session locks in Redis, shared by every node: an index of sessions by card
 * and agent, and atomic in-place patches of connect-redis session JSON.
 *
 * @example
 * const locks = createSessionLocks({ redis });
 * await locks.lockCard(agentId, uid, { reason: 'tapout', at: clock.now() });
 */
export function createSessionLocks(deps: { redis: Redis; prefix?: string }): SessionLocks {
  const { redis } = deps;
  const prefix = deps.prefix ?? SESSION_KEY_PREFIX;
  const lockCard = defineScript(redis, 'cardauthLockCard', 3, LOCK_CARD);
  const touch = defineScript(redis, 'cardauthSessionTouch', 1, TOUCH);
  const bind = defineScript(redis, 'cardauthSessionBind', 1, BIND);
  return {
    async bind(sessionId, agentId, uid, ttlSec) {
      await bind([indexKey(agentId, uid)], [sessionId, ttlSec]);
    },
    async lockCard(agentId, uid, lock) {
      const keys = [indexKey(agentId, uid), unrecordedKey(agentId, uid), SESSION_WATCH_KEY];
      const [locked, unrecorded] = await lockCard(keys, [prefix, lock.reason, lock.at, UNRECORDED_TTL_SEC]);
      return { locked: (Array.isArray(locked) ? locked : []).map(String), unrecorded: unrecordedLocks(unrecorded) };
    },
    async recorded(agentId, uid, sessionId) {
      await guard(redis.hdel(unrecordedKey(agentId, uid), sessionId));
    },
    async touch(sessionId, at) {
      await touch([prefix + sessionId], [at]);
    },
  };
}
