import type Redis from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { guard } from '../errors';
import { consumeWithin } from './rate-limit';

export interface LockoutConfig {
  /** Failures per account within the window that lock it. */
  attempts: number;
  windowSec: number;
  /** How long the account stays locked once the limit is reached. */
  durationSec: number;
  /** Failures per client IP within the window before that IP is refused. */
  ipAttempts: number;
}

export type LockState = { locked: false } | { locked: true; scope: 'account' | 'ip'; retryAfterMs: number };

export interface LockoutSubject {
  accountId: string;
  ip: string;
}

export interface Lockout {
  /** Checked before the password is looked at: the account and the IP. */
  check(subject: LockoutSubject): Promise<LockState>;
  /** The IP only: the card step, before any account is known. */
  checkIp(ip: string): Promise<LockState>;
  /**
   * The account only: for a password step in the same request as a card
   * step whose `checkIp` passed (the one-shot login), so that one request
   * does not read the IP limit twice.
   */
  checkAccount(accountId: string): Promise<LockState>;
  /** Counts a failure; `accountLockedNow` is true on the failure that locked the account. */
  recordFailure(subject: LockoutSubject): Promise<{ accountLockedNow: boolean }>;
  /** A failure with no account to charge (an unusable card step): counts against the IP only. */
  recordIpFailure(ip: string): Promise<void>;
  /** A successful login clears the account's failure count. */
  recordSuccess(subject: LockoutSubject): Promise<void>;
  /** An officer's unlock. */
  unlock(accountId: string): Promise<void>;
}

/**
 * Per-account and per-IP lockout (ИАФ.3, УПД.4) on rate-limiter-flexible's
 * Redis limiter, shared by every server node. Counting is atomic in Redis.
 *
 * The limiter rejects the consume that *exceeds* `points`, so `points` is
 * `attempts - 1`: the `attempts`-th failure is the one that blocks for
 * `durationSec`. A Redis failure is `unavailable` (fail closed), never "not
 * locked". Each read is one rate-limiter-flexible `get` (MULTI GET PTTL
 * EXEC, one round trip); `check` sends its two at once.
 *
 * @example
 * const lockout = createLockout({ redis, config: { attempts: 5, windowSec: 900, durationSec: 900, ipAttempts: 50 } });
 * const state = await lockout.check({ accountId, ip });
 * const ipOnly = await lockout.checkIp(ip); // the card step
 */
export function createLockout(deps: { redis: Redis; config: LockoutConfig }): Lockout {
  const { redis, config } = deps;
  const account = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: 'rl:acct',
    points: config.attempts - 1,
    duration: config.windowSec,
    blockDuration: config.durationSec,
  });
  const ip = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: 'rl:ip',
    points: config.ipAttempts - 1,
    duration: config.windowSec,
    blockDuration: config.windowSec,
  });

  /** Consumes one point; resolves true when this consume went over the limit. */
  const consume = async (limiter: RateLimiterRedis, key: string): Promise<boolean> => !(await consumeWithin(limiter, key));
  const over = async (limiter: RateLimiterRedis, key: string, limit: number): Promise<number | null> => {
    const res = await guard(limiter.get(key), 'lockout store');
    return res && res.consumedPoints >= limit ? res.msBeforeNext : null;
  };

  const state = (accountMs: number | null, ipMs: number | null): LockState => {
    if (accountMs !== null) return { locked: true, scope: 'account', retryAfterMs: accountMs };
    if (ipMs !== null) return { locked: true, scope: 'ip', retryAfterMs: ipMs };
    return { locked: false };
  };

  return {
    async check(s) {
      const [accountMs, ipMs] = await Promise.all([over(account, s.accountId, config.attempts), over(ip, s.ip, config.ipAttempts)]);
      return state(accountMs, ipMs);
    },
    async checkIp(addr) {
      return state(null, await over(ip, addr, config.ipAttempts));
    },
    async checkAccount(accountId) {
      return state(await over(account, accountId, config.attempts), null);
    },
    async recordFailure(s) {
      const [accountLockedNow] = await Promise.all([consume(account, s.accountId), consume(ip, s.ip)]);
      return { accountLockedNow };
    },
    async recordIpFailure(addr) {
      await consume(ip, addr);
    },
    async recordSuccess(s) {
      await guard(account.delete(s.accountId), 'lockout store');
    },
    async unlock(accountId) {
      await guard(account.delete(accountId), 'lockout store');
    },
  };
}
