import { RedisStore } from 'connect-redis';
import type Redis from 'ioredis';
import { SESSION_KEY_PREFIX } from './session-locks';
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
// KEYS: the session key. ARGV: the JSON, the TTL in seconds (0: none), the account id or ''.
const SAVE = `
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

/** The account a session JSON is logged in as, when it carries no lock of its own: whose stored lock a write must keep. */
function unlockedUser(json: string): string {
  const s = JSON.parse(json) as { locked?: unknown; passport?: { user?: { accountId?: unknown } } };
  const id = s.passport?.user?.accountId;
  return s.locked === undefined && typeof id === 'string' && json.endsWith('}') ? id : '';
}

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
      await save([key], [value, ttl ?? 0, unlockedUser(value)]);
      return 'OK';
    },
  };
  return store;
}
