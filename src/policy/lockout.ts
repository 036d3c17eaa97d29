import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { CardauthError, guard } from '../errors';
import { accountKey } from '../store/accounts';
import { defineScript, randomHex } from '../store/script';
import { clientKey } from './client-key';

export interface LockoutConfig {
  /** Password attempts per account within the window; the last one locks it unless it succeeds. */
  attempts: number;
  windowSec: number;
  /** How long a locked account stays locked. */
  durationSec: number;
  /** Password attempts per card UID (after that card's card step) within `cardWindowSec`; the last one locks the card. */
  cardAttempts: number;
  cardWindowSec: number;
  /** How long a locked card stays locked. */
  cardDurationSec: number;
  /** Refused logins per client IP within the window before that IP is refused. */
  ipAttempts: number;
  /** Password attempts one passed card step allows (0: no limit of its own). */
  cardStepAttempts: number;
  /** How long a card step's attempt count is kept (the card step's own life). */
  cardStepTtlSec: number;
  /** Refusals with no verified signature behind them (junk) per client IP within the window. */
  ipJunkAttempts: number;
  /** The same per session. */
  sessionJunkAttempts: number;
  /** How long an unlock-failure count is kept (the session lifetime). */
  sessionMaxSec: number;
}

/**
 * Where a request came from: what the attempts policy keys the per-IP budgets on (as
 * clientKey of `ip`), and what the audit records as the source.
 */
export interface RequestSource {
  ip: string;
  userAgent?: string;
}

/** Who a password attempt is about. */
export interface AttemptSubject {
  accountId: string;
  /** The card whose card step this attempt follows: its own count (the card scope); absent, none is kept. */
  cardUid?: string;
  ip: string;
  sessionId: string;
  /** The stored card step this attempt uses (its `at`); absent in a one-shot login, whose card step is this request's. */
  cardStepAt?: number;
}

/** How a password attempt ended (see {@link Lockout.end}). */
export type AttemptOutcome = 'success' | 'failure' | 'void';

/** A password attempt that may run, or why not. */
export type AttemptStart =
  | {
      ok: true;
      /** This attempt took the account's last one: a failure now leaves the account locked. */
      lastAttempt: boolean;
      /** This attempt took the card's last one: a failure now leaves the card locked. */
      lastCardAttempt?: boolean;
      /** Hand it back to {@link Lockout.end}. */
      token: string;
    }
  | { ok: false; refused: 'busy' }
  | { ok: false; refused: 'card_step_used_up' }
  | { ok: false; refused: 'account' | 'card' | 'ip'; retryAfterMs: number };

/** The card step's gate: refused outright, or open (and whether junk from this IP is over its budget). */
export type GateState = { locked: true; scope: 'ip' | 'session'; retryAfterMs: number } | { locked: false; junkLimited: false } | { locked: false; junkLimited: true; retryAfterMs: number };

export interface Lockout {
  /**
   * Takes one password attempt, atomically and before the password is
   * looked at, from the account's and the client IP's budgets and from the
   * session's card step; refused when the session already has an attempt in
   * flight, the card step's attempts are used up, or a budget is spent (which
   * still uses up one of the card step's attempts, so one tap cannot ask
   * for ever).
   */
  begin(subject: AttemptSubject): Promise<AttemptStart>;
  /**
   * Ends an attempt, so the session may try again. `failure` keeps it
   * counted; `void` (nothing was judged: a store failed) gives it back to
   * the account, the IP and the card step; `success` gives it back to the IP and clears the
   * account's failures (only someone with both factors can do that).
   */
  end(subject: AttemptSubject, token: string, outcome: AttemptOutcome): Promise<void>;
  /** The card step's gate, read before the statement: the IP's login budget, and the junk budgets of the IP and the session. */
  gate(ip: string, sessionId: string): Promise<GateState>;
  /** A refusal backed by a verified signature (a real card at a real reader): counts against the IP. */
  recordIpFailure(ip: string): Promise<void>;
  /** A refusal with no verified signature behind it: counts under the junk budgets, never the IP's login budget. */
  recordJunk(ip: string, sessionId: string): Promise<void>;
  /** A failed unlock of a locked session, counted atomically: the count so far. */
  unlockFailure(sessionId: string): Promise<number>;
  /**
   * The account's count as stored, judged by nothing: attempts counted and
   * ms until Redis forgets them (or the lock ends). For an officer's unlock.
   */
  accountCount(accountId: string): Promise<{ failures: number; msLeft: number }>;
  /**
   * One SCAN step (COUNT `count`) over the accounts' (or the cards') failure counts: those
   * locked now (the count at the scope's threshold), by account id (or card UID), with the time
   * the lock has left, and the cursor to go on from (`'0'`: done). A step may answer none while
   * the cursor goes on.
   */
  scanLocked(scope: 'account' | 'card', cursor: string, count: number): Promise<{ cursor: string; locked: Array<{ id: string; failures: number; msLeft: number }> }>;
  /** An officer's unlock. */
  unlock(accountId: string): Promise<void>;
  /** The card's count as stored (see accountCount); `locked` when it is over CARDAUTH_CARD_LOCKOUT_ATTEMPTS. One script call. */
  cardCount(uid: string): Promise<{ failures: number; msLeft: number; locked: boolean }>;
  /** An officer's unlock of a card. */
  unlockCard(uid: string): Promise<void>;
  /** The client IP's login budget as stored (an IPv6 address as its /64): refusals counted, ms left, `locked` when spent. */
  ipCount(ip: string): Promise<{ failures: number; msLeft: number; locked: boolean }>;
  /** An officer's unlock of a client IP's login budget (its junk budgets stay). */
  unlockIp(ip: string): Promise<void>;
  /** Counts a refusal the account's user sees at their next login (a card-locked card step of theirs). */
  noteFailure(accountId: string): Promise<void>;
}

/** Increments a budget key; the take that reaches `max` holds the key for `blockMs`, the first starts the window. */
const TAKE_LUA = `
local function take(key, max, windowMs, blockMs)
  local n = redis.call('INCR', key)
  if n >= max then redis.call('PEXPIRE', key, blockMs)
  elseif n == 1 then redis.call('PEXPIRE', key, windowMs) end
  return n
end
local function count(key) return tonumber(redis.call('GET', key) or '0') end
local function left(key, fallback)
  local ms = redis.call('PTTL', key)
  if ms < 0 then return tonumber(fallback) end
  return ms
end
`;

/** Counts a failure the account's user is shown at their next login (`failedSinceLogin` of its hash, if it exists). */
const NOTE_FAILURE_LUA = `
local function noteFailure(key)
  if redis.call('EXISTS', key) == 1 then redis.call('HINCRBY', key, 'failedSinceLogin', 1) end
end
`;

/**
 * KEYS: in-flight, card-step count, account, IP, card, account hash.
 * ARGV: token, busyMs, cardStepMax (0: none), cardStepMs, accountMax, windowMs, lockMs, ipMax, ipBlockMs, cardMax (0: none), cardWindowMs, cardLockMs.
 */
const BEGIN_LUA = `${TAKE_LUA}${NOTE_FAILURE_LUA}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'busy', 0, 0, 0} end
local csMax = tonumber(ARGV[3])
if csMax > 0 and count(KEYS[2]) >= csMax then return {'card_step_used_up', 0, 0, 0} end
local accountMax, ipMax, cardMax = tonumber(ARGV[5]), tonumber(ARGV[8]), tonumber(ARGV[10])
local function useCardStep()
  if csMax > 0 and redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
end
if count(KEYS[3]) >= accountMax then useCardStep() return {'account', left(KEYS[3], ARGV[7]), 0, 0} end
if cardMax > 0 and count(KEYS[5]) >= cardMax then useCardStep() noteFailure(KEYS[6]) return {'card', left(KEYS[5], ARGV[12]), 0, 0} end
if count(KEYS[4]) >= ipMax then useCardStep() return {'ip', left(KEYS[4], ARGV[9]), 0, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
useCardStep()
local n = take(KEYS[3], accountMax, ARGV[6], ARGV[7])
local c = cardMax > 0 and take(KEYS[5], cardMax, ARGV[11], ARGV[12]) or 0
take(KEYS[4], ipMax, ARGV[6], ARGV[9])
return {'ok', 0, n >= accountMax and 1 or 0, (cardMax > 0 and c >= cardMax) and 1 or 0}
`;

/**
 * KEYS: in-flight, account, IP, card-step count, card, account hash. ARGV: token, outcome (see
 * Lockout.end). A failure is also counted for the account's user to see at their next login.
 */
const END_LUA = `${NOTE_FAILURE_LUA}
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
local function giveBack(key)
  local n = tonumber(redis.call('GET', key) or '0')
  if n <= 1 then redis.call('DEL', key) else redis.call('DECR', key) end
end
if ARGV[2] == 'success' then
  redis.call('DEL', KEYS[2])
  redis.call('DEL', KEYS[5])
  giveBack(KEYS[3])
elseif ARGV[2] == 'void' then
  giveBack(KEYS[2])
  giveBack(KEYS[3])
  giveBack(KEYS[4])
  giveBack(KEYS[5])
else
  noteFailure(KEYS[6])
end
return {'ok'}
`;

/** KEYS: a counter. Answers its count and ms left (0 when it has none). */
const READ_LUA = `
local ms = redis.call('PTTL', KEYS[1])
return {tonumber(redis.call('GET', KEYS[1]) or '0'), ms < 0 and 0 or ms}
`;

/** KEYS: an account hash. */
const NOTE_LUA = `${NOTE_FAILURE_LUA}
noteFailure(KEYS[1])
return {'ok'}
`;

/**
 * KEYS: IP, IP junk, session junk. ARGV: the max of each. Answers the first
 * budget spent, in the order IP, session junk, IP junk, with its ms left
 * ({'open', 0} when none is).
 */
const GATE_LUA = `${TAKE_LUA}
if count(KEYS[1]) >= tonumber(ARGV[1]) then return {'ip', left(KEYS[1], 0)} end
if count(KEYS[3]) >= tonumber(ARGV[3]) then return {'session', left(KEYS[3], 0)} end
if count(KEYS[2]) >= tonumber(ARGV[2]) then return {'junk', left(KEYS[2], 0)} end
return {'open', 0}
`;

/** KEYS: the budgets to take from. ARGV: per key, max, windowMs, blockMs. */
const RECORD_LUA = `${TAKE_LUA}
for k = 1, #KEYS do
  local a = (k - 1) * 3
  take(KEYS[k], tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 3])
end
return {'ok'}
`;

/** KEYS: a counter. ARGV: its life in ms, from the first count. Answers the count. */
const COUNT_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n}
`;

/** An attempt in flight holds its session this long at most (a node that dies mid-attempt frees it then). */
const IN_FLIGHT_MS = 60_000;

/**
 * The attempts policy (ИАФ.3, УПД.4, УПД.8): every count a login keeps, in
 * Redis, shared by every server node. Like authelia's regulation, one place
 * owns them all:
 *
 * - `rl:acct:<account>`: password attempts on the account;
 * - `rl:card:<uid>`: password attempts after that card's card step (the card
 *   scope: a stolen card tried against its account's password is locked on
 *   its own, CARDAUTH_CARD_LOCKOUT_*);
 * - `failedSinceLogin` of the account's hash (`acct:<id>`): failed password
 *   attempts and card-locked refusals since its last login, shown at the next one;
 * - `rl:ip:<ip>`: refused logins from the IP (an IPv6 address counts as its
 *   /64, see clientKey): password attempts, and card
 *   statements refused after their signature verified);
 * - `rl:junk:ip:<ip>` and `rl:junk:sess:<session>`: refusals with no
 *   verified signature behind them (junk statements, a password with no card
 *   step). They have budgets of their own, so junk cannot lock out the users
 *   behind one address;
 * - `pw:busy:<session>`: the one password attempt in flight in a session;
 * - `pw:cs:<session>:<card step>`: password attempts on one card step;
 * - `rl:unlock:<session>`: failed unlocks of a locked session.
 *
 * A password attempt is taken **before** the verify, atomically, from the
 * account and the IP at once, and given back when it succeeds (which also
 * clears the account's failures): N attempts in parallel are counted one by
 * one, and the ones over the budget are refused without a verify. A correct
 * password that arrives when the budget is spent is refused too. Each operation is one Lua script (one round trip). A Redis
 * failure is `unavailable` (fail closed), never "not locked".
 *
 * The counters are integers with a TTL, the layout rate-limiter-flexible
 * used for the account and IP before, so counts survive an upgrade.
 *
 * @example
 * const lockout = createLockout({ redis, config });
 * const start = await lockout.begin({ accountId, ip, sessionId, cardStepAt });
 * if (start.ok) await lockout.end(subject, start.token, passwordOk ? 'success' : 'failure');
 */
export function createLockout(deps: { redis: Redis; config: LockoutConfig; randomBytes?: (size: number) => Uint8Array }): Lockout {
  const { redis, config } = deps;
  const randomBytes = deps.randomBytes ?? cryptoRandomBytes;
  const beginScript = defineScript(redis, 'cardauthAttemptBegin', 6, BEGIN_LUA);
  const endScript = defineScript(redis, 'cardauthAttemptEnd', 6, END_LUA);
  const gateScript = defineScript(redis, 'cardauthAttemptGate', 3, GATE_LUA);
  const record1 = defineScript(redis, 'cardauthAttemptRecord1', 1, RECORD_LUA);
  const record2 = defineScript(redis, 'cardauthAttemptRecord2', 2, RECORD_LUA);
  const countScript = defineScript(redis, 'cardauthAttemptCount', 1, COUNT_LUA);
  const readScript = defineScript(redis, 'cardauthAttemptRead', 1, READ_LUA);
  const noteScript = defineScript(redis, 'cardauthAttemptNote', 1, NOTE_LUA);

  const windowMs = config.windowSec * 1000;
  const lockMs = config.durationSec * 1000;
  const keys = {
    account: (id: string) => `rl:acct:${id}`,
    card: (uid: string) => `rl:card:${uid}`,
    ip: (ip: string) => `rl:ip:${clientKey(ip)}`,
    junkIp: (ip: string) => `rl:junk:ip:${clientKey(ip)}`,
    junkSession: (sid: string) => `rl:junk:sess:${sid}`,
    busy: (sid: string) => `pw:busy:${sid}`,
    cardStep: (sid: string, at: number | undefined) => `pw:cs:${sid}:${at ?? 0}`,
    unlock: (sid: string) => `rl:unlock:${sid}`,
  };
  /** A budget as RECORD_LUA takes it: the IP's login budget blocks for the window, as the junk ones do. */
  const budget = (max: number) => [max, windowMs, windowMs];

  return {
    async begin(s) {
      const token = randomHex(randomBytes, 16);
      const [status, ms, last, cardLast] = await beginScript(
        [keys.busy(s.sessionId), keys.cardStep(s.sessionId, s.cardStepAt), keys.account(s.accountId), keys.ip(s.ip), keys.card(s.cardUid ?? '-'), accountKey(s.accountId)],
        [
          token,
          IN_FLIGHT_MS,
          s.cardStepAt === undefined ? 0 : config.cardStepAttempts,
          config.cardStepTtlSec * 1000,
          config.attempts,
          windowMs,
          lockMs,
          config.ipAttempts,
          windowMs,
          s.cardUid === undefined ? 0 : config.cardAttempts,
          config.cardWindowSec * 1000,
          config.cardDurationSec * 1000,
        ],
      );
      if (status === 'ok') return { ok: true, lastAttempt: Number(last) === 1, lastCardAttempt: Number(cardLast) === 1, token };
      if (status === 'busy') return { ok: false, refused: 'busy' };
      if (status === 'card_step_used_up') return { ok: false, refused: 'card_step_used_up' };
      return { ok: false, refused: status === 'account' ? 'account' : status === 'card' ? 'card' : 'ip', retryAfterMs: Number(ms) };
    },
    async end(s, token, outcome) {
      await endScript(
        [keys.busy(s.sessionId), keys.account(s.accountId), keys.ip(s.ip), keys.cardStep(s.sessionId, s.cardStepAt), keys.card(s.cardUid ?? '-'), accountKey(s.accountId)],
        [token, outcome],
      );
    },
    async gate(ip, sessionId) {
      const [spent, ms] = await gateScript([keys.ip(ip), keys.junkIp(ip), keys.junkSession(sessionId)], [config.ipAttempts, config.ipJunkAttempts, config.sessionJunkAttempts]);
      const retryAfterMs = Number(ms);
      if (spent === 'ip') return { locked: true, scope: 'ip', retryAfterMs };
      if (spent === 'session') return { locked: true, scope: 'session', retryAfterMs };
      if (spent === 'junk') return { locked: false, junkLimited: true, retryAfterMs };
      return { locked: false, junkLimited: false };
    },
    async recordIpFailure(ip) {
      await record1([keys.ip(ip)], budget(config.ipAttempts));
    },
    async recordJunk(ip, sessionId) {
      await record2([keys.junkIp(ip), keys.junkSession(sessionId)], [...budget(config.ipJunkAttempts), ...budget(config.sessionJunkAttempts)]);
    },
    async unlockFailure(sessionId) {
      const [n] = await countScript([keys.unlock(sessionId)], [config.sessionMaxSec * 1000]);
      return Number(n);
    },
    async accountCount(accountId) {
      const key = keys.account(accountId);
      const [count, ms] = await guard(Promise.all([redis.get(key), redis.pttl(key)]), 'lockout store');
      return { failures: Number(count ?? 0), msLeft: Math.max(0, ms) };
    },
    async scanLocked(scope, cursor, count) {
      const key = scope === 'account' ? keys.account : keys.card;
      const threshold = scope === 'account' ? config.attempts : config.cardAttempts;
      const [next, found] = await guard(redis.scan(cursor, 'MATCH', key('*'), 'COUNT', count), 'lockout store');
      if (found.length === 0) return { cursor: next, locked: [] };
      const tx = redis.pipeline();
      for (const key of found) tx.get(key).pttl(key);
      const replies = (await guard(tx.exec(), 'lockout store')) ?? [];
      const locked = found.flatMap((k, i) => {
        const [[e1, count], [e2, ms]] = [replies[2 * i] ?? [null, null], replies[2 * i + 1] ?? [null, null]];
        if (e1 || e2) throw new CardauthError('unavailable', 'lockout store unavailable', { cause: e1 ?? e2 });
        const failures = Number(count ?? 0);
        return failures >= threshold ? [{ id: k.slice(key('').length), failures, msLeft: Math.max(0, Number(ms)) }] : [];
      });
      return { cursor: next, locked };
    },
    async unlock(accountId) {
      await guard(redis.del(keys.account(accountId)), 'lockout store');
    },
    async cardCount(uid) {
      const [failures, ms] = await readScript([keys.card(uid)], []);
      return { failures: Number(failures), msLeft: Number(ms), locked: Number(failures) >= config.cardAttempts };
    },
    async unlockCard(uid) {
      await guard(redis.del(keys.card(uid)), 'lockout store');
    },
    async ipCount(ip) {
      const [failures, ms] = await readScript([keys.ip(ip)], []);
      return { failures: Number(failures), msLeft: Number(ms), locked: Number(failures) >= config.ipAttempts };
    },
    async unlockIp(ip) {
      await guard(redis.del(keys.ip(ip)), 'lockout store');
    },
    async noteFailure(accountId) {
      await noteScript([accountKey(accountId)], []);
    },
  };
}
