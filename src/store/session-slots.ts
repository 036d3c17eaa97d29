import type Redis from 'ioredis';
import { guard } from '../errors';
import { defineScript } from './script';
import { indexKey, SESSION_KEY_PREFIX } from './session-locks';
import { liveSession, type LiveSession } from './session-sweep';
import { ENDED_PREFIX } from './session-store';

/** A login that took its slot, until its session is written (a few ms; a crashed one frees it after this). */
const PENDING_TTL_SEC = 60;
const PENDING_PREFIX = 'sesspending:';
const accountKey = (accountId: string) => `sessacct:${accountId}`;

// The account's sessions are a sorted set of ids by when each expires (its role's lifetime). TAKE
// counts the live ones and, below the limit, adds the new one, in one step on the one Redis every
// node shares: two logins at the limit at the same moment cannot both pass. A member is live while
// its session is stored as this account's (logged in or locked), or while its login is still
// writing it (the pending key, unless it ended since); the others (expired, ended, logged out) are
// dropped as it goes. The session the login replaces (an unlock regenerates the locked one) is
// not counted. In the same step the new session is indexed by card and agent for tap-out (what
// SessionLocks.bind does), so the login's Redis cost stays one script call.
// KEYS: the account's set, the card's index, the new session's pending key.
// ARGV: session prefix, ended prefix, pending prefix, now, expiresAt, new id, limit, card index TTL, pending TTL, replaced id, account id,
// the new session's lifetime in ms (the set's own TTL is kept at least that: relative, so a server clock off Redis's cannot expire it early).
const TAKE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
local live = {}
local count = 0
local mine = '"accountId":"' .. ARGV[11] .. '"'
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if sid ~= ARGV[10] then
    local raw = redis.call('GET', ARGV[1] .. sid)
    if raw and string.find(raw, mine, 1, true) then
      count = count + 1
      table.insert(live, sid)
      table.insert(live, raw)
    elseif not raw and redis.call('EXISTS', ARGV[3] .. sid) == 1 and redis.call('EXISTS', ARGV[2] .. sid) == 0 then
      count = count + 1
    else
      redis.call('ZREM', KEYS[1], sid)
    end
  end
end
if count >= tonumber(ARGV[7]) then return {'full', live} end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[6])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[12]) then redis.call('PEXPIRE', KEYS[1], ARGV[12]) end
redis.call('SET', KEYS[3], '1', 'EX', ARGV[9])
redis.call('SADD', KEYS[2], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[8])
return {'ok'}
`;

export interface TakeSlot {
  accountId: string;
  sessionId: string;
  /** The request's own session, which this login replaces (an unlock): not counted. */
  replacing: string;
  agentId: string;
  uid: string;
  /** ms since epoch */
  now: number;
  /** ms since epoch: when the new session's lifetime ends. */
  expiresAt: number;
  limit: number;
  /** How long the card's tap-out index lives (the session lifetime). */
  cardIndexTtlSec: number;
}

export interface SessionSlots {
  /** Takes a slot for a new session: `ok`, or the account's other live sessions that fill its limit (those still being written left out). */
  take(t: TakeSlot): Promise<{ ok: true } | { ok: false; live: LiveSession[] }>;
  /** Gives back a slot whose session was never written (its login failed after {@link take}). */
  release(accountId: string, sessionId: string): Promise<void>;
}

/**
 * Per-account session slots in Redis, shared by every node (issue 10 §4: concurrent sessions per role).
 *
 * @example
 * const slots = createSessionSlots({ redis });
 * const r = await slots.take({ accountId, sessionId, replacing: req.sessionID, agentId, uid, now, expiresAt, limit: 1, cardIndexTtlSec: 43_200 });
 */
export function createSessionSlots(deps: { redis: Redis }): SessionSlots {
  const { redis } = deps;
  const take = defineScript(redis, 'cardauthSessionTake', 3, TAKE);
  return {
    async take(t) {
      const keys = [accountKey(t.accountId), indexKey(t.agentId, t.uid), PENDING_PREFIX + t.sessionId];
      const args = [SESSION_KEY_PREFIX, ENDED_PREFIX, PENDING_PREFIX, t.now, t.expiresAt, t.sessionId, t.limit, t.cardIndexTtlSec, PENDING_TTL_SEC, t.replacing, t.accountId, t.expiresAt - t.now];
      const [status, flat] = await take(keys, args);
      if (status === 'ok') return { ok: true };
      const pairs = Array.isArray(flat) ? flat.map(String) : [];
      const live: LiveSession[] = [];
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        const s = liveSession(pairs[i] as string, pairs[i + 1] as string);
        if (s) live.push(s);
      }
      return { ok: false, live };
    },
    async release(accountId, sessionId) {
      await guard(redis.multi().zrem(accountKey(accountId), sessionId).del(PENDING_PREFIX + sessionId).exec(), 'sessions');
    },
  };
}
