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

/**
 * `accountFailures` (failures counted in the window) is there whenever the
 * account was read, so a success with none to clear can skip the write.
 */
export type LockState = { locked: false; accountFailures?: number } | { locked: true; scope: 'account' | 'ip'; retryAfterMs: number };

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
  /** A successful login clears the account's failure count (callers may skip it when `accountFailures` was 0). */
  recordSuccess(subject: LockoutSubject): Promise<void>;
  /**
   * The account's count as stored, judged by nothing: failures counted and
   * ms until Redis forgets them (or the lock ends). For an officer's unlock.
   */
  accountCount(accountId: string): Promise<{ failures: number; msLeft: number }>;
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
  /** Failures counted for `key` and how long until the limiter forgets them. */
  const read = async (limiter: RateLimiterRedis, key: string) => {
    const res = await guard(limiter.get(key), 'lockout store');
    return { count: res?.consumedPoints ?? 0, ms: res?.msBeforeNext ?? 0 };
  };
  type Read = Awaited<ReturnType<typeof read>>;

  const state = (acct: Read | null, ipRead: Read | null): LockState => {
    if (acct && acct.count >= config.attempts) return { locked: true, scope: 'account', retryAfterMs: acct.ms };
    if (ipRead && ipRead.count >= config.ipAttempts) return { locked: true, scope: 'ip', retryAfterMs: ipRead.ms };
    return acct ? { locked: false, accountFailures: acct.count } : { locked: false };
  };

  return {
    async check(s) {
      const [acct, ipRead] = await Promise.all([read(account, s.accountId), read(ip, s.ip)]);
      return state(acct, ipRead);
    },
    async checkIp(addr) {
      return state(null, await read(ip, addr));
    },
    async checkAccount(accountId) {
      return state(await read(account, accountId), null);
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
    async accountCount(accountId) {
      const { count, ms } = await read(account, accountId);
      return { failures: count, msLeft: ms };
    },
    async unlock(accountId) {
      await guard(account.delete(accountId), 'lockout store');
    },
  };
}
