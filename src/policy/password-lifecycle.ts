import { randomInt } from 'node:crypto';
import { CardauthError } from '../errors';
import type { Account, AccountStore } from '../store/accounts';
import type { PasswordHasher } from './password-hasher';
import { checkPassword, type PasswordPolicyConfig } from './password-policy';
import { DAY_MS } from '../days';

/** The profile's password rules (src/policy-profiles.ts), as configured. */
export interface PasswordRules extends PasswordPolicyConfig {
  /** A password older than this must be changed at the next login. */
  maxAgeDays: number;
  /** A new password may not be any of the last this many (the current one always counts). */
  history: number;
}

/** Why a login must change its password before its session opens. */
export type PasswordChangeReason = 'temporary' | 'expired';

/**
 * Whether the password must be changed before a session opens: an officer
 * set it (`temporary`), or it is older than the profile allows (`expired`).
 *
 * @example
 * passwordChangeDue({ passwordTemporary: false, passwordChangedAt: Date.parse('2026-01-01') }, Date.parse('2026-04-02'), 90) // => 'expired'
 */
export function passwordChangeDue(account: Partial<Pick<Account, 'passwordTemporary' | 'passwordChangedAt'>>, now: number, maxAgeDays: number): PasswordChangeReason | null {
  if (account.passwordTemporary) return 'temporary';
  // An unknown or unreadable change time counts as expired: fail closed.
  if (!(now - (account.passwordChangedAt ?? NaN) <= maxAgeDays * DAY_MS)) return 'expired';
  return null;
}

/**
 * Sets passwords by the profile's rules, in one place for the user's own
 * change and an officer's reset: the strength and the login and name rule
 * (checkPassword), then the history, then the argon2id hash; the hash it
 * replaces joins the history (hashes only, never a password).
 *
 * @example
 * const passwords = createPasswordSetter({ accounts, hasher, rules });
 * await passwords.set(account, 'Новый-пароль-2026!'); // password_weak, password_contains_name or password_reused, or the account
 */
export function createPasswordSetter(deps: { accounts: Pick<AccountStore, 'setPasswordHash' | 'passwordHistory'>; hasher: Pick<PasswordHasher, 'hash' | 'verify'>; rules: PasswordRules }) {
  const { accounts, hasher, rules } = deps;
  /** Earlier hashes kept besides the current one. */
  const keepHistory = Math.max(rules.history - 1, 0);
  return {
    /**
     * Sets `password` for `account`. A `temporary` one (an officer's, generated) must be changed at
     * the next login; it skips the history, which a generated password cannot repeat.
     */
    async set(account: Pick<Account, 'id' | 'login' | 'displayName' | 'passwordHash'>, password: string, opts: { temporary?: boolean } = {}): Promise<Account> {
      checkPassword(password, rules, account);
      if (!opts.temporary) {
        const earlier = [account.passwordHash, ...(await accounts.passwordHistory(account.id)).slice(0, keepHistory)];
        const reused = await Promise.all(earlier.map((h) => hasher.verify(h, password)));
        if (reused.includes(true)) {
          throw new CardauthError('password_reused', `choose a password that is not one of your last ${Math.max(rules.history, 1)}`);
        }
      }
      const hash = await hasher.hash(password);
      return accounts.setPasswordHash(account.id, hash, { temporary: opts.temporary === true, keepHistory });
    },
  };
}

export type PasswordSetter = ReturnType<typeof createPasswordSetter>;

/** Character classes for generated passwords, without look-alikes (0/O, 1/l/I), each with its alphabet size. */
const GENERATED: ReadonlyArray<[string, number]> = [
  ['abcdefghijkmnpqrstuvwxyz', 26],
  ['ABCDEFGHJKLMNPQRSTUVWXYZ', 26],
  ['23456789', 10],
  ['-_!@#%+=?*', 33],
  ['абвгдежзиклмнпрстуфхцчшэюя', 33],
  ['АБВГДЕЖЗИКЛМНПРСТУФХЦЧШЭЮЯ', 33],
];

/**
 * A one-time password an officer hands over (`account reset-password`): at
 * least 16 characters and the profile's length, drawn from enough classes for
 * its alphabet (Latin and digits and punctuation first, Cyrillic only when
 * the profile needs more), each class used at least once. From node:crypto.
 *
 * @example
 * generatePassword({ minLength: 12, minAlphabet: 70 }) // e.g. 'q7M-c%ZkP2w@tRn8'
 */
export function generatePassword(rules: PasswordPolicyConfig, pick: (n: number) => number = randomInt): string {
  const classes: string[] = [];
  let size = 0;
  for (const [chars, n] of GENERATED) {
    if (size >= rules.minAlphabet) break;
    classes.push(chars);
    size += n;
  }
  const length = Math.max(rules.minLength, 16);
  const all = classes.join('');
  const out = [...classes.map((c) => c[pick(c.length)] as string), ...Array.from({ length: length - classes.length }, () => all[pick(all.length)] as string)];
  // Fisher–Yates, so the classes' first characters are not always in front.
  for (let i = out.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [out[i], out[j]] = [out[j] as string, out[i] as string];
  }
  return out.join('');
}
