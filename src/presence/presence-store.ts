import type Redis from 'ioredis';
import { guard } from '../errors';
import { defineScript } from '../store/script';
import type { Direction } from './adapter';
import { skudDayKey, skudKey } from './integrations';
import { moscowDay } from './moscow-day';

/** A person's last known pass: which way, when (ms), reported by which integration. */
export interface LastPass {
  direction: Direction;
  at: number;
  skudId: string;
}

/** An event of a verified statement whose person was found. */
export interface AccountPass {
  accountId: string;
  direction: Direction;
  at: number;
}

/** What the login gate reads, in one round trip. */
export interface PresenceState {
  last: LastPass | null;
  /** ms: the last verified statement of any integration (a heartbeat too); null if none ever. */
  feedLast: number | null;
}

const personKey = (accountId: string) => `presence:${accountId}`;
const FEED_LAST = 'presence:feed:last';
/** A pass older than a day decides nothing (the gate asks for today's); two days cover any time zone edge. */
const PASS_TTL_SEC = 2 * 86400;

// KEYS: skud:<id>, its day counter, the feed's last. ARGV: now, ttl, skudId, events counted,
// passes, then key, direction and at per pass (person keys in ARGV, as session-locks.ts does).
// A person's pass is kept only if it is not older than the one stored (a relay may resend or reorder).
const RECORD = `
redis.call('HSET', KEYS[1], 'lastStatementAt', ARGV[1])
redis.call('SET', KEYS[3], ARGV[1])
if tonumber(ARGV[4]) > 0 then
  redis.call('INCRBY', KEYS[2], ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
local n = tonumber(ARGV[5])
local newest = tonumber(redis.call('HGET', KEYS[1], 'lastEventAt') or '0')
for i = 0, n - 1 do
  local key, dir, at = ARGV[6 + 3 * i], ARGV[7 + 3 * i], tonumber(ARGV[8 + 3 * i])
  if at > newest then newest = at end
  local old = redis.call('GET', key)
  local oldAt = old and tonumber(string.match(old, '^%a+:(%d+):') or '-1') or -1
  if at >= oldAt then redis.call('SET', key, dir .. ':' .. string.format('%d', at) .. ':' .. ARGV[3], 'EX', ARGV[2]) end
end
if n > 0 then redis.call('HSET', KEYS[1], 'lastEventAt', string.format('%d', newest)) end
return {'ok'}
`;

function parsePass(raw: string | null): LastPass | null {
  const m = raw ? /^(entry|exit):(\d+):(.*)$/.exec(raw) : null;
  return m ? { direction: m[1] as Direction, at: Number(m[2]), skudId: m[3] ?? '' } : null;
}

/**
 * Where each person is, as the access-control feed last said: `presence:<accountId>` holds
 * their newest pass (`entry|exit:<ms>:<skudId>`, 2 days), `presence:feed:last` the time of the
 * last verified statement of any integration.
 *
 * @example
 * const presence = createPresenceStore({ redis });
 * await presence.record('sk_…', [{ accountId, direction: 'entry', at }], now, 4);
 * const { last, feedLast } = await presence.state(accountId);
 */
export function createPresenceStore(deps: { redis: Redis }) {
  const record = defineScript(deps.redis, 'cardauthPresenceRecord', 3, RECORD);
  return {
    /** Records a verified statement: its passes (`counted`: all its events, found or not), and that the feed is alive. */
    async record(skudId: string, passes: readonly AccountPass[], now: number, counted: number): Promise<void> {
      const args: (string | number)[] = [now, PASS_TTL_SEC, skudId, counted, passes.length];
      for (const p of passes) args.push(personKey(p.accountId), p.direction, p.at);
      await record([skudKey(skudId), skudDayKey(skudId, moscowDay(now)), FEED_LAST], args);
    },
    async state(accountId: string): Promise<PresenceState> {
      const [raw, feed] = await guard(deps.redis.mget(personKey(accountId), FEED_LAST), 'presence');
      return { last: parsePass(raw ?? null), feedLast: feed ? Number(feed) : null };
    },
    async feedLast(): Promise<number | null> {
      const v = await guard(deps.redis.get(FEED_LAST), 'presence');
      return v ? Number(v) : null;
    },
  };
}

export type PresenceStore = ReturnType<typeof createPresenceStore>;
