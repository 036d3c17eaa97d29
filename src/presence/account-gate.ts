import { accountByLogin } from '../admin/accounts';
import { authorize, targetOf } from '../admin/permissions';
import { recordChange, type ChangedBy } from '../admin/record-change';
import type { Stores } from '../services';
import type { Account } from '../store/accounts';

const onOff = (required: boolean | undefined) => (required ? 'on' : 'off');

/**
 * An officer gates one account's logins by presence whatever its roles, or stops
 * (`skud account --gate on|off`): checked against the separation of duties (not one's own
 * account; a privileged one only by a chief_admin) and audited `account.presence_changed`
 * with before and after. Setting what is already set changes and records nothing.
 *
 * @example
 * await createAccountGateAdmin({ accounts, audit }).set(by, { login: 'ivanova', required: true });
 */
export function createAccountGateAdmin(s: Pick<Stores, 'accounts' | 'audit'>) {
  return {
    async set(by: ChangedBy, args: { login: string; required: boolean }): Promise<{ account: Account; changed: boolean }> {
      const account = await accountByLogin(s, args.login);
      await authorize(s.audit, by, 'account.presence_changed', targetOf(account));
      if ((account.presenceRequired === true) === args.required) return { account, changed: false };
      const after = await s.accounts.setPresenceRequired(account.id, args.required);
      await recordChange(
        s.audit,
        by,
        { type: 'account.presence_changed', outcome: 'success', subject: { accountId: account.id, login: account.login }, details: { before: onOff(account.presenceRequired), after: onOff(args.required) } },
        `the presence gate of account ${account.login} was turned ${onOff(args.required)}`,
      );
      return { account: after, changed: true };
    },
  };
}
