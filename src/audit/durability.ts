import type Redis from 'ioredis';
import { CardauthError } from '../errors';
import { errorMessage, type Logger } from '../logger';

/** What the check found: `safe`, `unsafe` (with what Redis reported), or `unknown` (CONFIG GET refused or failed). */
export type AuditDurability = { state: 'safe' } | { state: 'unsafe'; appendonly: string; appendfsync: string } | { state: 'unknown'; why: string };

/**
 * Asks the audit's Redis how it persists (`CONFIG GET appendonly`,
 * `appendfsync`). Only `appendonly yes` with `appendfsync always` keeps every
 * acknowledged audit record across a crash of redis-server or of the machine
 * (docs/audit.md, Durability); `everysec` may lose up to a second of them.
 * An ACL user without `+config|get` gets NOPERM: then the answer is `unknown`.
 *
 * @example
 * await readAuditDurability(redis) // => { state: 'unsafe', appendonly: 'yes', appendfsync: 'everysec' }
 */
export async function readAuditDurability(redis: Pick<Redis, 'config'>): Promise<AuditDurability> {
  let reply: unknown;
  try {
    reply = await redis.config('GET', 'append*');
  } catch (err) {
    return { state: 'unknown', why: errorMessage(err) };
  }
  const flat = Array.isArray(reply) ? reply.map(String) : [];
  const value = (name: string) => flat[flat.indexOf(name) + 1] ?? '';
  const appendonly = value('appendonly');
  const appendfsync = value('appendfsync');
  if (!flat.includes('appendonly') || !flat.includes('appendfsync')) return { state: 'unknown', why: 'CONFIG GET answered without appendonly/appendfsync' };
  return appendonly === 'yes' && appendfsync === 'always' ? { state: 'safe' } : { state: 'unsafe', appendonly, appendfsync };
}

/**
 * The server's start-up check of the audit's Redis. Unsafe persistence
 * refuses the start (`config_invalid`) when `refuseUnsafe` is true, else logs
 * `audit_fsync_unsafe` at warn level; an unknown one (e.g. an ACL user
 * refused CONFIG) logs `audit_fsync_unchecked` and goes on, since the
 * operator may have checked it out of band.
 *
 * @example
 * await checkAuditDurability(redis, logger, config.CARDAUTH_AUDIT_REQUIRE_FSYNC);
 */
export async function checkAuditDurability(redis: Pick<Redis, 'config'>, logger: Logger, refuseUnsafe: boolean): Promise<AuditDurability> {
  const found = await readAuditDurability(redis);
  if (found.state === 'unknown') {
    logger.warn('audit_fsync_unchecked', { why: found.why, note: 'cannot read the Redis persistence settings; the audit needs appendonly yes and appendfsync always (docs/audit.md)' });
  } else if (found.state === 'unsafe') {
    const message = `Redis persists with appendonly ${found.appendonly}, appendfsync ${found.appendfsync}: a crash can lose acknowledged audit records; set appendonly yes and appendfsync always (docs/audit.md), or CARDAUTH_AUDIT_REQUIRE_FSYNC=false to accept the risk`;
    if (refuseUnsafe) throw new CardauthError('config_invalid', message);
    logger.warn('audit_fsync_unsafe', { appendonly: found.appendonly, appendfsync: found.appendfsync, note: 'a crash can lose acknowledged audit records (CARDAUTH_AUDIT_REQUIRE_FSYNC=false)' });
  }
  return found;
}
