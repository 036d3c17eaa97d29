import { RedisStore } from 'connect-redis';
import type Redis from 'ioredis';
import { SESSION_KEY_PREFIX, SESSION_WATCH_KEY } from './session-locks';
import { defineScript } from './script';

// connect-redis writes a session whole (SET key json EX ttl). A tap-out on
// another node may have patched a lock into that JSON since this request read
// it (session-locks.ts); a plain SET would then unlock the session. This
// script keeps the stored lock when the new JSON is the same user's and has
// none: the caller names that user (ARGV[3], empty when the new session is
// locked or has no user), and the stored `locked` object is spliced onto the
// end of the new JSON, which Lua never decodes or re-encodes (cjson would
// turn [] into {} and round numbers). A lock is lifted only by a new session
// id (an unlock logs in again, which regenerates the session) or by a write
// that holds no user any more (logout).
//
// It also refuses to bring back a session that was ended (logout, a failed
// unlock, a revocation sweep): ending one leaves a short-lived marker, and a
// request still in flight that writes its session back finds it and writes
// nothing, where a plain SET would have logged that browser in again.
//
// A write that leaves the session locked or without a user flags it in the
// watch set (SESSION_WATCH_KEY), as ending one does, for the back-channel logout.
// KEYS: the session key, its ended marker, the watch set. ARGV: the JSON, the TTL in seconds (0: none), the account id or '', the session id.
const SAVE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {'ended'} end
if ARGV[3] == '' then redis.call('ZADD', KEYS[3], 'XX', 0, ARGV[4]) end
local json = ARGV[1]
if ARGV[3] ~= '' then
  local raw = redis.call('GET', KEYS[1])
  if raw and string.find(raw, '"locked":', 1, true) then
    local ok, old = pcall(cjson.decode, raw)
    if ok and type(old) == 'table' and type(old.locked) == 'table'
      and type(old.passport) == 'table' and type(old.passport.user) == 'table'
      and old.passport.user.accountId == ARGV[3] then
      json = string.sub(json, 1, -2) .. ',"locked":' .. cjson.encode(old.locked) .. '}'
    end
  end
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], json, 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], json)
end
return {'ok'}
`;

// KEYS: the watch set. ARGV: the session key prefix, the marker prefix, the marker TTL, then the session ids.
const END = `
for i = 4, #ARGV do
  redis.call('DEL', ARGV[1] .. ARGV[i])
  redis.call('SET', ARGV[2] .. ARGV[i], '1', 'EX', ARGV[3])
  redis.call('ZADD', KEYS[1], 'XX', 0, ARGV[i])
end
return {'ok'}
`;

/** Where the marker of an ended session lives (not under `sess:`, which the sweep scans). */
export const ENDED_PREFIX = 'sessended:';
const endedKey = (sessionId: string) => ENDED_PREFIX + sessionId;

/**
 * Ends sessions by id: deletes them and marks them ended for `ttlSec`, so
 * that a request still in flight cannot write one back (see SAVE). Give it
 * the session lifetime (CARDAUTH_SESSION_MAX_SEC): a write held up in a
 * stalled Redis still runs when Redis wakes, and past that lifetime the
 * session guard ends any session anyway. A marker is about 140 bytes. Used
 * by the store's destroy and by the revocation sweep.
 *
 * @example
 * const end = defineSessionEnd(redis, config.CARDAUTH_SESSION_MAX_SEC);
 * await end(['Xk3…']);
 */
export function defineSessionEnd(redis: Redis, ttlSec: number): (sessionIds: readonly string[]) => Promise<void> {
  const end = defineScript(redis, 'cardauthSessionEnd', 1, END);
  return async (sessionIds) => {
    if (sessionIds.length) await end([SESSION_WATCH_KEY], [SESSION_KEY_PREFIX, ENDED_PREFIX, ttlSec, ...sessionIds]);
  };
}

/** The account a session JSON is logged in as, when it carries no lock of its own: whose stored lock a write must keep. */
function unlockedUser(json: string): string {
  const s = JSON.parse(json) as { locked?: unknown; passport?: { user?: { accountId?: unknown } } };
  const id = s.passport?.user?.accountId;
  return s.locked === undefined && typeof id === 'string' && json.endsWith('}') ? id : '';
}

/**
 * The express-session store: connect-redis 8 on ioredis, sessions under
 * `sess:<id>` for at most `ttlSec` (the cookie's own expiry when it has one),
 * with two changes: its whole-session write cannot undo a lock that another
 * request or node wrote in the meantime, nor bring back a session that was
 * ended. No touch: the session guard patches `lastSeen` itself.
 *
 * @example
 * app.use(session({ store: createSessionStore({ redis, ttlSec: 43_200 }), secret, resave: false, saveUninitialized: false }));
 */
export function createSessionStore(deps: { redis: Redis; ttlSec: number }): RedisStore {
  const store = new RedisStore({ client: deps.redis, prefix: SESSION_KEY_PREFIX, ttl: deps.ttlSec, disableTouch: true });
  const save = defineScript(deps.redis, 'cardauthSessionSave', 3, SAVE);
  const end = defineSessionEnd(deps.redis, deps.ttlSec);
  const idOf = (key: string) => {
    if (!key.startsWith(SESSION_KEY_PREFIX)) throw new TypeError(`session store: "${key.slice(0, 40)}" is not a session key`);
    return key.slice(SESSION_KEY_PREFIX.length);
  };
  // A login regenerates the session, and then it is written twice: Passport saves it, and
  // express-session saves it again as the answer ends (it cannot tell the regenerated session
  // was saved), the same object with the same JSON. The second write is skipped: what is
  // stored is that JSON, or what a lock or an end made of it since, which SAVE would keep.
  const written = new WeakMap<object, string>();
  const setWhole = store.set.bind(store);
  store.set = async (sid, sess, cb) => {
    const json = `${sid} ${JSON.stringify(sess)}`;
    if (written.get(sess) !== json) {
      try {
        await setWhole(sid, sess);
      } catch (err) {
        written.delete(sess);
        if (cb) return cb(err);
        throw err;
      }
      written.set(sess, json);
    }
    return cb?.();
  };
  store.client = {
    ...store.client,
    async set(key, value, ttl) {
      const id = idOf(key);
      await save([key, endedKey(id), SESSION_WATCH_KEY], [value, ttl ?? 0, unlockedUser(value), id]);
      return 'OK';
    },
    async del(keys) {
      await end(keys.map(idOf));
      return keys.length;
    },
  };
  return store;
}
