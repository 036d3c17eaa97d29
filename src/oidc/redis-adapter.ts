import type Redis from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { CardauthError } from '../errors';
import { defineScript } from '../store/script';

/** Models that belong to one grant: revoking the grant revokes them all. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** A code (or refresh token) is marked used only if no node marked it before: once across nodes. */
const CONSUME = `if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 0 then return {-1} end
return {1}`;

/** Where a model's record is kept: `oidc:<model>:<id>`. */
export const oidcKey = (model: string, id: string) => `oidc:${model}:${id}`;
const grantKey = (id: string) => `oidc:grant:${id}`;
const userCodeKey = (code: string) => `oidc:userCode:${code}`;
const uidKey = (uid: string) => `oidc:uid:${uid}`;

/**
 * oidc-provider's storage over the app's ioredis, shared by every node (after panva's example
 * Redis adapter): each record a hash (`payload`, and `consumed` once used) under `oidc:<model>:<id>` with the TTL the provider gives; the
 * ids of a grant's tokens in the set `oidc:grant:<grantId>`, so `revokeByGrantId` deletes them
 * all; `consume` sets `consumed` on a code's hash atomically (HSETNX), so a code is good once
 * even when two nodes redeem it at the same moment: the provider refuses a code it reads as
 * consumed, and the node that loses the race gets `invalid_grant` from `consume` itself.
 *
 * It loads nothing of oidc-provider (an ES module Jest cannot run): the provider passes
 * `alreadyConsumed` (its `InvalidGrant`).
 *
 * @example
 * new Provider(issuer, { adapter: createRedisAdapter(redis, { alreadyConsumed: () => new errors.InvalidGrant('code already used') }), ... })
 */
export function createRedisAdapter(redis: Redis, opts: { alreadyConsumed?: (model: string) => Error } = {}): (model: string) => Adapter {
  const alreadyConsumed = opts.alreadyConsumed ?? ((model: string) => new Error(`${model} already consumed`));
  const consumeScript = defineScript(redis, 'cardauthOidcConsume', 1, CONSUME);
  return (model: string): Adapter => {
    const key = (id: string) => oidcKey(model, id);
    return {
      async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
        const k = key(id);
        const multi = redis.multi();
        multi.del(k);
        multi.hset(k, { payload: JSON.stringify(payload) });
        const ttl = expiresIn && expiresIn > 0 ? Math.ceil(expiresIn) : undefined;
        if (ttl) multi.expire(k, ttl);
        if (GRANTABLE.has(model) && payload.grantId) {
          const g = grantKey(payload.grantId);
          multi.rpush(g, k);
          // The index lives as long as its longest token.
          if (ttl) multi.expire(g, ttl, 'GT');
          else multi.persist(g);
          if (ttl) multi.expire(g, ttl, 'NX');
        }
        if (payload.userCode) {
          multi.set(userCodeKey(payload.userCode), id);
          if (ttl) multi.expire(userCodeKey(payload.userCode), ttl);
        }
        if (payload.uid) {
          multi.set(uidKey(payload.uid), id);
          if (ttl) multi.expire(uidKey(payload.uid), ttl);
        }
        // A MULTI answers each command's error in its reply instead of rejecting: a half-written record must not pass for a saved one.
        const replies = await multi.exec();
        const failed = replies?.find(([err]) => err)?.[0];
        if (!replies || failed) throw new CardauthError('unavailable', `oidc ${model} store failed`, { cause: failed });
      },
      async find(id: string) {
        const h = await redis.hgetall(key(id));
        if (!h.payload) return undefined;
        const payload = JSON.parse(h.payload) as AdapterPayload;
        return h.consumed ? { ...payload, consumed: Number(h.consumed) } : payload;
      },
      async findByUserCode(userCode: string) {
        const id = await redis.get(userCodeKey(userCode));
        return id ? this.find(id) : undefined;
      },
      async findByUid(uid: string) {
        const id = await redis.get(uidKey(uid));
        return id ? this.find(id) : undefined;
      },
      async consume(id: string) {
        // The provider checked `consumed` when it read the record; another node may have consumed it since.
        const [marked] = await consumeScript([key(id)], [Math.floor(Date.now() / 1000)]);
        if (marked !== 1) throw alreadyConsumed(model);
      },
      async destroy(id: string) {
        await redis.del(key(id));
      },
      async revokeByGrantId(grantId: string) {
        const g = grantKey(grantId);
        const keys = await redis.lrange(g, 0, -1);
        await redis.del(...keys, g);
      },
    };
  };
}
