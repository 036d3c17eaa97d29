import Redis from 'ioredis';
import { CardauthError } from '../errors';

/**
 * The CLI's Redis URL for messages: scheme, host and port, never the
 * password.
 *
 * @example
 * redisWhere('redis://app:s3cret@10.0.0.5:6379/2') // => 'redis://10.0.0.5:6379/2'
 */
export function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'the configured Redis';
  }
}

/**
 * Connects the CLI's one ioredis client, or fails within `timeoutMs` with
 * `unavailable` naming where it tried. Unlike the server's client it never
 * reconnects: one command, one connection; a lost connection fails the
 * command. The caller disconnects it when done.
 *
 * @example
 * const redis = await connectCliRedis(config.REDIS_URL);
 * try { … } finally { redis.disconnect(); }
 */
export async function connectCliRedis(url: string, timeoutMs = 3000): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    commandTimeout: 15_000,
    retryStrategy: () => null,
    // ioredis otherwise leaves a 2 s timer behind after a failed connect, delaying the exit.
    disconnectTimeout: 0,
  });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return redis;
  } catch (err) {
    redis.disconnect();
    const why = lastError?.message ?? (err instanceof Error ? err.message : String(err));
    throw new CardauthError('unavailable', `cannot reach Redis at ${redisWhere(url)}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
}
