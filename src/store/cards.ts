import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { CardauthError, guard } from '../errors';
import { normaliseUid, type Uid } from '../contract/uid';
import { accountKey, foldLogin, isAccountId } from './accounts';
import { defineScript, pairsToRecord, printable } from './script';

/**
 * Card bindings: which card UID is allowed for which account (ИАФ.1: a UID
 * belongs to one account only; ИАФ.3: issue, block and replace lost cards).
 *
 * Redis layout:
 * - `card:<UID>`: hash, the current binding of one UID (uppercase hex, as
 *   {@link normaliseUid} gives it). Fields as in {@link CardBinding}. A
 *   revoked binding stays, so the UID cannot quietly come back.
 * - `card:acct:<accountId>`: hash, UID → `active` | `revoked`, the cards
 *   currently bound to that account. It counts active cards for the limit.
 *   When a revoked UID is re-issued to another account it moves here from
 *   the old account's hash; its history is in the audit log.
 * - `card:ix`: sorted set (every score 0, ordered by member), every bound
 *   card as `<owner's normalised login>\0<UID>`: the officers' list, paged and
 *   filtered by a login prefix with ZRANGEBYLEX, never a scan of every card.
 *   `card:ix:revoked` holds the revoked ones the same way. Both are kept in
 *   step by the write scripts (logins never change; a re-issued UID moves).
 * - reads `acct:<accountId>` (the account store's hash) to check the account
 *   exists, and its `loginKey` for the index.
 *
 * Both writes are single Lua scripts that touch only the keys they are
 * given. The binding's current account is read first to name the old
 * account's index; the script re-checks it and the call retries if another
 * node changed it in between.
 */

/** Why a card was revoked. */
export type RevokeReason = 'lost' | 'stolen' | 'replaced' | 'left' | 'other';

/**
 * Every revoke reason.
 *
 * @example
 * REVOKE_REASONS.includes('lost') // => true
 */
export const REVOKE_REASONS: readonly RevokeReason[] = Object.freeze(['lost', 'stolen', 'replaced', 'left', 'other'] as const);

/**
 * Only an active binding lets a card pass the card step. `expired` is an
 * active binding past its `expiresAt`: worked out when it is read (stored, it
 * is still active, counts for the account's card limit and can be revoked or
 * replaced), and refused like a revoked one.
 */
export type CardStatus = 'active' | 'revoked' | 'expired';

/** The current binding of one UID. */
export interface CardBinding {
  uid: Uid;
  accountId: string;
  /** Free text for officers, e.g. "ЕКП" or "запасная"; may be empty. */
  label: string;
  status: CardStatus;
  boundAt: number;
  /** Who bound it (an officer's account id, or a CLI actor). */
  boundBy: string;
  revokedAt?: number;
  revokedBy?: string;
  revokeReason?: RevokeReason;
  /** Set when a revoked UID was bound again; why the officer allowed it. */
  reissueReason?: string;
  /** ms since epoch: from this instant on the binding no longer counts (status `expired`). */
  expiresAt?: number;
  /** The card this one replaced (`replace`), or the card that replaced this one. */
  replaces?: Uid;
  replacedBy?: Uid;
}

/** Input to {@link CardStore.bind}. */
export interface BindInput {
  /** Hex (any case, with spaces, colons or dashes) or a branded Uid. */
  uid: string;
  accountId: string;
  label?: string;
  by: string;
  /** Required to bind a revoked UID again (same or another account). */
  reissueReason?: string;
  /** ms since epoch, in the future: the binding expires then. */
  expiresAt?: number;
}

/** Input to {@link CardStore.replace}: the account's active card `oldUid` gives way to `uid`. */
export interface ReplaceInput extends Omit<BindInput, 'accountId'> {
  oldUid: string;
}

/** One card of {@link CardStore.bindMany}: a checked UID for an account. */
export interface ManyInput {
  uid: Uid;
  accountId: string;
  label: string;
}

/**
 * What {@link CardStore.bindMany} found for one card: `bind` (bound, or would
 * be in a check), `already_bound` (active on this very account: nothing to
 * do), or why not: `account_not_found`, `bound_elsewhere` (active on another
 * account), `revoked_card` (re-issue it on its own, with a reason),
 * `card_limit` (this card would take the account past its limit).
 */
export type ManyFate = 'bind' | 'already_bound' | 'account_not_found' | 'bound_elsewhere' | 'revoked_card' | 'card_limit';

/** Input to {@link CardStore.revoke}. */
export interface RevokeInput {
  uid: string;
  reason: RevokeReason;
  by: string;
}

/** What {@link createCardStore} needs. */
export interface CardStoreDeps {
  redis: Redis;
  clock: Clock;
  /** Active cards one account may have at once (CARDAUTH_MAX_CARDS_PER_ACCOUNT). */
  maxActivePerAccount: number;
}

/** Card bindings over a shared Redis; see {@link createCardStore}. */
export interface CardStore {
  /**
   * Binds a card to an account. Refuses, in this order: a bad UID (`uid_*`),
   * `account_not_found`, `card_bound` (active anywhere), `card_revoked`
   * (revoked and no `reissueReason`), `card_limit`.
   */
  bind(input: BindInput): Promise<CardBinding>;
  /**
   * Binds many cards at once, all or nothing, in one atomic script: each
   * card's fate is judged against Redis as it is at that moment (and against
   * the cards before it, for the limit), and only when every card is `bind`
   * or `already_bound`, and `commit` is set, are the `bind` ones bound.
   * `committed` says whether they were. Nothing another node does can come
   * in between the check and the writes.
   */
  bindMany(cards: readonly ManyInput[], opts: { by: string; commit: boolean }): Promise<{ committed: boolean; fates: ManyFate[] }>;
  /** Revokes an active (or expired) card; `card_not_found` if never bound or already revoked. */
  revoke(input: RevokeInput): Promise<CardBinding>;
  /**
   * In one atomic step, revokes the active (or expired) card `oldUid`
   * (reason `replaced`) and binds `uid` to the same account: never both
   * active, never neither. The card limit does not apply (one card takes
   * another's place). Refuses `card_not_found` (old not active), then as
   * {@link bind} for the new card.
   */
  replace(input: ReplaceInput): Promise<{ old: CardBinding; binding: CardBinding }>;
  /** The binding of a UID, active or revoked; null if never bound. Throws `uid_*` for a bad UID. */
  get(uid: string): Promise<CardBinding | null>;
  /** The account's cards, active and revoked, oldest binding first. */
  listForAccount(accountId: string): Promise<CardBinding[]>;
  /** The account's active cards, oldest binding first. */
  activeForAccount(accountId: string): Promise<CardBinding[]>;
  /**
   * Every card, by its owner's login then UID, a page at a time from the index
   * (never a scan of every card): those whose owner's login starts with
   * `login` (folded as logins are), in `status` (as read now: `expired` too).
   * A page reads at most {@link LIST_READ_MAX} entries of the index, so a rare
   * status can give a short page that still has a `cursor`; null: the end.
   */
  list(query: CardListQuery): Promise<{ cards: CardBinding[]; cursor: string | null }>;
  /**
   * Puts the cards bound before the index existed (a server upgraded) into it, once: SCANs the
   * `card:<UID>` keys and adds each with a script that re-reads its owner, then marks
   * `card:ix:built`, after which it does nothing. Safe alongside writes and on several nodes at
   * once (the write scripts keep the index; this only adds what is missing). Answers how many
   * cards it added (0 once marked).
   */
  indexExisting(): Promise<number>;
}

/** What {@link CardStore.list} takes. */
export interface CardListQuery {
  login?: string | undefined;
  status?: CardStatus | undefined;
  /** Where the previous page ended, as it answered it. */
  cursor?: string | undefined;
  limit: number;
}

/** Index entries one page of {@link CardStore.list} reads at most. */
export const LIST_READ_MAX = 2000;

/** The key of a UID's binding. */
export const cardKey = (uid: string) => `card:${uid}`;
/** The key of an account's card index. */
export const accountCardsKey = (accountId: string) => `card:acct:${accountId}`;
/** The officers' list of every card (see the layout above); a binding written elsewhere adds to it with {@link INDEX_LUA}. */
export const CARD_INDEX = 'card:ix';
const INDEX = CARD_INDEX;
const REVOKED_INDEX = 'card:ix:revoked';
const INDEX_BUILT = 'card:ix:built';
/** A card's own key (not `card:acct:…`, not the index): `card:` and 4, 7 or 10 bytes of hex. */
const CARD_KEY = /^card:(?:[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/;
const MAX_RETRIES = 8;

// The index member of a card (see the layout above): its owner's normalised login, a NUL, its UID.
export const INDEX_LUA = `
local function ixMember(acctKey, uid)
  return (redis.call('HGET', acctKey, 'loginKey') or '') .. '\\0' .. uid
end
`;

// KEYS: card:<uid>, acct:<acc>, card:ix, card:ix:revoked. ARGV: uid, its account as read before.
const INDEX_ONE = `${INDEX_LUA}
local h = redis.call('HMGET', KEYS[1], 'accountId', 'status')
if h[1] ~= ARGV[2] then return {'retry'} end
local m = ixMember(KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], 0, m)
if h[2] == 'revoked' then redis.call('ZADD', KEYS[4], 0, m) end
return {'ok'}
`;

// Writes a new active binding over the card's hash and marks it active in the account's index;
// answers its fields. reissueReason and expiresAt are '' when not set; `extra` is more field pairs.
// Shared with the approval of a self-enrollment (card-enrollments.ts).
export const WRITE_BINDING = `${INDEX_LUA}
local function writeBinding(cardKey, indexKey, uid, acc, label, now, by, reissueReason, expiresAt, extra)
  local fields = {'uid', uid, 'accountId', acc, 'label', label, 'status', 'active', 'boundAt', now, 'boundBy', by}
  for _, v in ipairs(extra) do fields[#fields + 1] = v end
  if reissueReason ~= '' then
    fields[#fields + 1] = 'reissueReason'
    fields[#fields + 1] = reissueReason
  end
  if expiresAt ~= '' then
    fields[#fields + 1] = 'expiresAt'
    fields[#fields + 1] = expiresAt
  end
  redis.call('DEL', cardKey)
  redis.call('HSET', cardKey, unpack(fields))
  redis.call('HSET', indexKey, uid, 'active')
  return fields
end
`;

// KEYS: card:<uid>, acct:<acc>, card:acct:<acc>, card:acct:<previous acc or acc>, acct:<previous acc or acc>, card:ix, card:ix:revoked
// ARGV: uid, acc, expected previous acc ('' if unbound), label, now, by, reissueReason ('' if none), max, expiresAt ('' if none)
const BIND = `${WRITE_BINDING}
local current = redis.call('HGET', KEYS[1], 'accountId') or ''
if current ~= ARGV[3] then return {'retry'} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'account_not_found'} end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'active' then return {'card_bound'} end
local reissue = status == 'revoked'
if reissue and ARGV[7] == '' then return {'card_revoked'} end
local active = 0
local index = redis.call('HGETALL', KEYS[3])
for i = 2, #index, 2 do
  if index[i] == 'active' then active = active + 1 end
end
if active >= tonumber(ARGV[8]) then return {'card_limit'} end
if reissue and current ~= ARGV[2] then redis.call('HDEL', KEYS[4], ARGV[1]) end
if reissue then
  local old = ixMember(KEYS[5], ARGV[1])
  redis.call('ZREM', KEYS[6], old)
  redis.call('ZREM', KEYS[7], old)
end
redis.call('ZADD', KEYS[6], 0, ixMember(KEYS[2], ARGV[1]))
local fields = writeBinding(KEYS[1], KEYS[3], ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6], reissue and ARGV[7] or '', ARGV[9], {})
return {'ok', unpack(fields)}
`;

// KEYS: card:<uid>, card:acct:<acc>, acct:<acc>, card:ix:revoked. ARGV: uid, expected acc, now, by, reason
const REVOKE = `${INDEX_LUA}
local current = redis.call('HGET', KEYS[1], 'accountId') or ''
if current ~= ARGV[2] then return {'retry'} end
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return {'card_not_found'} end
redis.call('HSET', KEYS[1], 'status', 'revoked', 'revokedAt', ARGV[3], 'revokedBy', ARGV[4], 'revokeReason', ARGV[5])
redis.call('HSET', KEYS[2], ARGV[1], 'revoked')
redis.call('ZADD', KEYS[4], 0, ixMember(KEYS[3], ARGV[1]))
return {'ok', unpack(redis.call('HGETALL', KEYS[1]))}
`;

// KEYS: card:<old>, card:<new>, acct:<acc>, card:acct:<acc>, card:acct:<previous acc of new, or acc>, acct:<previous acc of new, or acc>, card:ix, card:ix:revoked
// ARGV: old uid, new uid, acc, expected previous acc of new ('' if unbound), label, now, by, reissueReason ('' if none), expiresAt ('' if none)
const REPLACE = `${WRITE_BINDING}
if (redis.call('HGET', KEYS[1], 'accountId') or '') ~= ARGV[3] then return {'retry'} end
local current = redis.call('HGET', KEYS[2], 'accountId') or ''
if current ~= ARGV[4] then return {'retry'} end
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return {'card_not_found'} end
if redis.call('EXISTS', KEYS[3]) == 0 then return {'account_not_found'} end
local status = redis.call('HGET', KEYS[2], 'status')
if status == 'active' then return {'card_bound'} end
local reissue = status == 'revoked'
if reissue and ARGV[8] == '' then return {'card_revoked'} end
if reissue and current ~= ARGV[3] then redis.call('HDEL', KEYS[5], ARGV[2]) end
if reissue then
  local prior = ixMember(KEYS[6], ARGV[2])
  redis.call('ZREM', KEYS[7], prior)
  redis.call('ZREM', KEYS[8], prior)
end
redis.call('ZADD', KEYS[7], 0, ixMember(KEYS[3], ARGV[2]))
redis.call('HSET', KEYS[1], 'status', 'revoked', 'revokedAt', ARGV[6], 'revokedBy', ARGV[7], 'revokeReason', 'replaced', 'replacedBy', ARGV[2])
redis.call('HSET', KEYS[4], ARGV[1], 'revoked')
redis.call('ZADD', KEYS[8], 0, ixMember(KEYS[3], ARGV[1]))
local fields = writeBinding(KEYS[2], KEYS[4], ARGV[2], ARGV[3], ARGV[5], ARGV[6], ARGV[7], reissue and ARGV[8] or '', ARGV[9], {'replaces', ARGV[1]})
return {'ok', redis.call('HGETALL', KEYS[1]), fields}
`;

// KEYS: card:<uid> for each of n cards, then acct:<id> and card:acct:<id> for each of m accounts, then card:ix.
// ARGV: n, m, now, by, max, commit ('1' or '0'), then uid, account number (1..m), label for each card, then the m account ids.
const BIND_MANY = `${WRITE_BINDING}
local n, m = tonumber(ARGV[1]), tonumber(ARGV[2])
local max, commit = tonumber(ARGV[5]), ARGV[6] == '1'
local ids, exists, active = {}, {}, {}
for j = 1, m do
  ids[j] = ARGV[6 + 3 * n + j]
  exists[j] = redis.call('EXISTS', KEYS[n + j]) == 1
  local count = 0
  local index = redis.call('HGETALL', KEYS[n + m + j])
  for i = 2, #index, 2 do
    if index[i] == 'active' then count = count + 1 end
  end
  active[j] = count
end
local fates, bad = {}, false
for i = 1, n do
  local j = tonumber(ARGV[6 + 3 * (i - 1) + 2])
  local fate
  local h = redis.call('HMGET', KEYS[i], 'accountId', 'status')
  if not exists[j] then fate = 'account_not_found'
  elseif h[2] == 'active' then
    if h[1] == ids[j] then fate = 'already_bound' else fate = 'bound_elsewhere' end
  elseif h[2] then fate = 'revoked_card'
  elseif active[j] >= max then fate = 'card_limit'
  else
    fate = 'bind'
    active[j] = active[j] + 1
  end
  if fate ~= 'bind' and fate ~= 'already_bound' then bad = true end
  fates[i] = fate
end
if bad or not commit then return {'checked', fates} end
for i = 1, n do
  if fates[i] == 'bind' then
    local base = 6 + 3 * (i - 1)
    local j = tonumber(ARGV[base + 2])
    redis.call('ZADD', KEYS[n + 2 * m + 1], 0, ixMember(KEYS[n + j], ARGV[base + 1]))
    writeBinding(KEYS[i], KEYS[n + m + j], ARGV[base + 1], ids[j], ARGV[base + 3], ARGV[3], ARGV[4], '', '', {})
  end
end
return {'committed', fates}
`;

/** A binding's hash as a CardBinding (its status at `now`); null for an empty hash. */
export function toBinding(h: Record<string, string>, now: number): CardBinding | null {
  if (!h.uid || !h.accountId) return null;
  const expiresAt = h.expiresAt ? Number(h.expiresAt) : undefined;
  const b: CardBinding = {
    uid: h.uid as Uid,
    accountId: h.accountId,
    label: h.label ?? '',
    status: h.status !== 'active' ? 'revoked' : expiresAt !== undefined && expiresAt <= now ? 'expired' : 'active',
    boundAt: Number(h.boundAt),
    boundBy: h.boundBy ?? '',
  };
  if (h.revokedAt) b.revokedAt = Number(h.revokedAt);
  if (h.revokedBy) b.revokedBy = h.revokedBy;
  if (h.revokeReason) b.revokeReason = h.revokeReason as RevokeReason;
  if (h.reissueReason) b.reissueReason = h.reissueReason;
  if (expiresAt !== undefined) b.expiresAt = expiresAt;
  if (h.replaces) b.replaces = h.replaces as Uid;
  if (h.replacedBy) b.replacedBy = h.replacedBy as Uid;
  return b;
}

const byBoundAt = (a: CardBinding, b: CardBinding) => a.boundAt - b.boundAt || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0);

/**
 * Creates the card store over a shared Redis. Binding and revoking are each
 * one atomic Lua script, so two nodes cannot bind one UID to two accounts or
 * push an account past its card limit.
 *
 * @example
 * const cards = createCardStore({ redis, clock: systemClock, maxActivePerAccount: 2 });
 * await cards.bind({ uid: '04:a2:2b:b2:5c:61:80', accountId: a.id, label: 'ЕКП', by: officer.id });
 * await cards.revoke({ uid: '04A22BB25C6180', reason: 'lost', by: officer.id });
 * await cards.bind({ uid: '04A22BB25C6180', accountId: a.id, by: officer.id }); // throws card_revoked
 * await cards.bind({ uid: '04A22BB25C6180', accountId: a.id, by: officer.id, reissueReason: 'card found' }); // re-issued
 */
export function createCardStore(deps: CardStoreDeps): CardStore {
  const { redis, clock, maxActivePerAccount } = deps;
  if (!redis || !clock || typeof clock.now !== 'function') throw new TypeError('createCardStore needs { redis, clock, maxActivePerAccount }');
  if (!Number.isInteger(maxActivePerAccount) || maxActivePerAccount < 1) {
    throw new TypeError('maxActivePerAccount must be a positive integer');
  }
  const bind = defineScript(redis, 'cardauthCardBind', 7, BIND);
  const revoke = defineScript(redis, 'cardauthCardRevoke', 4, REVOKE);
  const replace = defineScript(redis, 'cardauthCardReplace', 8, REPLACE);
  const indexOne = defineScript(redis, 'cardauthCardIndexOne', 4, INDEX_ONE);
  // As many keys as it is given cards and accounts: the key count is the first argument.
  redis.defineCommand('cardauthCardBindMany', { lua: BIND_MANY });
  const bindMany = (redis as unknown as Record<string, (args: (string | number)[]) => Promise<unknown>>).cardauthCardBindMany as (args: (string | number)[]) => Promise<unknown>;

  const binding = (h: Record<string, string>) => toBinding(h, clock.now());
  const read = async (uid: Uid) => binding(await guard(redis.hgetall(cardKey(uid))));
  const currentAccount = async (uid: Uid) => (await guard(redis.hget(cardKey(uid), 'accountId'))) ?? '';

  const listForAccount = async (accountId: string): Promise<CardBinding[]> => {
    if (!isAccountId(accountId)) return [];
    const uids = Object.keys(await guard(redis.hgetall(accountCardsKey(accountId))));
    if (uids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const uid of uids) pipeline.hgetall(cardKey(uid));
    const replies = (await guard(pipeline.exec())) ?? [];
    const out: CardBinding[] = [];
    for (const [err, h] of replies) {
      if (err) throw new CardauthError('unavailable', 'store unavailable', { cause: err });
      const b = binding(h as Record<string, string>);
      // A UID re-issued elsewhere between the two reads belongs to its new account.
      if (b && b.accountId === accountId) out.push(b);
    }
    return out.sort(byBoundAt);
  };

  /** The checked fields of a new binding, as the scripts take them. */
  const newBinding = (input: Omit<BindInput, 'accountId'>) => {
    const expiresAt = input.expiresAt;
    if (expiresAt !== undefined && (!Number.isSafeInteger(expiresAt) || expiresAt <= clock.now())) {
      throw new CardauthError('bad_request', 'the expiry must be a time in the future');
    }
    return {
      uid: normaliseUid(input.uid),
      label: printable(input.label ?? '', 'label', 64, { allowEmpty: true }),
      by: printable(input.by, 'by', 128),
      reissueReason: input.reissueReason === undefined ? '' : printable(input.reissueReason, 'reissueReason', 256),
      expiresAt: expiresAt ?? '',
    };
  };

  /** A refusal of bind or replace as its error. */
  const refusal = (status: unknown): CardauthError => {
    switch (status) {
      case 'account_not_found':
        return new CardauthError('account_not_found', 'no such account');
      case 'card_not_found':
        return new CardauthError('card_not_found', 'no active binding for the card to replace');
      case 'card_bound':
        return new CardauthError('card_bound', 'this card is already bound to an account');
      case 'card_revoked':
        return new CardauthError('card_revoked', 'this card was revoked; give a reason to re-issue it');
      case 'card_limit':
        return new CardauthError('card_limit', `the account already has ${maxActivePerAccount} active card(s)`);
      default:
        return new CardauthError('unavailable', `unexpected card store reply: ${String(status)}`);
    }
  };

  /** A cursor as {@link CardStore.list} answers it: the last index entry read, base64url. */
  const toCursor = (member: string) => Buffer.from(member).toString('base64url');
  const fromCursor = (cursor: string): Buffer => {
    const member = Buffer.from(cursor, 'base64url');
    if (member.length === 0 || member.length > 512 || toCursor(member.toString()) !== cursor || !member.includes(0)) {
      throw new CardauthError('bad_request', 'cursor: not one this list answered');
    }
    return member;
  };

  async function list(q: CardListQuery): Promise<{ cards: CardBinding[]; cursor: string | null }> {
    if (!Number.isInteger(q.limit) || q.limit < 1) throw new TypeError('list: limit must be a positive integer');
    const prefix = q.login ? Buffer.from(foldLogin(q.login)) : Buffer.alloc(0);
    // Lexicographic bounds over bytes: from the prefix (or past the cursor) to the prefix followed by 0xFF,
    // which no UTF-8 text contains, so every login that starts with the prefix is below it.
    let min = q.cursor ? Buffer.concat([Buffer.from('('), fromCursor(q.cursor)]) : prefix.length ? Buffer.concat([Buffer.from('['), prefix]) : Buffer.from('-');
    const max = prefix.length ? Buffer.concat([Buffer.from('('), prefix, Buffer.from([0xff])]) : Buffer.from('+');
    const key = q.status === 'revoked' ? REVOKED_INDEX : INDEX;
    const out: CardBinding[] = [];
    let read = 0;
    while (read < LIST_READ_MAX) {
      const wave = Math.min(Math.max(q.limit - out.length, 50), LIST_READ_MAX - read);
      const members = await guard(redis.zrangebylexBuffer(key, min, max, 'LIMIT', 0, wave));
      read += members.length;
      const pipeline = redis.pipeline();
      for (const m of members) pipeline.hgetall(cardKey(m.subarray(m.indexOf(0) + 1).toString()));
      const replies = members.length ? ((await guard(pipeline.exec())) ?? []) : [];
      for (let i = 0; i < replies.length; i++) {
        const [err, h] = replies[i] as [Error | null, unknown];
        if (err) throw new CardauthError('unavailable', 'store unavailable', { cause: err });
        const b = binding(h as Record<string, string>);
        if (b && (q.status === undefined || b.status === q.status)) out.push(b);
        if (out.length === q.limit) {
          const last = members[i] as Buffer;
          const more = i < members.length - 1 || (await guard(redis.zrangebylexBuffer(key, Buffer.concat([Buffer.from('('), last]), max, 'LIMIT', 0, 1))).length > 0;
          return { cards: out, cursor: more ? toCursor(last.toString()) : null };
        }
      }
      if (members.length < wave) return { cards: out, cursor: null };
      min = Buffer.concat([Buffer.from('('), members[members.length - 1] as Buffer]);
    }
    return { cards: out, cursor: toCursor(min.subarray(1).toString()) };
  }

  async function indexExisting(): Promise<number> {
    if ((await guard(redis.exists(INDEX_BUILT))) === 1) return 0;
    let added = 0;
    let cursor = '0';
    do {
      const [next, keys] = await guard(redis.scan(cursor, 'MATCH', 'card:*', 'COUNT', 1000));
      cursor = next;
      const uids = keys.filter((k) => CARD_KEY.test(k)).map((k) => k.slice('card:'.length));
      const done = await Promise.all(
        uids.map(async (uid) => {
          // A card that moved between the read and the script (a re-issue) is indexed by that write itself.
          const accountId = await currentAccount(uid as Uid);
          if (!isAccountId(accountId)) return false;
          const [status] = await indexOne([cardKey(uid), accountKey(accountId), INDEX, REVOKED_INDEX], [uid, accountId]);
          return status === 'ok';
        }),
      );
      added += done.filter(Boolean).length;
    } while (cursor !== '0');
    await guard(redis.set(INDEX_BUILT, '1'));
    return added;
  }

  return {
    list,
    indexExisting,

    async bind(input) {
      const n = newBinding(input);
      if (!isAccountId(input.accountId)) throw new CardauthError('account_not_found', 'no such account');
      for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
        const previous = await currentAccount(n.uid);
        const [status, ...rest] = await bind(
          [cardKey(n.uid), accountKey(input.accountId), accountCardsKey(input.accountId), accountCardsKey(previous || input.accountId), accountKey(previous || input.accountId), INDEX, REVOKED_INDEX],
          [n.uid, input.accountId, previous, n.label, clock.now(), n.by, n.reissueReason, maxActivePerAccount, n.expiresAt],
        );
        if (status === 'ok') return binding(pairsToRecord(rest)) as CardBinding;
        if (status !== 'retry') throw refusal(status);
      }
      throw new CardauthError('unavailable', 'card binding kept changing; try again');
    },

    async replace(input) {
      const n = newBinding(input);
      const oldUid = normaliseUid(input.oldUid);
      if (oldUid === n.uid) throw new CardauthError('bad_request', 'the new card must differ from the old one');
      for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
        const [accountId, previous] = await Promise.all([currentAccount(oldUid), currentAccount(n.uid)]);
        if (!accountId) throw refusal('card_not_found');
        const [status, old, fresh] = await replace(
          [cardKey(oldUid), cardKey(n.uid), accountKey(accountId), accountCardsKey(accountId), accountCardsKey(previous || accountId), accountKey(previous || accountId), INDEX, REVOKED_INDEX],
          [oldUid, n.uid, accountId, previous, n.label, clock.now(), n.by, n.reissueReason, n.expiresAt],
        );
        if (status === 'ok') {
          return { old: binding(pairsToRecord(old as unknown[])) as CardBinding, binding: binding(pairsToRecord(fresh as unknown[])) as CardBinding };
        }
        if (status !== 'retry') throw refusal(status);
      }
      throw new CardauthError('unavailable', 'card binding kept changing; try again');
    },

    async bindMany(list, opts) {
      const by = printable(opts.by, 'by', 128);
      if (list.length === 0) return { committed: opts.commit, fates: [] };
      const accountIds: string[] = [];
      const number = new Map<string, number>();
      const cardArgs: (string | number)[] = [];
      for (const c of list) {
        if (!isAccountId(c.accountId)) throw new TypeError(`bindMany: ${String(c.accountId)} is not an account id`);
        if (!number.has(c.accountId)) number.set(c.accountId, accountIds.push(c.accountId));
        cardArgs.push(normaliseUid(c.uid), number.get(c.accountId) as number, printable(c.label, 'label', 64, { allowEmpty: true }));
      }
      const keys = [...list.map((c) => cardKey(c.uid)), ...accountIds.map(accountKey), ...accountIds.map(accountCardsKey), INDEX];
      // One array, which ioredis flattens: tens of thousands of spread arguments would overflow the stack.
      const args = [keys.length, ...keys, list.length, accountIds.length, clock.now(), by, maxActivePerAccount, opts.commit ? '1' : '0', ...cardArgs, ...accountIds];
      const reply = await guard(bindMany.call(redis, args));
      const [status, fates] = Array.isArray(reply) ? reply : [];
      if ((status !== 'checked' && status !== 'committed') || !Array.isArray(fates) || fates.length !== list.length) {
        throw new CardauthError('unavailable', 'unexpected reply from Redis to a card import');
      }
      return { committed: status === 'committed', fates: fates.map(String) as ManyFate[] };
    },

    async revoke(input) {
      const uid = normaliseUid(input.uid);
      if (!REVOKE_REASONS.includes(input.reason)) throw new CardauthError('bad_request', `reason must be one of ${REVOKE_REASONS.join(', ')}`);
      const by = printable(input.by, 'by', 128);
      for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
        const accountId = await currentAccount(uid);
        if (!accountId) throw new CardauthError('card_not_found', 'no active binding for this card');
        const [status, ...rest] = await revoke([cardKey(uid), accountCardsKey(accountId), accountKey(accountId), REVOKED_INDEX], [uid, accountId, clock.now(), by, input.reason]);
        if (status === 'ok') return binding(pairsToRecord(rest)) as CardBinding;
        if (status === 'card_not_found') throw new CardauthError('card_not_found', 'no active binding for this card');
        if (status !== 'retry') throw new CardauthError('unavailable', `unexpected revoke reply: ${String(status)}`);
      }
      throw new CardauthError('unavailable', 'card binding kept changing; try again');
    },

    async get(uid) {
      return read(normaliseUid(uid));
    },

    listForAccount,

    async activeForAccount(accountId) {
      return (await listForAccount(accountId)).filter((b) => b.status === 'active');
    },
  };
}
