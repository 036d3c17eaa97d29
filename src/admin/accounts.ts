import { CardauthError, isCardauthError } from '../errors';
import { generatePassword } from '../policy/password-lifecycle';
import { checkPassword } from '../policy/password-policy';
import type { Stores } from '../services';
import { ROLES, type Account, type AccountQuery, type Role } from '../store/accounts';
import { accountView, type AccountView } from './account-view';
import { endSessionsOf } from './end-sessions';
import { authorize, targetOf } from './permissions';
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
 * Runs `use` with a password generated to the profile, drawing again (up to ten times) when
 * the draw happens to hold the login or a name (`password_contains_name`).
 */
async function withGeneratedPassword<T>(policy: Stores['passwordPolicy'], use: (password: string) => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await use(generatePassword(policy));
    } catch (err) {
      if (!isCardauthError(err, 'password_contains_name') || tries >= 10) throw err;
    }
  }
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
  const admin = {
    /**
     * One page of the account list, filtered on the server (a login or display-name prefix, a
     * role, a status) through the store's index, as shown (never a password hash). A read: the
     * caller lets only admin roles in.
     */
    async list(q: AccountQuery): Promise<{ accounts: AccountView[]; cursor: string | null }> {
      const page = await s.accounts.page(q);
      return { accounts: page.accounts.map(accountView), cursor: page.cursor };
    },

    /** One account as shown, with its failed password attempts as stored now and the time their count has left (a read). */
    async show(login: string): Promise<{ account: AccountView; failures: number; msLeft: number }> {
      const account = await accountByLogin(s, login);
      return { account: accountView(account), ...(await s.lockout.accountCount(account.id)) };
    },

    /**
     * Creates an account (the password checked against the policy and the login and name, stored as
     * an argon2id hash); audited as `account.created`. An officer set the password, so it is
     * temporary: the user changes it at the first login.
     */
    async create(by: ChangedBy, args: { login: string; displayName: string; roles: Role[]; password: string }): Promise<Account> {
      await authorize(s.audit, by, 'account.created', { login: args.login, roles: [], newRoles: args.roles });
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
     * {@link create} with a one-time password generated to the profile (as a reset makes it),
     * answered once and never stored or recorded in clear: the workbench's and the API's create.
     */
    async createWithTemporaryPassword(by: ChangedBy, args: { login: string; displayName: string; roles: Role[] }): Promise<{ account: Account; password: string }> {
      return withGeneratedPassword(s.passwordPolicy, async (password) => ({ account: await admin.create(by, { ...args, password }), password }));
    },

    /**
     * Clears the account's failed password attempts (its lockout, if any);
     * audited as `account.unlocked` with the count and the time the lock had
     * left, as stored (`details.before`/`after`: the count). An account that holds a privileged
     * role only a `chief_admin` unlocks (permissions.ts). `failures` 0: nothing was counted, nothing changed.
     */
    async unlock(by: ChangedBy, login: string): Promise<{ account: Account; failures: number }> {
      const account = await accountByLogin(s, login);
      await authorize(s.audit, by, 'account.unlocked', targetOf(account));
      // Facts as stored, not judged here: whether that count is a lock is the server's setting.
      const { failures, msLeft } = await s.lockout.accountCount(account.id);
      if (failures === 0) return { account, failures };
      await s.lockout.unlock(account.id);
      await recordChange(
        s.audit,
        by,
        { type: 'account.unlocked', outcome: 'success', subject: { accountId: account.id, login: account.login }, details: { failures, remainingSec: Math.ceil(msLeft / 1000), before: String(failures), after: '0' } },
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
      await authorize(s.audit, by, 'account.blocked', targetOf(account));
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
        change: { type: 'account.blocked', outcome: 'success', subject, details: { note: args.note, before: 'active', after: 'blocked' } },
      });
      return { account, already: false, ended };
    },

    /**
     * Gives the account a new one-time password (generated to the profile, answered once, never
     * stored or recorded in clear) that must be changed at the next login, after both factors;
     * audited as `password.reset`. The old password stops working at once; a lockout stays (`unlock`).
     */
    async resetPassword(by: ChangedBy, login: string): Promise<{ account: Account; password: string; ended: number }> {
      const account = await accountByLogin(s, login);
      await authorize(s.audit, by, 'password.reset', targetOf(account));
      return withGeneratedPassword(s.passwordPolicy, async (password) => {
        const changed = await s.passwords.set(account, password, { temporary: true });
        // A reset answers a suspected compromise: the account's open sessions end with it
        // (`password.reset`, then one `session.ended` each, cause `password_reset`).
        const ended = await endSessionsOf(s, by, {
          what: `account ${account.login}`,
          match: { accountId: account.id },
          cause: 'password_reset',
          change: { type: 'password.reset', outcome: 'success', subject: { accountId: account.id, login: account.login }, details: { temporary: true } },
        });
        return { account: changed, password, ended };
      });
    },

    /** Unblocks a blocked account; audited as `account.unblocked`. `changed` false: it was not blocked. */
    async unblock(by: ChangedBy, args: { login: string; note?: string | undefined }): Promise<{ account: Account; changed: boolean }> {
      const account = await accountByLogin(s, args.login);
      await authorize(s.audit, by, 'account.unblocked', targetOf(account));
      if (account.status === 'active') return { account, changed: false };
      await s.accounts.setStatus(account.id, 'active');
      await recordChange(
        s.audit,
        by,
        { type: 'account.unblocked', outcome: 'success', subject: { accountId: account.id, login: account.login }, details: { note: args.note, before: 'blocked', after: 'active' } },
        `account ${account.id} (${account.login}) was unblocked`,
      );
      return { account, changed: true };
    },

    /**
     * Changes the account's roles: `set` replaces them, or `add` and `remove` edit them. The
     * account's open sessions end (they carry the roles they opened with, which an MIS reads
     * through forward-auth and OpenID), so the new roles hold from its next login:
     * `account.role_changed` with `before` and `after` (comma-separated, in role order), then one
     * `session.ended` (cause `roles_changed`) each. Safe to repeat: roles already so
     * (`changed` false) only have the sessions ended, nothing else recorded.
     */
    async changeRoles(
      by: ChangedBy,
      args: { login: string; set?: readonly Role[] | undefined; add?: readonly Role[] | undefined; remove?: readonly Role[] | undefined },
    ): Promise<{ account: Account; before: Role[]; changed: boolean; ended: number }> {
      if (args.set === undefined && args.add === undefined && args.remove === undefined) throw new TypeError('changeRoles needs set, or add and/or remove');
      if (args.set !== undefined && (args.add !== undefined || args.remove !== undefined)) throw new CardauthError('bad_request', 'give either the roles to set, or those to add and remove');
      const account = await accountByLogin(s, args.login);
      const before = account.roles;
      const wanted = args.set ?? [...before, ...(args.add ?? [])].filter((r) => !(args.remove ?? []).includes(r));
      const after = ROLES.filter((r) => wanted.includes(r));
      if (after.length === 0) throw new CardauthError('bad_request', 'an account keeps at least one role; block it instead');
      await authorize(s.audit, by, 'account.role_changed', { ...targetOf(account), newRoles: after });
      const ends = { what: `account ${account.login}`, match: { accountId: account.id }, cause: 'roles_changed' as const };
      if (after.join(',') === before.join(',')) return { account, before, changed: false, ended: await endSessionsOf(s, by, ends) };
      const changed = await s.accounts.setRoles(account.id, after, before);
      const ended = await endSessionsOf(s, by, {
        ...ends,
        change: { type: 'account.role_changed', outcome: 'success', subject: { accountId: account.id, login: account.login }, details: { before: before.join(','), after: changed.roles.join(',') } },
      });
      return { account: changed, before, changed: true, ended };
    },
  };
  return admin;
}

export type AccountAdmin = ReturnType<typeof createAccountAdmin>;
