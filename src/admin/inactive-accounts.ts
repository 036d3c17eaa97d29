import type { Stores } from '../services';
import type { Account } from '../store/accounts';
import { authorize, targetOf } from './permissions';
import { recordChange, type ChangedBy } from './record-change';
import { DAY_MS } from '../days';

/**
 * When an account was last used: its last login, or its creation or last
 * unblock when later (a new account is not "unused" before it had the time).
 *
 * @example
 * lastActivity({ createdAt: 1, lastLogin: { at: 5, workstation: 'РМ-1' } }) // => 5
 */
export function lastActivity(a: Pick<Account, 'createdAt' | 'lastLogin' | 'activeSince'>): number {
  return Math.max(a.createdAt, a.lastLogin?.at ?? 0, a.activeSince ?? 0);
}

/**
 * Blocks the accounts not used for `days` days (ИАФ.1): active ones whose
 * {@link lastActivity} is at least that long ago. Each block is decided again
 * in Redis at that moment (a login on another node meanwhile wins) and
 * audited `account.blocked`, reason `inactive`, with the last activity and
 * the days. Safe on several nodes at once: an account is blocked, and
 * recorded, once. No session needs ending: none outlives its login by
 * CARDAUTH_SESSION_MAX_SEC (at most 7 days, the shortest setting), and the
 * session guard ends any of a blocked account anyway. `dryRun` only lists
 * them. The separation of duties is checked for every account it would
 * block, before any is (a refused one refuses the sweep, audited); the
 * command line and the server's job act as the `system` principal and pass.
 * Run it once requireAuditTrail has passed.
 *
 * @example
 * const { blocked } = await createInactiveAccountBlock(stores)(by, { days: 90, now: clock.now(), dryRun: false });
 */
export function createInactiveAccountBlock(s: Pick<Stores, 'accounts' | 'inactivity' | 'audit'>) {
  return async function blockInactive(
    by: ChangedBy,
    args: { days: number; now: number; dryRun: boolean },
  ): Promise<{ blocked: Array<{ account: Account; lastActivity: number }> }> {
    const cutoff = args.now - args.days * DAY_MS;
    await authorize(s.audit, by, 'account.blocked');
    const unused = (await s.accounts.list()).filter((a) => a.status === 'active' && lastActivity(a) <= cutoff);
    for (const account of unused) await authorize(s.audit, by, 'account.blocked', targetOf(account));
    if (args.dryRun) return { blocked: unused.map((account) => ({ account, lastActivity: lastActivity(account) })) };
    const blocked: Array<{ account: Account; lastActivity: number }> = [];
    for (const account of unused) {
      const r = await s.inactivity.blockIfUnused(account.id, cutoff);
      if (!r.blocked) continue;
      blocked.push({ account: { ...account, status: 'blocked' }, lastActivity: r.lastActivity });
      await recordChange(
        s.audit,
        by,
        {
          type: 'account.blocked',
          outcome: 'success',
          reason: 'inactive',
          subject: { accountId: account.id, login: account.login },
          details: { lastActivity: new Date(r.lastActivity).toISOString(), days: args.days },
        },
        `account ${account.login} (${account.id}) was blocked as unused`,
      );
    }
    return { blocked };
  };
}
