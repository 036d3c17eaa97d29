import type Redis from 'ioredis';
import { CardauthError } from '../errors';
import { accountKey, isAccountId } from './accounts';
import { defineScript } from './script';

/**
 * Blocks an account not used since a cutoff (ИАФ.1), deciding in Redis, at
 * the moment of the block, so that a login recorded meanwhile (another node,
 * `lastLoginAt`) or an unblock (`activeSince`) is never overruled. Its last
 * activity is the latest of `createdAt`, `lastLoginAt` and `activeSince` of
 * the account's hash (see accounts.ts).
 */

// KEYS: acct:<id>. ARGV: cutoff (ms). Answers {'blocked', last activity} or {'not_active'} / {'used', last activity}.
const BLOCK_IF_UNUSED = `
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return {'not_active'} end
local h = redis.call('HMGET', KEYS[1], 'createdAt', 'lastLoginAt', 'activeSince')
local last = 0
for i = 1, 3 do
  local v = tonumber(h[i])
  if v and v > last then last = v end
end
if last > tonumber(ARGV[1]) then return {'used', tostring(last)} end
redis.call('HSET', KEYS[1], 'status', 'blocked')
return {'blocked', tostring(last)}
`;

/** What {@link AccountInactivity.blockIfUnused} did. */
export type UnusedOutcome = { blocked: true; lastActivity: number } | { blocked: false };

export interface AccountInactivity {
  /** Blocks the account if it is active and its last activity is at or before `cutoff` (ms). */
  blockIfUnused(accountId: string, cutoff: number): Promise<UnusedOutcome>;
}

/**
 * @example
 * const inactivity = createAccountInactivity({ redis });
 * await inactivity.blockIfUnused(account.id, now - 90 * 86_400_000); // => { blocked: true, lastActivity }
 */
export function createAccountInactivity(deps: { redis: Redis }): AccountInactivity {
  const block = defineScript(deps.redis, 'cardauthAccountBlockIfUnused', 1, BLOCK_IF_UNUSED);
  return {
    async blockIfUnused(accountId, cutoff) {
      if (!isAccountId(accountId)) throw new CardauthError('account_not_found', 'no such account');
      const [status, last] = await block([accountKey(accountId)], [cutoff]);
      return status === 'blocked' ? { blocked: true, lastActivity: Number(last) } : { blocked: false };
    },
  };
}
