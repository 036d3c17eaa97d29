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

// KEYS: acct:<id>, acct:by-login. ARGV: loginKey, id, field, value, ...
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'id_collision'} end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return {'login_taken'} end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return {'ok'}
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

/** Accounts over a shared Redis; see {@link createAccountStore}. */
export interface AccountStore {
  /** Creates an account; `login_taken` when its normalised login exists. */
  create(input: NewAccount): Promise<Account>;
  get(id: string): Promise<Account | null>;
  /** Looks up by normalised login; null also for a login no account could have. */
  findByLogin(login: string): Promise<Account | null>;
  /** Every account, sorted by normalised login. */
  list(): Promise<Account[]>;
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
  const create = defineScript(redis, 'cardauthAccountCreate', 2, CREATE);
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
          [accountKey(id), LOGIN_INDEX],
          [
            loginKey, id,
            'id', id, 'login', login, 'loginKey', loginKey, 'displayName', displayName, 'roles', roles.join(','),
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
