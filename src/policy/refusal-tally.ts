import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { defineScript } from '../store/script';

/** How long a count of unrecorded refusals waits for the next record of its key. */
const CARRY_MS = 86_400_000;

// KEYS: the window marker (its start, ms), the count of unrecorded refusals. ARGV: now, window (ms),
// 'count' to count a refusal that is not its window's first, carry (ms). A new window takes the count.
const CLAIM = `
local since = tonumber(redis.call('GET', KEYS[1]))
local now = tonumber(ARGV[1])
if not since or now - since >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, tonumber(redis.call('GETDEL', KEYS[2]) or '0')}
end
if ARGV[3] == 'count' then
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return {0, 0}
`;

/** Whether to write an audit record now, and how many refusals before it were counted instead. */
export interface TallyAnswer {
  record: boolean;
  /** Refusals of this key since its last record that were counted, not recorded (when `record`). */
  unrecorded: number;
}

/**
 * Keeps refusals from one client (a client IP) from growing the audit trail
 * without bound, while their number still reaches it: per key and window,
 * only the first refusal is recorded; the rest are counted, and the count is
 * carried by the key's next record, which is its first refusal of a later
 * window or the one record of its going over its rate limit in a window.
 * A count waits a day for that record. Shared by every node (one script per
 * call); a Redis failure is `unavailable`.
 *
 * @example
 * const refusals = createRefusalTally({ redis, clock, prefix: 'rt:event', windowSec: 60 });
 * const { record, unrecorded } = await refusals.refused(ip);
 * if (record) await audit.append({ ..., details: { unrecordedRefusals: unrecorded } });
 */
export function createRefusalTally(deps: { redis: Redis; clock: Clock; prefix: string; windowSec: number }) {
  const { clock, prefix } = deps;
  const windowMs = deps.windowSec * 1000;
  const claim = defineScript(deps.redis, 'cardauthRefusalTally', 2, CLAIM);
  const ask = async (marker: string, key: string, count: boolean): Promise<TallyAnswer> => {
    const [first, unrecorded] = await claim([`${prefix}:${marker}:${key}`, `${prefix}:n:${key}`], [clock.now(), windowMs, count ? 'count' : '', CARRY_MS]);
    return { record: first === 1, unrecorded: Number(unrecorded) };
  };
  return {
    /** A refusal: recorded when it is the first of its window, counted otherwise. */
    refused: (key: string) => ask('first', key, true),
    /** The key went over its rate limit: recorded once per window, with the count so far; counted otherwise. */
    overLimit: (key: string) => ask('over', key, true),
  };
}

export type RefusalTally = ReturnType<typeof createRefusalTally>;
