import type Redis from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { pairsToRecord, defineScript } from '../store/script';

/**
 * Models that belong to one grant: revoking the grant revokes them all (oidc-provider calls
 * `revokeByGrantId` on these; the memory adapter's list).
 */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

/**
 * A record replaces the one of the same id (and its `consumed` mark) with its TTL, in one call.
 * KEYS[2], when not empty, is the grant's index: the record's key is added, and the index lives
 * as long as its longest-lived record (no TTL: for good). KEYS[3], when not empty, is a lookup
 * key (a session's uid, a device code's user code) that names the record's id, with its TTL.
 * ARGV: payload, TTL in seconds (0: none), id. The index is written first: a write Redis refuses
 * there (a key of another type) fails the call before the record is touched.
 */
const UPSERT = `local ttl = tonumber(ARGV[2])
if KEYS[2] ~= '' then
  redis.call('RPUSH', KEYS[2], KEYS[1])
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[2], ttl, 'GT')
    redis.call('EXPIRE', KEYS[2], ttl, 'NX')
  else
    redis.call('PERSIST', KEYS[2])
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
if KEYS[3] ~= '' then
  if ttl > 0 then redis.call('SET', KEYS[3], ARGV[3], 'EX', ttl) else redis.call('SET', KEYS[3], ARGV[3]) end
end
return {1}`;

/** The record a lookup key names (ARGV[1] the model's key prefix): its hash's fields, or none. */
const FIND_BY = `local id = redis.call('GET', KEYS[1])
if not id then return {} end
return redis.call('HGETALL', ARGV[1] .. id)`;

/** A code (or refresh token) is marked used only if no node marked it before: once across nodes. */
const CONSUME = `if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 0 then return {-1} end
return {1}`;

/** Every record of a grant, and its index. */
const REVOKE = `local keys = redis.call('LRANGE', KEYS[1], 0, -1)
for _, k in ipairs(keys) do redis.call('DEL', k) end
redis.call('DEL', KEYS[1])
return {#keys}`;

/** Where a model's record is kept: `oidc:<model>:<id>`. */
export const oidcKey = (model: string, id: string) => `oidc:${model}:${id}`;
const grantKey = (id: string) => `oidc:grant:${id}`;
const userCodeKey = (code: string) => `oidc:userCode:${code}`;
const uidKey = (uid: string) => `oidc:uid:${uid}`;

/**
 * oidc-provider's storage over the app's ioredis, shared by every node (after panva's example
 * Redis adapter): each record a hash (`payload`, and `consumed` once used) under
 * `oidc:<model>:<id>` with the TTL the provider gives; the keys of a grant's tokens in the list
 * `oidc:grant:<grantId>`, so `revokeByGrantId` deletes them all; a session's id under
 * `oidc:uid:<uid>` (`findByUid`), a device code's under `oidc:userCode:<code>`; `consume` sets
 * `consumed` on a code's hash atomically (HSETNX), so a code is good once even when two nodes
 * redeem it at the same moment: the provider refuses a code it reads as consumed, and the
 * node that loses the race gets `invalid_grant` from `consume` itself.
 *
 * Every operation is one Redis command (a script where it touches several keys): the provider
 * saves and reads several records per request, and each round trip costs the server's JS
 * thread more than Redis's work does. `findByUid`, `findByUserCode` and `revokeByGrantId`
 * read a key and then touch the keys it names, as session-locks.ts does.
 *
 * It loads nothing of oidc-provider (an ES module Jest cannot run): the provider passes
 * `alreadyConsumed` (its `InvalidGrant`).
 *
 * @example
 * new Provider(issuer, { adapter: createRedisAdapter(redis, { alreadyConsumed: () => new errors.InvalidGrant('code already used') }), ... })
 */
export function createRedisAdapter(redis: Redis, opts: { alreadyConsumed?: (model: string) => Error } = {}): (model: string) => Adapter {
  const alreadyConsumed = opts.alreadyConsumed ?? ((model: string) => new Error(`${model} already consumed`));
  const upsertScript = defineScript(redis, 'cardauthOidcUpsert', 3, UPSERT);
  const findByScript = defineScript(redis, 'cardauthOidcFindBy', 1, FIND_BY);
  const consumeScript = defineScript(redis, 'cardauthOidcConsume', 1, CONSUME);
  const revokeScript = defineScript(redis, 'cardauthOidcRevoke', 1, REVOKE);
  const parse = (h: Record<string, string>): AdapterPayload | undefined => {
    if (!h.payload) return undefined;
    const payload = JSON.parse(h.payload) as AdapterPayload;
    return h.consumed ? { ...payload, consumed: Number(h.consumed) } : payload;
  };
  return (model: string): Adapter => {
    const key = (id: string) => oidcKey(model, id);
    const findBy = async (lookup: string) => parse(pairsToRecord(await findByScript([lookup], [key('')])));
    return {
      async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
        const ttl = expiresIn && expiresIn > 0 ? Math.ceil(expiresIn) : 0;
        const grant = GRANTABLE.has(model) && payload.grantId ? grantKey(payload.grantId) : '';
        // Only sessions are looked up by uid (findByUid); any record with a user code by it.
        const lookup = model === 'Session' && payload.uid ? uidKey(payload.uid) : payload.userCode ? userCodeKey(payload.userCode) : '';
        await upsertScript([key(id), grant, lookup], [JSON.stringify(payload), ttl, id]);
      },
      async find(id: string) {
        return parse(await redis.hgetall(key(id)));
      },
      findByUserCode: (userCode: string) => findBy(userCodeKey(userCode)),
      findByUid: (uid: string) => findBy(uidKey(uid)),
      async consume(id: string) {
        // The provider checked `consumed` when it read the record; another node may have consumed it since.
        const [marked] = await consumeScript([key(id)], [Math.floor(Date.now() / 1000)]);
        if (marked !== 1) throw alreadyConsumed(model);
      },
      async destroy(id: string) {
        await redis.del(key(id));
      },
      async revokeByGrantId(grantId: string) {
        await revokeScript([grantKey(grantId)], []);
      },
    };
  };
}
