import Redis from 'ioredis';
import type { Logger } from './logger';

/**
 * The one ioredis client of an entry point. Commands fail fast while Redis
 * is down (no offline queue, one retry), and after 5 s when it stops
 * answering, so a login answers 503 instead of hanging; the client keeps reconnecting in the background and
 * the service recovers by itself when Redis returns.
 *
 * @example
 * const redis = connectRedis(config.REDIS_URL, logger);
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // A Redis that stops answering fails each command after 5 s (503) instead of holding it.
    commandTimeout: 5000,
    // ioredis otherwise keeps a 2 s timer after a failed connect, delaying shutdown.
    disconnectTimeout: 0,
    retryStrategy: (times) => Math.min(100 * times, 1000),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn('redis_error', { err: err.message });
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis_ready');
    down = false;
  });
  return redis;
}

/** Resolves when the client is ready, or after `timeoutMs` (the caller starts anyway and reports 503 until then). */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
