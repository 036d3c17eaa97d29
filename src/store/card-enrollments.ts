import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { CardauthError, guard } from '../errors';
import { normaliseUid, type Uid } from '../contract/uid';
import { accountKey, isAccountId } from './accounts';
import { accountCardsKey, CARD_INDEX, cardKey, toBinding, WRITE_BINDING, type CardBinding } from './cards';
import { defineScript, pairsToRecord, printable } from './script';
import { DAY_MS } from '../days';

/**
 * Pending self-enrollments (issue 10 §5): a clinician with no card tapped a card nobody has and
 * proved the account with its password; the card is bound only once an officer approves.
 *
 * Redis layout:
 * - `card:pend:<UID>`: hash, the request: uid, accountId, agentId, workstation, reader,
 *   requestedAt, expiresAt (ms). Redis drops it a day after expiresAt; until then a read past
 *   expiresAt treats it as gone (the injected clock decides).
 * - `card:pend:acct:<accountId>`: string, the UID of the account's one pending request.
 * - `card:pend`: sorted set, UID → expiresAt, the list officers see.
 *
 * A request reserves its UID: another account's request for it is refused (`card_pending`)
 * until it is approved, rejected or expires. An account has at most one request; a new one (a
 * different card tapped) replaces its earlier one. An officer's `card bind` of the UID is not
 * held up by a request: it supersedes it, and approving the request is then refused
 * (`card_bound`); the officer rejects it. Every write is one Lua script over the keys it names;
 * a call whose read-ahead went stale retries.
 */

/** One pending request. */
export interface PendingEnrollment {
  uid: Uid;
  accountId: string;
  agentId: string;
  workstation: string;
  reader: string;
  requestedAt: number;
  expiresAt: number;
}

/** What a login hands over to request a card (see {@link EnrollmentStore.request}). */
export type EnrollmentRequest = Omit<PendingEnrollment, 'uid' | 'requestedAt' | 'expiresAt'> & {
  /** Hex (any case, with separators) or a branded Uid. */
  uid: string;
};

/** Why a request was not recorded. */
export type RequestRefusal = 'card_bound' | 'account_not_found' | 'has_card' | 'card_pending';
const REQUEST_REFUSALS: readonly unknown[] = ['card_bound', 'account_not_found', 'has_card', 'card_pending'];

export interface EnrollmentStore {
  /**
   * Records a request, or answers atomically why not: `card_bound` (the UID has any binding,
   * active or revoked), `account_not_found`, `has_card` (the account has an active card),
   * `card_pending` (another account's live request holds the UID).
   */
  request(input: EnrollmentRequest): Promise<{ pending: PendingEnrollment } | { refused: RequestRefusal }>;
  /** The live request for a UID, or null. */
  get(uid: string): Promise<PendingEnrollment | null>;
  /** Every live request, the oldest first. */
  list(): Promise<PendingEnrollment[]>;
  /**
   * Binds the card of a live request (`by`, label `label`) in one script with the bind's checks:
   * `enrollment_not_found`, `account_not_found`, `card_bound`, `card_revoked`, `card_limit`.
   * Answers the request and the binding; the request is gone.
   */
  approve(input: { uid: string; by: string; label?: string | undefined }): Promise<{ pending: PendingEnrollment; binding: CardBinding }>;
  /** Drops a live request (`enrollment_not_found` if none); answers it. */
  reject(uid: string): Promise<PendingEnrollment>;
}

const pendKey = (uid: string) => `card:pend:${uid}`;
const pendAccountKey = (accountId: string) => `card:pend:acct:${accountId}`;
const PEND_LIST = 'card:pend';
const MAX_RETRIES = 8;

// Drops a request: its hash, its account's pointer (if it still names it) and its list entry.
const DROP = `
local function drop(pendKey, accountKey, listKey, uid)
  redis.call('DEL', pendKey)
  if redis.call('GET', accountKey) == uid then redis.call('DEL', accountKey) end
  redis.call('ZREM', listKey, uid)
end
local function live(pendKey, now)
  local e = redis.call('HGET', pendKey, 'expiresAt')
  return e and tonumber(e) > tonumber(now)
end
`;

// KEYS: card:<uid>, acct:<acc>, card:acct:<acc>, card:pend:<uid>, card:pend:acct:<acc>, card:pend:<previous uid of acc or uid>, card:pend
// ARGV: uid, acc, expected previous uid of acc ('' if none), agentId, workstation, reader, now, expiresAt, keepMs
const REQUEST = `${DROP}
if (redis.call('GET', KEYS[5]) or '') ~= ARGV[3] then return {'retry'} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'card_bound'} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'account_not_found'} end
local index = redis.call('HGETALL', KEYS[3])
for i = 2, #index, 2 do
  if index[i] == 'active' then return {'has_card'} end
end
local holder = redis.call('HGET', KEYS[4], 'accountId')
if holder and holder ~= ARGV[2] and live(KEYS[4], ARGV[7]) then return {'card_pending'} end
if ARGV[3] ~= '' and ARGV[3] ~= ARGV[1] then drop(KEYS[6], KEYS[5], KEYS[7], ARGV[3]) end
local fields = {'uid', ARGV[1], 'accountId', ARGV[2], 'agentId', ARGV[4], 'workstation', ARGV[5], 'reader', ARGV[6], 'requestedAt', ARGV[7], 'expiresAt', ARGV[8]}
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[4], unpack(fields))
redis.call('PEXPIRE', KEYS[4], ARGV[9])
redis.call('SET', KEYS[5], ARGV[1], 'PX', ARGV[9])
redis.call('ZADD', KEYS[7], ARGV[8], ARGV[1])
return {'ok', unpack(fields)}
`;

// KEYS: card:pend:<uid>, card:pend:acct:<acc>, card:<uid>, acct:<acc>, card:acct:<acc>, card:pend, card:ix
// ARGV: uid, expected acc, now, by, label, max
const APPROVE = `${WRITE_BINDING}${DROP}
local acc = redis.call('HGET', KEYS[1], 'accountId')
if not acc or not live(KEYS[1], ARGV[3]) then return {'enrollment_not_found'} end
if acc ~= ARGV[2] then return {'retry'} end
if redis.call('EXISTS', KEYS[4]) == 0 then return {'account_not_found'} end
local status = redis.call('HGET', KEYS[3], 'status')
if status == 'active' then return {'card_bound'} end
if status then return {'card_revoked'} end
local active = 0
local index = redis.call('HGETALL', KEYS[5])
for i = 2, #index, 2 do
  if index[i] == 'active' then active = active + 1 end
end
if active >= tonumber(ARGV[6]) then return {'card_limit'} end
local pending = redis.call('HGETALL', KEYS[1])
drop(KEYS[1], KEYS[2], KEYS[6], ARGV[1])
redis.call('ZADD', KEYS[7], 0, ixMember(KEYS[4], ARGV[1]))
local fields = writeBinding(KEYS[3], KEYS[5], ARGV[1], acc, ARGV[5], ARGV[3], ARGV[4], '', '', {})
return {'ok', pending, fields}
`;

// KEYS: card:pend:<uid>, card:pend:acct:<acc>, card:pend. ARGV: uid, expected acc, now
const REJECT = `${DROP}
local acc = redis.call('HGET', KEYS[1], 'accountId')
if not acc or not live(KEYS[1], ARGV[3]) then return {'enrollment_not_found'} end
if acc ~= ARGV[2] then return {'retry'} end
local pending = redis.call('HGETALL', KEYS[1])
drop(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
return {'ok', pending}
`;

function toPending(h: Record<string, string>, now: number): PendingEnrollment | null {
  if (!h.uid || !h.accountId || !h.expiresAt || Number(h.expiresAt) <= now) return null;
  return {
    uid: h.uid as Uid,
    accountId: h.accountId,
    agentId: h.agentId ?? '',
    workstation: h.workstation ?? '',
    reader: h.reader ?? '',
    requestedAt: Number(h.requestedAt),
    expiresAt: Number(h.expiresAt),
  };
}

const notFound = () => new CardauthError('enrollment_not_found', 'no pending enrollment for this card');

function refusal(status: unknown, max?: number): CardauthError {
  switch (status) {
    case 'enrollment_not_found':
      return notFound();
    case 'account_not_found':
      return new CardauthError('account_not_found', 'no such account');
    case 'card_bound':
      return new CardauthError('card_bound', 'this card is already bound to an account');
    case 'card_revoked':
      return new CardauthError('card_revoked', 'this card was revoked; re-issue it with card bind --reissue-reason, and reject the request');
    case 'card_limit':
      return new CardauthError('card_limit', `the account already has ${max ?? 0} active card(s)`);
    default:
      return new CardauthError('unavailable', `unexpected enrollment store reply: ${String(status)}`);
  }
}

/**
 * Creates the pending-enrollment store over a shared Redis.
 *
 * @example
 * const enrollments = createEnrollmentStore({ redis, clock, pendingDays: 7, maxActivePerAccount: 2 });
 * await enrollments.request({ uid, accountId, agentId, workstation, reader });
 * await enrollments.approve({ uid, by: 'acct:…' });
 */
export function createEnrollmentStore(deps: {
  redis: Redis;
  clock: Clock;
  /** CARDAUTH_ENROLLMENT_PENDING_DAYS: how long a request waits for an officer. */
  pendingDays: number;
  /** CARDAUTH_MAX_CARDS_PER_ACCOUNT: the bind's limit, checked again at approval. */
  maxActivePerAccount: number;
}): EnrollmentStore {
  const { redis, clock } = deps;
  if (!Number.isInteger(deps.pendingDays) || deps.pendingDays < 1) throw new TypeError('pendingDays must be a positive integer');
  const requestScript = defineScript(redis, 'cardauthEnrollRequest', 7, REQUEST);
  const approveScript = defineScript(redis, 'cardauthEnrollApprove', 7, APPROVE);
  const rejectScript = defineScript(redis, 'cardauthEnrollReject', 3, REJECT);
  const pending = (h: Record<string, string>) => toPending(h, clock.now());
  const holder = async (uid: Uid) => (await guard(redis.hget(pendKey(uid), 'accountId'))) ?? '';

  return {
    async request(input) {
      const uid = normaliseUid(input.uid);
      if (!isAccountId(input.accountId)) return { refused: 'account_not_found' };
      const agentId = printable(input.agentId, 'agentId', 128);
      const workstation = printable(input.workstation, 'workstation', 128);
      const reader = printable(input.reader, 'reader', 128, { allowEmpty: true });
      const lifeMs = deps.pendingDays * DAY_MS;
      for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
        const previous = (await guard(redis.get(pendAccountKey(input.accountId)))) ?? '';
        const now = clock.now();
        const [status, ...rest] = await requestScript(
          [cardKey(uid), accountKey(input.accountId), accountCardsKey(input.accountId), pendKey(uid), pendAccountKey(input.accountId), pendKey(previous || uid), PEND_LIST],
          [uid, input.accountId, previous, agentId, workstation, reader, now, now + lifeMs, lifeMs + DAY_MS],
        );
        if (status === 'ok') return { pending: pending(pairsToRecord(rest)) as PendingEnrollment };
        if (REQUEST_REFUSALS.includes(status)) return { refused: status as RequestRefusal };
        if (status !== 'retry') throw refusal(status);
      }
      throw new CardauthError('unavailable', 'enrollment kept changing; try again');
    },

    async get(uid) {
      return pending(await guard(redis.hgetall(pendKey(normaliseUid(uid)))));
    },

    async list() {
      const uids = await guard(redis.zrangebyscore(PEND_LIST, `(${clock.now()}`, '+inf'));
      if (uids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const uid of uids) pipeline.hgetall(pendKey(uid));
      const out: PendingEnrollment[] = [];
      for (const [err, h] of (await guard(pipeline.exec())) ?? []) {
        if (err) throw new CardauthError('unavailable', 'store unavailable', { cause: err });
        const p = pending(h as Record<string, string>);
        if (p) out.push(p);
      }
      return out.sort((a, b) => a.requestedAt - b.requestedAt || (a.uid < b.uid ? -1 : 1));
    },

    async approve(input) {
      const uid = normaliseUid(input.uid);
      const by = printable(input.by, 'by', 128);
      const label = printable(input.label ?? '', 'label', 64, { allowEmpty: true });
      for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
        const acc = await holder(uid);
        if (!acc || !isAccountId(acc)) throw notFound();
        const [status, p, fields] = await approveScript(
          [pendKey(uid), pendAccountKey(acc), cardKey(uid), accountKey(acc), accountCardsKey(acc), PEND_LIST, CARD_INDEX],
          [uid, acc, clock.now(), by, label, deps.maxActivePerAccount],
        );
        if (status === 'ok') return { pending: toPending(pairsToRecord(p as unknown[]), -1) as PendingEnrollment, binding: toBinding(pairsToRecord(fields as unknown[]), clock.now()) as CardBinding };
        if (status !== 'retry') throw refusal(status, deps.maxActivePerAccount);
      }
      throw new CardauthError('unavailable', 'enrollment kept changing; try again');
    },

    async reject(uid) {
      const u = normaliseUid(uid);
      for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
        const acc = await holder(u);
        if (!acc || !isAccountId(acc)) throw notFound();
        const [status, p] = await rejectScript([pendKey(u), pendAccountKey(acc), PEND_LIST], [u, acc, clock.now()]);
        if (status === 'ok') return toPending(pairsToRecord(p as unknown[]), -1) as PendingEnrollment;
        if (status !== 'retry') throw refusal(status);
      }
      throw new CardauthError('unavailable', 'enrollment kept changing; try again');
    },
  };
}
