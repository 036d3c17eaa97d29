import { RedisStore } from 'connect-redis';
import type Redis from 'ioredis';
import { SESSION_KEY_PREFIX } from './session-locks';
import { defineScript } from './script';

// connect-redis writes a session whole (SET key json EX ttl). A tap-out on
// another node may have patched a lock into that JSON since this request read
// it (session-locks.ts); a plain SET would then unlock the session. This
// script keeps the stored lock when the new JSON is the same user's and has
// none. A lock is only ever lifted by a new session id (an unlock logs in
// again, which regenerates the session), never by a write to the same one.
// The plain-text search skips decoding a record that holds no lock.
// KEYS: the session key. ARGV: the JSON, the TTL in seconds (0: none).
const SAVE = `
local json = ARGV[1]
local raw = redis.call('GET', KEYS[1])
if raw and string.find(raw, '"locked":', 1, true) then
  local okOld, old = pcall(cjson.decode, raw)
  local new = cjson.decode(json)
  if okOld and type(old) == 'table' and old.locked ~= nil and new.locked == nil
    and type(old.passport) == 'table' and type(old.passport.user) == 'table'
    and type(new.passport) == 'table' and type(new.passport.user) == 'table'
    and old.passport.user.accountId == new.passport.user.accountId then
    new.locked = old.locked
    json = cjson.encode(new)
  end
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], json, 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], json)
end
return {'ok'}
`;

/**
 * The express-session store: connect-redis 8 on ioredis, sessions under
 * `sess:<id>` for at most `ttlSec` (the cookie's own expiry when it has one),
 * with one change: its whole-session write cannot undo a lock that another
 * request or node wrote in the meantime. No touch: the session guard patches
 * `lastSeen` itself.
 *
 * @example
 * app.use(session({ store: createSessionStore({ redis, ttlSec: 43_200 }), secret, resave: false, saveUninitialized: false }));
 */
export function createSessionStore(deps: { redis: Redis; ttlSec: number }): RedisStore {
  const store = new RedisStore({ client: deps.redis, prefix: SESSION_KEY_PREFIX, ttl: deps.ttlSec, disableTouch: true });
  const save = defineScript(deps.redis, 'cardauthSessionSave', 1, SAVE);
  store.client = {
    ...store.client,
    async set(key, value, ttl) {
      await save([key], [value, ttl ?? 0]);
      return 'OK';
    },
  };
  return store;
}
