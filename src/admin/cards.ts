import type { Uid } from '../contract/uid';
import type { Stores } from '../services';
import type { Account } from '../store/accounts';
import type { CardBinding, RevokeReason } from '../store/cards';
import { accountByLogin } from './accounts';
import { endSessionsOf } from './end-sessions';
import { authorize, targetOf } from './permissions';
import { recordChange, type ChangedBy } from './record-change';

/**
 * An officer's changes to cards, each with its audit record (and, for a
 * revocation, the end of the sessions opened with the card) in one place;
 * the command line and the pages only call them. Run them once
 * requireAuditTrail has passed.
 *
 * @example
 * const cards = createCardAdmin(stores);
 * await cards.revoke(by, { uid, reason: 'lost' });
 */
export function createCardAdmin(s: Pick<Stores, 'accounts' | 'cards' | 'sessions' | 'audit'>) {
  return {
    /**
     * Binds a card to the account's allow-list; audited as `card.bound`, or
     * `card.reissued` when a revoked card is bound again (which needs
     * `reissueReason`). `reissued` says which.
     */
    async bind(
      by: ChangedBy,
      args: { login: string; uid: Uid; label?: string | undefined; reissueReason?: string | undefined },
    ): Promise<{ account: Account; binding: CardBinding; reissued: boolean }> {
      const account = await accountByLogin(s, args.login);
      await authorize(s.audit, by, 'card.bound', targetOf(account));
      const binding = await s.cards.bind({
        uid: args.uid,
        accountId: account.id,
        by: by.actor,
        ...(args.label !== undefined ? { label: args.label } : {}),
        ...(args.reissueReason !== undefined ? { reissueReason: args.reissueReason } : {}),
      });
      const reissued = binding.reissueReason !== undefined;
      await recordChange(
        s.audit,
        by,
        {
          type: reissued ? 'card.reissued' : 'card.bound',
          outcome: 'success',
          subject: { accountId: account.id, login: account.login },
          cardUid: binding.uid,
          details: { ...(binding.label ? { label: binding.label } : {}), ...(reissued ? { reissueReason: binding.reissueReason as string } : {}) },
        },
        `card ${binding.uid} was bound to ${account.login}`,
      );
      return { account, binding, reissued };
    },

    /**
     * Revokes a card: it stops passing the card step at once, and the
     * sessions opened with it end (`card.revoked`, then one `session.ended`
     * each). Safe to repeat: a card already revoked (`already`, with its
     * binding as it was) only has its sessions ended.
     */
    async revoke(by: ChangedBy, args: { uid: Uid; reason: RevokeReason }): Promise<{ binding: CardBinding; already: boolean; ended: number }> {
      await authorize(s.audit, by, 'card.revoked');
      const prior = await s.cards.get(args.uid);
      if (prior?.status === 'revoked') {
        // Already revoked (perhaps by a run that failed before its sessions were ended): end them now.
        const ended = await endSessionsOf(s, by, { what: `card ${prior.uid}`, match: { cardUid: prior.uid }, cause: 'card_revoked' });
        return { binding: prior, already: true, ended };
      }
      // The owner's login goes into the record too, so an auditor filtering by login sees the card's
      // whole story. Read before the change: nothing may fail between the change and its record.
      const owner = prior ? await s.accounts.get(prior.accountId) : null;
      const binding = await s.cards.revoke({ uid: args.uid, reason: args.reason, by: by.actor });
      const ended = await endSessionsOf(s, by, {
        what: `card ${binding.uid}`,
        match: { cardUid: binding.uid },
        cause: 'card_revoked',
        change: { type: 'card.revoked', outcome: 'success', reason: args.reason, subject: { accountId: binding.accountId, login: owner?.id === binding.accountId ? owner.login : undefined }, cardUid: binding.uid },
      });
      return { binding, already: false, ended };
    },
  };
}

export type CardAdmin = ReturnType<typeof createCardAdmin>;
