import type Redis from 'ioredis';
import { defineScript } from './script';

/** Where connect-redis keeps sessions (`sess:<id>`); the scripts here and the sweep reach them there. */
export const SESSION_KEY_PREFIX = 'sess:';

/** Why a session was locked (УПД.8). */
export type LockReason = 'idle' | 'tapout' | 'switch' | 'request';

export interface SessionLock {
  reason: LockReason;
  /** ms since epoch */
  at: number;
}

export interface SessionLocks {
  /** Remembers that a session was opened with this card at this agent (for tap-out). */
  bind(sessionId: string, agentId: string, uid: string, ttlSec: number): Promise<void>;
  /** Locks every live, unlocked session opened with this card at this agent; answers the ids locked. */
  lockCard(agentId: string, uid: string, lock: SessionLock): Promise<string[]>;
  /** Sets `lastSeen` unless the session is locked, without a whole-session write racing a lock. */
  touch(sessionId: string, at: number): Promise<void>;
}

// Sessions are connect-redis JSON under `sess:<sid>`. These scripts patch one
// field in place, atomically, so a tap-out on one node and a request on
// another cannot overwrite each other's change. (They reach session keys
// named in ARGV, which a single Redis allows; a Redis Cluster would not.)
const LOCK_CARD = `
local sids = redis.call('SMEMBERS', KEYS[1])
local locked = {}
for _, sid in ipairs(sids) do
  local raw = redis.call('GET', ARGV[1] .. sid)
  if not raw then
    redis.call('SREM', KEYS[1], sid)
  else
    local s = cjson.decode(raw)
    if type(s.passport) == 'table' and type(s.passport.user) == 'table' and s.locked == nil then
      s.locked = { reason = ARGV[2], at = tonumber(ARGV[3]) }
      redis.call('SET', ARGV[1] .. sid, cjson.encode(s), 'KEEPTTL')
      table.insert(locked, sid)
    end
  end
end
return locked
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

const indexKey = (agentId: string, uid: string) => `sessidx:${agentId}:${uid}`;

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
  const lockCard = defineScript(redis, 'cardauthLockCard', 1, LOCK_CARD);
  const touch = defineScript(redis, 'cardauthSessionTouch', 1, TOUCH);
  const bind = defineScript(redis, 'cardauthSessionBind', 1, BIND);
  return {
    async bind(sessionId, agentId, uid, ttlSec) {
      await bind([indexKey(agentId, uid)], [sessionId, ttlSec]);
    },
    async lockCard(agentId, uid, lock) {
      return (await lockCard([indexKey(agentId, uid)], [prefix, lock.reason, lock.at])).map(String);
    },
    async touch(sessionId, at) {
      await touch([prefix + sessionId], [at]);
    },
  };
}
