import type Redis from 'ioredis';
import { guard } from '../errors';
import { defineScript } from '../store/script';
import { SESSION_KEY_PREFIX, SESSION_WATCH_KEY } from '../store/session-locks';
import { ENDED_PREFIX } from '../store/session-store';
import { createRedisAdapter } from './redis-adapter';

/** The clients a cardauth session authorized: a hash, client id → {@link SessionLink} JSON. */
const LINKS_PREFIX = 'oidc:rp:';
/** Logouts to send: job id → when to try next (or when the node sending it gives up its lease). */
const QUEUE = 'oidc:bcl:queue';
/** The jobs themselves: job id → {@link LogoutJob} JSON. */
const JOBS = 'oidc:bcl:jobs';

/** What a client was given for a cardauth session: what its logout token must name. */
export interface SessionLink {
  /** The provider's `sid` for this client (in its ID tokens). */
  sid: string;
  /** The subject: the account id. */
  sub: string;
  /** For the audit. */
  login: string;
  /** The client's grant, revoked with the logout (its refresh tokens stop working). */
  grantId?: string;
}

/** A back-channel logout to send to one client. */
export interface LogoutJob extends SessionLink {
  id: string;
  clientId: string;
  /** The cardauth session that ended or locked. */
  cardauthSid: string;
  /** Why: the lock's reason (`tapout`, `switch`, `idle`, `request`), `expired`, or `ended` (logout, an officer, failed unlocks). */
  cause: string;
  /** Sends tried so far, this one included. */
  attempts: number;
}

/** A watched session past its idle time or its lifetime: the worker writes its record, then locks or ends it. */
export interface DueSession {
  sessionId: string;
  action: 'idle' | 'expired';
  accountId: string;
  login: string;
  agentId: string;
}

// The session's state, read from its connect-redis JSON: nil when it is gone or has no user,
// else the session and its user. Shared by the scripts below.
const READ_SESSION = `
local function read_session(sid)
  local raw = redis.call('GET', '${SESSION_KEY_PREFIX}' .. sid)
  if not raw then return nil end
  local ok, s = pcall(cjson.decode, raw)
  if not ok or type(s) ~= 'table' or type(s.passport) ~= 'table' or type(s.passport.user) ~= 'table' then return nil end
  return s, s.passport.user, raw
end
-- The session's own idle time and lifetime in ms (its roles', stored at its login), else the given ones.
local function limits(u, idle, max)
  local i, m = tonumber(u.idleSec), tonumber(u.maxSec)
  return (i and i * 1000 or idle), (m and m * 1000 or max)
end
-- When to look at a live, unlocked session next: just past its idle time or its lifetime.
local function next_look(s, u, idle, max)
  idle, max = limits(u, idle, max)
  local auth = tonumber(u.authTime) or 0
  local seen = tonumber(s.lastSeen) or auth
  return string.format('%d', math.min(seen + idle, auth + max) + 1)
end
-- Moves the session's links into the queue, due now, and stops watching it.
local function queue_links(sid, cause, now)
  local links = redis.call('HGETALL', '${LINKS_PREFIX}' .. sid)
  for i = 1, #links, 2 do
    local ok, job = pcall(cjson.decode, links[i + 1])
    if ok and type(job) == 'table' then
      local id = sid .. ' ' .. links[i]
      job.id = id
      job.clientId = links[i]
      job.cardauthSid = sid
      job.cause = cause
      job.attempts = 0
      redis.call('HSET', '${JOBS}', id, cjson.encode(job))
      redis.call('ZADD', '${QUEUE}', now, id)
    end
  end
  redis.call('DEL', '${LINKS_PREFIX}' .. sid)
  redis.call('ZREM', '${SESSION_WATCH_KEY}', sid)
  return #links / 2
end
`;

// A client was given a code for a session: remember it, and when to look at the session. A
// session already gone, ended or locked is due at once (it may have changed between the
// authorization and this write).
// KEYS: the links hash, the watch set. ARGV: session id, client id, link JSON, TTL sec, idle ms, max ms.
const LINK = `${READ_SESSION}
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local s, u = read_session(ARGV[1])
local score = 0
if s and s.locked == nil and redis.call('EXISTS', '${ENDED_PREFIX}' .. ARGV[1]) == 0 then score = next_look(s, u, tonumber(ARGV[5]), tonumber(ARGV[6])) end
redis.call('ZADD', KEYS[2], score, ARGV[1])
return {'ok'}
`;

// The watched sessions due now: one gone, user-less or locked has its links queued; one past
// its lifetime or idle time is answered (and not looked at again for ARGV[5] ms, so one node
// handles it); a live one is looked at again when it may next be idle.
// KEYS: the watch set. ARGV: now, idle ms, max ms, at most this many, lease ms.
const DUE = `${READ_SESSION}
local now, idle, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for _, sid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[4])) do
  local s, u = read_session(sid)
  if not s then
    queue_links(sid, 'ended', ARGV[1])
  elseif type(s.locked) == 'table' then
    queue_links(sid, tostring(s.locked.reason), ARGV[1])
  else
    local auth = tonumber(u.authTime) or 0
    local seen = tonumber(s.lastSeen) or auth
    local own_idle, own_max = limits(u, idle, max)
    local action
    if now - auth > own_max then action = 'expired' elseif now - seen > own_idle then action = 'idle' end
    if action then
      redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[5])), sid)
      table.insert(out, {sid, action, tostring(u.accountId), tostring(u.login), tostring(u.agentId)})
    else
      redis.call('ZADD', KEYS[1], next_look(s, u, idle, max), sid)
    end
  end
end
return out
`;

// Locks a session idle past its time in place (as the session guard would), then queues its
// links; one that was used since is watched again, one locked or ended meanwhile is queued.
// The lock is spliced onto the JSON, as LOCK_CARD does (session-locks.ts).
// KEYS: the watch set. ARGV: session id, now, idle ms, max ms.
const LOCK_IDLE = `${READ_SESSION}
local sid, now = ARGV[1], tonumber(ARGV[2])
local s, u, raw = read_session(sid)
if not s then queue_links(sid, 'ended', ARGV[2]) return {'gone'} end
if type(s.locked) == 'table' then queue_links(sid, tostring(s.locked.reason), ARGV[2]) return {'locked'} end
local auth = tonumber(u.authTime) or 0
local own_idle = limits(u, tonumber(ARGV[3]), tonumber(ARGV[4]))
if now - (tonumber(s.lastSeen) or auth) <= own_idle then
  redis.call('ZADD', KEYS[1], next_look(s, u, tonumber(ARGV[3]), tonumber(ARGV[4])), sid)
  return {'active'}
end
local lock = cjson.encode({ reason = 'idle', at = now })
local patched
if string.sub(raw, -1) == '}' then
  patched = string.sub(raw, 1, -2) .. ',"locked":' .. lock .. '}'
else
  s.locked = { reason = 'idle', at = now }
  patched = cjson.encode(s)
end
redis.call('SET', '${SESSION_KEY_PREFIX}' .. sid, patched, 'KEEPTTL')
queue_links(sid, 'idle', ARGV[2])
return {'locked'}
`;

// KEYS: the watch set. ARGV: session id, cause, now.
const QUEUE_LINKS = `${READ_SESSION}
return {queue_links(ARGV[1], ARGV[2], ARGV[3])}
`;

// Takes the jobs due now: each is leased (due again only after ARGV[2] ms, when its node has
// died or given up) and its attempt counted, in one step, so one node sends it.
// KEYS: the queue, the jobs. ARGV: now, lease ms, at most this many.
const CLAIM = `
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])) do
  local raw = redis.call('HGET', KEYS[2], id)
  local ok, job = false, nil
  if raw then ok, job = pcall(cjson.decode, raw) end
  if ok and type(job) == 'table' then
    job.attempts = (tonumber(job.attempts) or 0) + 1
    raw = cjson.encode(job)
    redis.call('HSET', KEYS[2], id, raw)
    redis.call('ZADD', KEYS[1], string.format('%d', tonumber(ARGV[1]) + tonumber(ARGV[2])), id)
    table.insert(out, raw)
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
  end
end
return out
`;

/**
 * The Redis side of back-channel logout, shared by every node: which clients each cardauth
 * session authorized, which sessions to look at when, and the logouts to send.
 * - `oidc:rp:<cardauth session id>`: hash, client id → {@link SessionLink}, for the session's lifetime;
 * - `oidc:watch` (SESSION_WATCH_KEY): zset of those sessions, scored by when to look at each next; the
 *   session scripts set a score to 0 when they lock or end the session;
 * - `oidc:bcl:queue`: zset of job ids by when to (re)try, and `oidc:bcl:jobs`: hash, job id → {@link LogoutJob}.
 * A session no client holds tokens for is in none of these.
 *
 * @example
 * const store = createBackchannelStore({ redis, idleMs, maxMs, sessionTtlSec });
 * await store.link(req.sessionID, 'mis', { sid, sub: accountId, login, grantId });
 */
export function createBackchannelStore(deps: { redis: Redis; idleMs: number; maxMs: number; sessionTtlSec: number }) {
  const { redis, idleMs, maxMs } = deps;
  const link = defineScript(redis, 'cardauthBclLink', 2, LINK);
  const due = defineScript(redis, 'cardauthBclDue', 1, DUE);
  const lockIdle = defineScript(redis, 'cardauthBclLockIdle', 1, LOCK_IDLE);
  const queueLinks = defineScript(redis, 'cardauthBclQueue', 1, QUEUE_LINKS);
  const claim = defineScript(redis, 'cardauthBclClaim', 2, CLAIM);
  const grants = createRedisAdapter(redis);
  return {
    /** Remembers that `clientId` was given tokens for the cardauth session `sessionId`. */
    async link(sessionId: string, clientId: string, l: SessionLink): Promise<void> {
      await link([LINKS_PREFIX + sessionId, SESSION_WATCH_KEY], [sessionId, clientId, JSON.stringify(l), deps.sessionTtlSec, idleMs, maxMs]);
    },
    /** The `sid` `clientId` was given in the cardauth session `sessionId`, if it was linked there. */
    async linkedSid(sessionId: string, clientId: string): Promise<string | undefined> {
      const raw = await guard(redis.hget(LINKS_PREFIX + sessionId, clientId), 'oidc links');
      return raw ? (JSON.parse(raw) as SessionLink).sid : undefined;
    },
    /** Queues the links of the watched sessions that ended or locked; answers those past their idle time or lifetime (leased for `leaseMs`). */
    async due(now: number, limit: number, leaseMs: number): Promise<DueSession[]> {
      const rows = (await due([SESSION_WATCH_KEY], [now, idleMs, maxMs, limit, leaseMs])) as string[][];
      return rows.map(([sessionId, action, accountId, login, agentId]) => ({ sessionId: sessionId!, action: action as DueSession['action'], accountId: accountId!, login: login!, agentId: agentId! }));
    },
    /** Locks an idle session in place and queues its links; `active` when it was used since. */
    async lockIdle(sessionId: string, now: number): Promise<'locked' | 'gone' | 'active'> {
      const [state] = await lockIdle([SESSION_WATCH_KEY], [sessionId, now, idleMs, maxMs]);
      return state as 'locked' | 'gone' | 'active';
    },
    /** Queues the links of a session that ended, with its cause. */
    async queue(sessionId: string, cause: string, now: number): Promise<void> {
      await queueLinks([SESSION_WATCH_KEY], [sessionId, cause, now]);
    },
    /** Takes up to `limit` jobs due now, each leased for `leaseMs` and its attempt counted. */
    async claim(now: number, limit: number, leaseMs: number): Promise<LogoutJob[]> {
      const rows = await claim([QUEUE, JOBS], [now, leaseMs, limit]);
      return rows.map((raw) => JSON.parse(String(raw)) as LogoutJob);
    },
    /** The job is over (sent, or given up): it is removed. */
    async done(id: string): Promise<void> {
      // The job first: an id left in the queue without its job is dropped by the next claim.
      await guard(redis.hdel(JOBS, id), 'oidc logouts');
      await guard(redis.zrem(QUEUE, id), 'oidc logouts');
    },
    /** Tries the job again at `at`. */
    async retryAt(id: string, at: number): Promise<void> {
      await guard(redis.zadd(QUEUE, 'XX', at, id), 'oidc logouts');
    },
    /** Revokes a grant and every token issued under it. */
    async revokeGrant(grantId: string): Promise<void> {
      await grants('Grant').destroy(grantId);
      await grants('Grant').revokeByGrantId(grantId);
    },
  };
}

export type BackchannelStore = ReturnType<typeof createBackchannelStore>;
