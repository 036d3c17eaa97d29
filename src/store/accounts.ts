import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { Clock } from '../clock';
import { CardauthError, guard, isCardauthError } from '../errors';
import { defineScript, pairsToRecord, printable, randomHex } from './script';

/**
 * Accounts: who may log in, with which roles, and the PHC hash of their
 * password (never the password).
 *
 * Redis layout (one Redis shared by every server node):
 * - `acct:<id>`: hash, one account. Fields: `id`, `login` (as entered),
 *   `loginKey` (normalised), `displayName`, `roles` (comma-separated),
 *   `status`, `passwordHash`, `passwordChangedAt`, `passwordTemporary` (`1`: set
 *   by an officer, to be changed at the next login), `createdAt`, and after the
 *   first login `lastLoginAt`, `lastLoginWorkstation`; after an unblock
 *   `activeSince`.
 * - `acct:<id>:pwhist`: list, the PHC hashes of the account's earlier
 *   passwords, newest first (never a password), for the history rule.
 * - `acct:by-login`: hash, normalised login → account id. Its HSETNX inside
 *   the create script is what makes logins unique across nodes.
 * - `acct:by-name`: sorted set (all scores 0), for the officer's list filtered by a login or
 *   name prefix in lexicographic order (ZRANGEBYLEX): members `<loginKey>\0<id>` and
 *   `<nameKey>\0<id>` (`nameKey`, the display name folded as a login is, is also a field of
 *   the account's hash). The create script adds both; {@link AccountStore.page} builds it for
 *   accounts made before it (once, marked by `acct:by-name:built`).
 *
 * Accounts are never deleted: an id is never reused (ИАФ.1); block instead.
 */

/** The roles an account can hold. */
export type Role = 'clinician' | 'security_officer' | 'auditor' | 'chief_admin';

/**
 * Every role, in display order.
 *
 * @example
 * ROLES.includes('auditor') // => true
 */
export const ROLES: readonly Role[] = Object.freeze(['clinician', 'security_officer', 'auditor', 'chief_admin'] as const);

/** A blocked account cannot log in; accounts are blocked, never deleted. */
export type AccountStatus = 'active' | 'blocked';

/** Where and when an account last logged in (shown at the next login, УПД.6). */
export interface LoginRecord {
  /** Milliseconds since the epoch, UTC. */
  at: number;
  /** Workstation or agent name the login came from. */
  workstation: string;
}

/** What a login is shown of the account's history (УПД.6): the previous login, and the failures since. */
export interface LoginHistory {
  previous: LoginRecord | null;
  failedAttempts: number;
}

/** One account as stored. */
export interface Account {
  /** Immutable, never reused: `acc_` + 16 lowercase hex digits. */
  id: string;
  /** The login as entered at creation, for display. Uniqueness uses {@link normaliseLogin}. */
  login: string;
  displayName: string;
  roles: Role[];
  status: AccountStatus;
  /** PHC string, e.g. `$argon2id$v=19$m=19456,t=2,p=1$…`. */
  passwordHash: string;
  passwordChangedAt: number;
  /** Set by an officer (account create, reset): it must be changed at the next login. */
  passwordTemporary: boolean;
  createdAt: number;
  lastLogin?: LoginRecord;
  /** When it was last unblocked (ms since epoch), if ever: the count of days unused starts again then. */
  activeSince?: number;
  /** Its logins pass the presence gate whatever its roles (`skud account --gate on`; docs/presence.md). */
  presenceRequired?: true;
}

const ACCOUNT_ID = /^acc_[0-9a-f]{16}$/;

/**
 * True for a well-formed account id. Stores answer "not found" for anything
 * else without asking Redis, so a crafted id can never name another key.
 *
 * @example
 * isAccountId('acc_0123456789abcdef') // => true
 * isAccountId('by-login')             // => false
 */
export function isAccountId(id: unknown): id is string {
  return typeof id === 'string' && ACCOUNT_ID.test(id);
}

/**
 * The Redis key of an account's hash. The card store checks it exists before
 * binding a card.
 *
 * @example
 * accountKey('acc_0123456789abcdef') // => 'acct:acc_0123456789abcdef'
 */
export function accountKey(id: string): string {
  return `acct:${id}`;
}

const LOGIN_INDEX = 'acct:by-login';
const NAME_INDEX = 'acct:by-name';
const NAME_INDEX_BUILT = 'acct:by-name:built';
/** Index entries one page looks at, at most (the PAGE script's work per call). */
const PAGE_BUDGET = 5000;
const MAX_LOGIN = 64;
const MAX_RAW_LOGIN = 256;
/** Control, format (zero-width and the like), surrogate, private-use and unassigned code points. */
const NON_PRINTABLE = /\p{C}/u;

/**
 * The folding that makes two logins the same: NFKC, case folded, trimmed.
 * {@link normaliseLogin} also checks the result; this never throws.
 *
 * @example
 * foldLogin('Ｐｅｔｒｏｖ ') // => 'petrov'
 */
export function foldLogin(login: string): string {
  return login.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim();
}

/**
 * Normalises a login for comparison: NFKC, then case folding (approximated by
 * upper- then lower-casing, so `ß` and `SS` meet), then NFKC again, trimmed.
 * `Иванов`, `иванов` and fullwidth `ｉｖａｎｏｖ`-style input meet on one key.
 *
 * Throws `bad_request` for an empty result, more than 64 code points, or any
 * control or invisible character (`\p{C}`: zero-width joiners and the like
 * would let two logins look the same).
 *
 * @example
 * normaliseLogin('  ИВАНОВ ') // => 'иванов'
 * normaliseLogin('Ｐｅｔｒｏｖ') // => 'petrov'
 */
export function normaliseLogin(login: string): string {
  if (typeof login !== 'string') throw new CardauthError('bad_request', 'login must be a string');
  if (login.length > MAX_RAW_LOGIN) throw new CardauthError('bad_request', `login must be at most ${MAX_LOGIN} characters`);
  const folded = foldLogin(login);
  const length = [...folded].length;
  if (length === 0) throw new CardauthError('bad_request', 'login must not be empty');
  if (length > MAX_LOGIN) throw new CardauthError('bad_request', `login must be at most ${MAX_LOGIN} characters`);
  if (NON_PRINTABLE.test(folded)) throw new CardauthError('bad_request', 'login must not contain control or invisible characters');
  return folded;
}

/** A display name as the list's prefix filter compares it: folded as a login is. */
const nameKey = (displayName: string): string => foldLogin(displayName);

/** The index key an account is listed at for `prefix` (as the PAGE script picks it): its login if that matches, else its name. */
function firstKey(a: Account, prefix: string): string {
  const login = foldLogin(a.login);
  return login.startsWith(prefix) ? login : nameKey(a.displayName);
}

/** A PHC string: `$id[$param=value,...][$salt[$hash]]`, nothing else. */
const PHC = /^\$[a-z0-9-]{1,32}(\$[A-Za-z0-9+/.=,-]*){1,8}$/;

function assertPhc(hash: unknown): asserts hash is string {
  // A programming mistake, not bad input: the caller hashes, this store only keeps the result.
  if (typeof hash !== 'string' || hash.length > 1024 || !PHC.test(hash)) {
    throw new TypeError('passwordHash must be a PHC hash string (never the password itself)');
  }
}

function parseRoles(value: unknown): Role[] {
  if (!Array.isArray(value) || value.length === 0) throw new CardauthError('bad_request', 'roles must be a non-empty list');
  for (const r of value) {
    if (!ROLES.includes(r as Role)) throw new CardauthError('bad_request', `unknown role: ${String(r)}`);
  }
  return ROLES.filter((r) => value.includes(r));
}

function toAccount(h: Record<string, string>): Account | null {
  if (!h.id || !isAccountId(h.id)) return null;
  const account: Account = {
    id: h.id,
    login: h.login ?? '',
    displayName: h.displayName ?? '',
    roles: (h.roles ?? '').split(',').filter((r): r is Role => ROLES.includes(r as Role)),
    status: h.status === 'active' ? 'active' : 'blocked',
    passwordHash: h.passwordHash ?? '',
    passwordChangedAt: Number(h.passwordChangedAt),
    passwordTemporary: h.passwordTemporary === '1',
    createdAt: Number(h.createdAt),
  };
  if (h.lastLoginAt) account.lastLogin = { at: Number(h.lastLoginAt), workstation: h.lastLoginWorkstation ?? '' };
  if (h.activeSince) account.activeSince = Number(h.activeSince);
  if (h.presence === 'required') account.presenceRequired = true;
  return account;
}

// KEYS: acct:<id>, acct:by-login, acct:by-name. ARGV: loginKey, id, nameKey, field, value, ...
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'id_collision'} end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return {'login_taken'} end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], 0, ARGV[1] .. '\\0' .. ARGV[2], 0, ARGV[3] .. '\\0' .. ARGV[2])
return {'ok'}
`;

// KEYS: acct:by-name. ARGV: prefix (folded), role ('' any), status ('' any), after (the last
// member of the page before, '' from the start), limit, budget. Walks the index in order from
// `after` through the members starting with `prefix`, at most `budget` of them, and answers
// {cursor, fields of an account, ...} (limit + 1 accounts when there are more: the caller
// shows `limit`): each account that has the role and status, once: at its login when that
// starts with the prefix (always, with none), else at its name (no string comparison in Lua:
// its order is the locale's, the index's is bytes);
// `cursor` the last member looked at, or '' when the walk reached the end. Like FIND_BY_LOGIN
// it reads the hashes the index names (keys not in KEYS: one Redis, not a Cluster).
const PAGE = `
local prefix, role, status, after = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local limit, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
local lo = after ~= '' and ('(' .. after) or ('[' .. prefix)
local hi = prefix ~= '' and ('(' .. prefix .. '\\255') or '+'
local out = {''}
local seen = 0
while seen < budget do
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], lo, hi, 'LIMIT', 0, math.min(200, budget - seen))
  if #batch == 0 then out[1] = '' return out end
  for _, m in ipairs(batch) do
    seen = seen + 1
    out[1] = m
    local sep = string.find(m, '\\0', 1, true)
    local key, id = string.sub(m, 1, sep - 1), string.sub(m, sep + 1)
    local h = redis.call('HMGET', 'acct:' .. id, 'loginKey', 'nameKey', 'roles', 'status')
    local first = h[1]
    if first and string.sub(first, 1, #prefix) ~= prefix then first = h[2] end
    if h[1] and key == first
      and (role == '' or string.find(',' .. h[3] .. ',', ',' .. role .. ',', 1, true))
      and (status == '' or h[4] == status) then
      out[#out + 1] = redis.call('HGETALL', 'acct:' .. id)
      if #out > limit + 1 then return out end
    end
  end
  if #batch < 200 and seen < budget then out[1] = '' return out end
  lo = '(' .. out[1]
end
return out
`;

// KEYS: acct:<id>. ARGV: at, workstation. Answers the previous login, if any, and the failures
// counted since it (`failedSinceLogin`, see src/policy/lockout.ts), which start again at 0.
const RECORD_LOGIN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'account_not_found'} end
local prev = redis.call('HMGET', KEYS[1], 'lastLoginAt', 'lastLoginWorkstation', 'failedSinceLogin')
redis.call('HSET', KEYS[1], 'lastLoginAt', ARGV[1], 'lastLoginWorkstation', ARGV[2])
redis.call('HDEL', KEYS[1], 'failedSinceLogin')
return {'ok', prev[1] or '', prev[2] or '', prev[3] or '0'}
`;

// KEYS: acct:by-login. ARGV: loginKey. Answers {'ok', id, field, value, ...} of
// the account the index names — one round trip for the login lookup of every
// password step. Unlike the other scripts it reads a key not in KEYS, the hash
// named by the index value (fine on one Redis, not on a Redis Cluster), and
// only for a well-formed account id.
const FIND_BY_LOGIN = `
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id or #id ~= 20 or not string.match(id, '^acc_[0-9a-f]+$') then return {'account_not_found'} end
return {'ok', id, unpack(redis.call('HGETALL', 'acct:' .. id))}
`;

// KEYS: acct:<id>. ARGV: field, value, ... Updates an existing account only.
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'account_not_found'} end
redis.call('HSET', KEYS[1], unpack(ARGV))
return {'ok', unpack(redis.call('HGETALL', KEYS[1]))}
`;

// KEYS: acct:<id>, acct:<id>:pwhist. ARGV: passwordHash, changedAt, temporary ('1' or '0'), keep.
// The hash it replaces goes to the head of the history, which keeps the newest `keep`.
const SET_PASSWORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'account_not_found'} end
local old = redis.call('HGET', KEYS[1], 'passwordHash')
redis.call('HSET', KEYS[1], 'passwordHash', ARGV[1], 'passwordChangedAt', ARGV[2], 'passwordTemporary', ARGV[3])
local keep = tonumber(ARGV[4])
if old and keep > 0 then
  redis.call('LPUSH', KEYS[2], old)
  redis.call('LTRIM', KEYS[2], 0, keep - 1)
elseif keep == 0 then
  redis.call('DEL', KEYS[2])
end
return {'ok', unpack(redis.call('HGETALL', KEYS[1]))}
`;

// KEYS: acct:<id>. ARGV: expected roles, new roles. Compare-and-set, so a role change checked
// against the roles read before it cannot overwrite another change made in between.
const SET_ROLES = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'account_not_found'} end
if redis.call('HGET', KEYS[1], 'roles') ~= ARGV[1] then return {'roles_changed'} end
redis.call('HSET', KEYS[1], 'roles', ARGV[2])
return {'ok', unpack(redis.call('HGETALL', KEYS[1]))}
`;

/** What {@link createAccountStore} needs. */
export interface AccountStoreDeps {
  redis: Redis;
  clock: Clock;
  /** Source of randomness for ids; defaults to node:crypto. */
  randomBytes?: (size: number) => Uint8Array;
}

/** Input to {@link AccountStore.create}. */
export interface NewAccount {
  login: string;
  displayName: string;
  roles: Role[];
  /** PHC string from the password hasher. */
  passwordHash: string;
  /** An officer set it: to be changed at the next login. Default false. */
  passwordTemporary?: boolean;
}

/** What the officer's account list asks for: all of it optional but the page size. */
export interface AccountQuery {
  /** A prefix of the login or of the display name, any case (folded as a login is). */
  prefix?: string | undefined;
  role?: Role | undefined;
  status?: AccountStatus | undefined;
  /** Where the page before ended (its `cursor`). */
  cursor?: string | undefined;
  limit: number;
}

/** A page of the account list; `cursor` null on the last. */
export interface AccountPage {
  accounts: Account[];
  cursor: string | null;
}

/** Accounts over a shared Redis; see {@link createAccountStore}. */
export interface AccountStore {
  /** Creates an account; `login_taken` when its normalised login exists. */
  create(input: NewAccount): Promise<Account>;
  get(id: string): Promise<Account | null>;
  /** Looks up by normalised login; null also for a login no account could have. */
  findByLogin(login: string): Promise<Account | null>;
  /** Every account, sorted by normalised login. */
  list(): Promise<Account[]>;
  /**
   * One page of the accounts whose login or display name starts with `prefix` (any case), with
   * the role and status asked for, in the order of that login or name, each once: at most
   * `limit`, read through the `acct:by-name` index, never every account. A page stops after
   * looking at a few thousand index entries, so a rare role or status may answer fewer than
   * `limit` (even none) with a cursor to go on from. An account created while paging may be
   * missed (it sorts before the cursor) or shown.
   */
  page(q: AccountQuery): Promise<AccountPage>;
  /** Stores this login as the last one and answers the one before it (УПД.6). */
  /**
   * Stores this login as the account's last one; answers the previous one (null the first time)
   * and the failed password attempts and card-locked refusals counted on the account since it.
   */
  recordLogin(id: string, login: LoginRecord): Promise<LoginHistory>;
  setStatus(id: string, status: AccountStatus): Promise<Account>;
  /**
   * Replaces the account's roles (a non-empty list of known roles; `bad_request` otherwise) if
   * they are still `expected` (as read before the change was checked); `roles_changed` if not.
   */
  setRoles(id: string, roles: Role[], expected: readonly Role[]): Promise<Account>;
  /**
   * Replaces the hash and sets `passwordChangedAt` to now; `temporary` (default
   * false) marks it to be changed at the next login. The hash it replaces joins
   * the history, which keeps the newest `keepHistory` (default 0: none).
   */
  setPasswordHash(id: string, passwordHash: string, opts?: { temporary?: boolean; keepHistory?: number }): Promise<Account>;
  /** The hashes of the account's earlier passwords, newest first (see setPasswordHash). */
  passwordHistory(id: string): Promise<string[]>;
  /** Gates (or stops gating) the account's logins by presence, whatever its roles. */
  setPresenceRequired(id: string, required: boolean): Promise<Account>;
}

/**
 * Creates the account store over a shared Redis. Every write is one Lua
 * script, so concurrent nodes cannot create two accounts with one login or
 * lose a last-login record.
 *
 * @example
 * const accounts = createAccountStore({ redis, clock: systemClock });
 * const a = await accounts.create({ login: 'Иванов', displayName: 'Иванов И. И.', roles: ['clinician'], passwordHash });
 * await accounts.findByLogin('иванов'); // => a
 * await accounts.recordLogin(a.id, { at: Date.now(), workstation: 'Кабинет 12' }); // => { previous: null, failedAttempts: 0 } (first login)
 */
export function createAccountStore(deps: AccountStoreDeps): AccountStore {
  const { redis, clock } = deps;
  if (!redis || !clock || typeof clock.now !== 'function') throw new TypeError('createAccountStore needs { redis, clock }');
  const randomBytes = deps.randomBytes ?? cryptoRandomBytes;
  const create = defineScript(redis, 'cardauthAccountCreate', 3, CREATE);
  const pageScript = defineScript(redis, 'cardauthAccountPage', 1, PAGE);
  let indexBuilt: Promise<void> | undefined;

  /**
   * Builds `acct:by-name` for accounts created before it (and their `nameKey` field), once:
   * `acct:by-name:built` marks it done for every node. Safe to run on two nodes at once (it only
   * adds what creates add too); a failure is retried on the next call.
   */
  const buildNameIndex = async (): Promise<void> => {
    if ((await guard(redis.exists(NAME_INDEX_BUILT))) === 1) return;
    const index = await guard(redis.hgetall(LOGIN_INDEX));
    const entries = Object.entries(index).filter(([, id]) => isAccountId(id));
    for (let i = 0; i < entries.length; i += 500) {
      const chunk = entries.slice(i, i + 500);
      const names = await guard(Promise.all(chunk.map(([, id]) => redis.hget(accountKey(id), 'displayName'))));
      const tx = redis.pipeline();
      chunk.forEach(([loginKey, id], k) => {
        const name = names[k];
        if (name === null || name === undefined) return;
        tx.hset(accountKey(id), 'nameKey', nameKey(name));
        tx.zadd(NAME_INDEX, 0, `${loginKey}\0${id}`, 0, `${nameKey(name)}\0${id}`);
      });
      for (const [err] of (await guard(tx.exec())) ?? []) if (err) throw new CardauthError('unavailable', 'store unavailable', { cause: err });
    }
    await guard(redis.set(NAME_INDEX_BUILT, '1'));
  };
  const recordLogin = defineScript(redis, 'cardauthAccountRecordLogin', 1, RECORD_LOGIN);
  const update = defineScript(redis, 'cardauthAccountUpdate', 1, UPDATE);
  const findByLogin = defineScript(redis, 'cardauthAccountFindByLogin', 1, FIND_BY_LOGIN);
  const setPassword = defineScript(redis, 'cardauthAccountSetPassword', 2, SET_PASSWORD);
  const setRoles = defineScript(redis, 'cardauthAccountSetRoles', 1, SET_ROLES);

  const get = async (id: string): Promise<Account | null> => {
    if (!isAccountId(id)) return null;
    return toAccount(await guard(redis.hgetall(accountKey(id))));
  };

  /** Runs a script that changes an existing account and answers `{'ok', field, value, ...}` (or `{'roles_changed'}`: SET_ROLES). */
  const changeExisting = async (id: string, run: (key: string) => Promise<unknown[]>): Promise<Account> => {
    if (!isAccountId(id)) throw new CardauthError('account_not_found', 'no such account');
    const [status, ...rest] = await run(accountKey(id));
    if (status === 'roles_changed') throw new CardauthError('roles_changed', "the account's roles were changed meanwhile; nothing was changed, look again");
    if (status !== 'ok') throw new CardauthError('account_not_found', 'no such account');
    const account = toAccount(pairsToRecord(rest));
    if (!account) throw new CardauthError('unavailable', `account ${id} is unreadable`);
    return account;
  };

  return {
    async create(input) {
      const loginKey = normaliseLogin(input.login);
      const login = input.login.trim();
      const displayName = printable(input.displayName, 'displayName', 128);
      const roles = parseRoles(input.roles);
      assertPhc(input.passwordHash);
      const now = clock.now();
      for (let attempt = 0; attempt < 3; attempt++) {
        const id = `acc_${randomHex(randomBytes, 8)}`;
        const passwordTemporary = input.passwordTemporary === true;
        const account: Account = { id, login, displayName, roles, status: 'active', passwordHash: input.passwordHash, passwordChangedAt: now, passwordTemporary, createdAt: now };
        const [status] = await create(
          [accountKey(id), LOGIN_INDEX, NAME_INDEX],
          [
            loginKey, id, nameKey(displayName),
            'id', id, 'login', login, 'loginKey', loginKey, 'nameKey', nameKey(displayName), 'displayName', displayName, 'roles', roles.join(','),
            'status', 'active', 'passwordHash', input.passwordHash, 'passwordChangedAt', now, 'passwordTemporary', passwordTemporary ? '1' : '0', 'createdAt', now,
          ],
        );
        if (status === 'ok') return account;
        if (status === 'login_taken') throw new CardauthError('login_taken', 'this login is already taken');
      }
      throw new CardauthError('unavailable', 'could not allocate an account id');
    },

    get,

    async findByLogin(login) {
      let loginKey: string;
      try {
        loginKey = normaliseLogin(login);
      } catch (e) {
        if (isCardauthError(e, 'bad_request')) return null;
        throw e;
      }
      const [status, id, ...fields] = await findByLogin([LOGIN_INDEX], [loginKey]);
      if (status !== 'ok' || !isAccountId(id)) return null;
      const account = toAccount(pairsToRecord(fields));
      return account && account.id === id ? account : null;
    },

    async list() {
      const index = await guard(redis.hgetall(LOGIN_INDEX));
      const entries = Object.entries(index).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (entries.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const [, id] of entries) pipeline.hgetall(accountKey(id));
      const replies = (await guard(pipeline.exec())) ?? [];
      const out: Account[] = [];
      for (const [err, h] of replies) {
        if (err) throw new CardauthError('unavailable', 'store unavailable', { cause: err });
        const account = toAccount(h as Record<string, string>);
        if (account) out.push(account);
      }
      return out;
    },

    async page(q) {
      if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > 500) throw new TypeError('page: limit must be 1 to 500');
      const prefix = q.prefix ? foldLogin(q.prefix) : '';
      if (q.role !== undefined && !ROLES.includes(q.role)) throw new CardauthError('bad_request', `unknown role: ${String(q.role)}`);
      indexBuilt ??= buildNameIndex().catch((err: unknown) => {
        indexBuilt = undefined;
        throw err;
      });
      await indexBuilt;
      const [cursor, ...hashes] = await pageScript([NAME_INDEX], [prefix, q.role ?? '', q.status ?? '', q.cursor ?? '', q.limit, PAGE_BUDGET]);
      const accounts: Account[] = [];
      for (const h of hashes) {
        const account = toAccount(pairsToRecord(h as unknown[]));
        if (account) accounts.push(account);
      }
      // One more than the limit came back: the page ends at the last one shown.
      const more = accounts.length > q.limit;
      if (more) accounts.length = q.limit;
      const last = accounts[accounts.length - 1];
      const next = more && last ? `${firstKey(last, prefix)}\0${last.id}` : String(cursor);
      return { accounts, cursor: next === '' ? null : next };
    },

    async recordLogin(id, login) {
      if (!Number.isSafeInteger(login?.at) || login.at < 0) throw new CardauthError('bad_request', 'at must be a time in ms');
      const workstation = printable(login.workstation, 'workstation', 128);
      if (!isAccountId(id)) throw new CardauthError('account_not_found', 'no such account');
      const [status, at, ws, failed] = await recordLogin([accountKey(id)], [login.at, workstation]);
      if (status !== 'ok') throw new CardauthError('account_not_found', 'no such account');
      return { previous: at ? { at: Number(at), workstation: String(ws) } : null, failedAttempts: Number(failed) || 0 };
    },

    async setStatus(id, status) {
      if (status !== 'active' && status !== 'blocked') throw new CardauthError('bad_request', 'status must be active or blocked');
      // An unblock restarts the count of days unused (account-inactivity.ts), or the next sweep would block it again at once.
      return changeExisting(id, (key) => update([key], status === 'active' ? ['status', status, 'activeSince', clock.now()] : ['status', status]));
    },

    async setPresenceRequired(id, required) {
      return changeExisting(id, (key) => update([key], ['presence', required ? 'required' : '']));
    },

    async setRoles(id, roles, expected) {
      const next = parseRoles(roles).join(',');
      return changeExisting(id, (key) => setRoles([key], [expected.join(','), next]));
    },

    async setPasswordHash(id, passwordHash, opts = {}) {
      assertPhc(passwordHash);
      const keep = opts.keepHistory ?? 0;
      if (!Number.isSafeInteger(keep) || keep < 0) throw new TypeError('keepHistory must be a whole number, 0 or more');
      return changeExisting(id, (key) => setPassword([key, `${key}:pwhist`], [passwordHash, clock.now(), opts.temporary ? '1' : '0', keep]));
    },

    async passwordHistory(id) {
      if (!isAccountId(id)) return [];
      return guard(redis.lrange(`${accountKey(id)}:pwhist`, 0, -1));
    },
  };
}
