import type Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { CardauthError } from '../errors';

/**
 * Consumes one point: true while under the limit, false once over it. The
 * limiter rejects with a RateLimiterRes when over; anything else is Redis
 * failing, which is `unavailable` (fail closed), never a pass.
 *
 * @example
 * if (!(await consumeWithin(limiter, ip))) throw new CardauthError('rate_limited', 'try later');
 */
export async function consumeWithin(limiter: RateLimiterRedis, key: string): Promise<boolean> {
  try {
    await limiter.consume(key);
    return true;
  } catch (rej) {
    if (rej instanceof RateLimiterRes) return false;
    throw new CardauthError('unavailable', 'rate limit store unavailable', { cause: rej });
  }
}

/**
 * A plain per-key rate limit on Redis (rate-limiter-flexible), shared by all
 * nodes. `take(key)` resolves true while under the limit; a Redis failure is
 * `unavailable`, never a pass.
 *
 * @example
 * const enrollLimit = createRateLimit({ redis, prefix: 'rl:enroll', points: 10, durationSec: 3600 });
 * if (!(await enrollLimit.take(req.ip))) throw new CardauthError('rate_limited', 'try later');
 */
export function createRateLimit(deps: { redis: Redis; prefix: string; points: number; durationSec: number }) {
  const limiter = new RateLimiterRedis({ storeClient: deps.redis, keyPrefix: deps.prefix, points: deps.points, duration: deps.durationSec });
  return {
    take: (key: string): Promise<boolean> => consumeWithin(limiter, key),
  };
}
