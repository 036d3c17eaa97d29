import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { guard } from '../errors';

export interface NonceStore {
  /** A fresh single-use nonce bound to this session. */
  issue(sessionId: string): Promise<{ nonce: string; expiresAt: number }>;
  /**
   * Consumes the nonce atomically (GETDEL): true only once, only for the
   * session it was issued to, only before it expires — across every node.
   */
  consume(nonce: string, sessionId: string): Promise<boolean>;
}

const sessionTag = (sessionId: string) => createHash('sha256').update(sessionId).digest();
const NONCE_RE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Login nonces in Redis under `nonce:`. The value is the SHA-256 of the
 * session id, so a nonce only works for the session that asked for it.
 *
 * @example
 * const nonces = createNonceStore({ redis, clock, ttlSec: 120 });
 * const { nonce } = await nonces.issue(req.sessionID);
 */
export function createNonceStore(deps: { redis: Redis; clock: Clock; ttlSec: number }): NonceStore {
  const { redis, clock, ttlSec } = deps;
  return {
    async issue(sessionId) {
      const nonce = randomBytes(32).toString('base64url');
      await guard(redis.set(`nonce:${nonce}`, sessionTag(sessionId).toString('hex'), 'EX', ttlSec), 'nonce store');
      return { nonce, expiresAt: clock.now() + ttlSec * 1000 };
    },
    consume: async (nonce, sessionId) => {
      if (!NONCE_RE.test(nonce)) return false;
      const stored = await guard(redis.getdel(`nonce:${nonce}`), 'nonce store');
      if (stored === null || stored.length !== 64) return false;
      return timingSafeEqual(Buffer.from(stored, 'hex'), sessionTag(sessionId));
    },
  };
}

/**
 * Claims a key once (SET NX with a TTL): true the first time, false after,
 * across every node. Used for the `jti` of agent events.
 *
 * @example
 * const claimOnce = createClaimOnce(redis);
 * await claimOnce('jti:ag_1:abc', 600); // true, then false
 */
export function createClaimOnce(redis: Redis): (key: string, ttlSec: number) => Promise<boolean> {
  return async (key, ttlSec) => (await guard(redis.set(key, '1', 'EX', ttlSec, 'NX'), 'redis')) === 'OK';
}
