import { CardauthError, isCardauthError } from '../errors';
import { generatePassword } from '../policy/password-lifecycle';
import { checkPassword } from '../policy/password-policy';
import type { Stores } from '../services';
import type { Account, Role } from '../store/accounts';
import { endSessionsOf } from './end-sessions';
import { recordChange, type ChangedBy } from './record-change';

/**
 * The account with this login (any case), or `account_not_found`.
 *
 * @example
 * const account = await accountByLogin(stores, 'ivanova');
 */
export async function accountByLogin(s: Pick<Stores, 'accounts'>, login: string): Promise<Account> {
  const account = await s.accounts.findByLogin(login);
  if (!account) throw new CardauthError('account_not_found', `no account with login "${login}"`);
  return account;
}

/**
 * An officer's changes to accounts, each with its audit record (and, for a
 * block, the end of the account's sessions) in one place; the command line
 * and the pages only call them. Run them once requireAuditTrail has passed.
 *
 * @example
 * const admin = createAccountAdmin(stores);
 * const { account, ended } = await admin.block(by, { login: 'ivanova', note: 'уволена' });
 */
export function createAccountAdmin(s: Pick<Stores, 'accounts' | 'lockout' | 'sessions' | 'audit' | 'hasher' | 'passwordPolicy' | 'passwords'>) {
  return {
    /**
     * Creates an account (the password checked against the policy and the login and name, stored as
     * an argon2id hash); audited as `account.created`. An officer set the password, so it is
     * temporary: the user changes it at the first login.
     */
    async create(by: ChangedBy, args: { login: string; displayName: string; roles: Role[]; password: string }): Promise<Account> {
      checkPassword(args.password, s.passwordPolicy, args);
      const passwordHash = await s.hasher.hash(args.password);
      const account = await s.accounts.create({ login: args.login, displayName: args.displayName, roles: args.roles, passwordHash, passwordTemporary: true });
      await recordChange(
        s.audit,
        by,
        { type: 'account.created', outcome: 'success', subject: { accountId: account.id, login: account.login }, details: { roles: account.roles.join(',') } },
        `account ${account.id} (${account.login}) was created`,
      );
      return account;
    },

    /**
     * Clears the account's failed password attempts (its lockout, if any);
     * audited as `account.unlocked` with the count and the time the lock had
     * left, as stored. `failures` 0: nothing was counted, nothing changed.
     */
    async unlock(by: ChangedBy, login: string): Promise<{ account: Account; failures: number }> {
      const account = await accountByLogin(s, login);
      // Facts as stored, not judged here: whether that count is a lock is the server's setting.
      const { failures, msLeft } = await s.lockout.accountCount(account.id);
      if (failures === 0) return { account, failures };
      await s.lockout.unlock(account.id);
      await recordChange(
        s.audit,
        by,
        { type: 'account.unlocked', outcome: 'success', subject: { accountId: account.id, login: account.login }, details: { failures, remainingSec: Math.ceil(msLeft / 1000) } },
        `account ${account.id} (${account.login}) was unlocked`,
      );
      return { account, failures };
    },

    /**
     * Blocks the account and ends its open sessions (`account.blocked`, then
     * one `session.ended` each). Safe to repeat: an account already blocked
     * (`already`) only has its sessions ended.
     */
    async block(by: ChangedBy, args: { login: string; note?: string | undefined }): Promise<{ account: Account; already: boolean; ended: number }> {
      const account = await accountByLogin(s, args.login);
      const subject = { accountId: account.id, login: account.login };
      const what = `account ${account.login}`;
      const match = { accountId: account.id };
      if (account.status === 'blocked') {
        return { account, already: true, ended: await endSessionsOf(s, by, { what, match, cause: 'account_blocked' }) };
      }
      await s.accounts.setStatus(account.id, 'blocked');
      const ended = await endSessionsOf(s, by, {
        what,
        match,
        cause: 'account_blocked',
        change: { type: 'account.blocked', outcome: 'success', subject, details: { note: args.note } },
      });
      return { account, already: false, ended };
    },

    /**
     * Gives the account a new one-time password (generated to the profile, answered once, never
     * stored or recorded in clear) that must be changed at the next login, after both factors;
     * audited as `password.reset`. The old password stops working at once; a lockout stays (`unlock`).
     */
    async resetPassword(by: ChangedBy, login: string): Promise<{ account: Account; password: string }> {
      const account = await accountByLogin(s, login);
      for (let tries = 0; ; tries++) {
        const password = generatePassword(s.passwordPolicy);
        try {
          const changed = await s.passwords.set(account, password, { temporary: true });
          await recordChange(
            s.audit,
            by,
            { type: 'password.reset', outcome: 'success', subject: { accountId: account.id, login: account.login }, details: { temporary: true } },
            `the password of account ${account.id} (${account.login}) was reset`,
          );
          return { account: changed, password };
        } catch (err) {
          // A generated password that happens to hold the login or a name: draw again.
          if (!isCardauthError(err, 'password_contains_name') || tries >= 10) throw err;
        }
      }
    },

    /** Unblocks a blocked account; audited as `account.unblocked`. `changed` false: it was not blocked. */
    async unblock(by: ChangedBy, args: { login: string; note?: string | undefined }): Promise<{ account: Account; changed: boolean }> {
      const account = await accountByLogin(s, args.login);
      if (account.status === 'active') return { account, changed: false };
      await s.accounts.setStatus(account.id, 'active');
      await recordChange(
        s.audit,
        by,
        { type: 'account.unblocked', outcome: 'success', subject: { accountId: account.id, login: account.login }, details: { note: args.note } },
        `account ${account.id} (${account.login}) was unblocked`,
      );
      return { account, changed: true };
    },
  };
}

export type AccountAdmin = ReturnType<typeof createAccountAdmin>;
