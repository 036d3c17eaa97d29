import type { Uid } from '../contract/uid';
import type { Stores } from '../services';
import { foldLogin, type Account } from '../store/accounts';
import { CardauthError } from '../errors';
import type { CardBinding, CardListQuery, RevokeReason } from '../store/cards';
import { accountByLogin } from './accounts';
import { endSessionsOf } from './end-sessions';
import { authorize, targetOf } from './permissions';
import { recordChange, type ChangedBy, type ChangeRecord } from './record-change';

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
export function createCardAdmin(s: Pick<Stores, 'accounts' | 'cards' | 'sessions' | 'audit' | 'lockout'>) {
  /**
   * Revokes a card: it stops passing the card step at once, and the
   * sessions opened with it end (`card.revoked`, then one `session.ended`
   * each). Safe to repeat: a card already revoked (`already`, with its
   * binding as it was) only has its sessions ended.
   */
  async function revoke(by: ChangedBy, args: { uid: Uid; reason: RevokeReason }): Promise<{ binding: CardBinding; already: boolean; ended: number }> {
    await authorize(s.audit, by, 'card.revoked', undefined, { cardUid: args.uid });
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
      change: {
        type: 'card.revoked',
        outcome: 'success',
        reason: args.reason,
        subject: { accountId: binding.accountId, login: owner?.id === binding.accountId ? owner.login : undefined },
        cardUid: binding.uid,
        details: { before: prior?.status, after: binding.status },
      },
    });
    return { binding, already: false, ended };
  }

  return {
    /**
     * One page of cards with their owners' login and name, by login then UID (the store's
     * index: a page, never a scan of every card); with `uid`, that one card if it matches the
     * rest of the query. A read any admin role may make (the API and the pages let only them in).
     */
    async list(q: CardListQuery & { uid?: Uid | undefined }): Promise<{ cards: CardRow[]; cursor: string | null }> {
      let page: { cards: CardBinding[]; cursor: string | null };
      if (q.uid === undefined) page = await s.cards.list(q);
      else {
        const b = await s.cards.get(q.uid);
        page = { cards: b && (q.status === undefined || b.status === q.status) ? [b] : [], cursor: null };
      }
      const ids = [...new Set(page.cards.map((c) => c.accountId))];
      // Only what a list shows (never the password hash).
      const owners = new Map(
        (await Promise.all(ids.map((id) => s.accounts.get(id)))).flatMap((a) => (a ? [[a.id, { id: a.id, login: a.login, displayName: a.displayName, roles: a.roles, status: a.status }] as const] : [])),
      );
      const rows = page.cards.map((binding) => ({ binding, owner: owners.get(binding.accountId) ?? null }));
      // A UID asked for by login too: only if its owner's login starts with it (folded alike).
      const login = q.uid !== undefined && q.login ? foldLogin(q.login) : '';
      return { cards: login ? rows.filter((r) => r.owner && foldLogin(r.owner.login).startsWith(login)) : rows, cursor: page.cursor };
    },

    /**
     * Clears the card's failed password attempts (its lock, if any: the card scope of the
     * lockout); audited as `card.unlocked` with the card's account, the count and the time the
     * lock had left, `details.before`/`after` the state of the lock. The separation of duties is
     * that of `account unlock`, on the card's account: not one's own, and an account that holds a
     * privileged role only by a `chief_admin`. `card_not_found` for a card never bound;
     * `failures` 0: nothing was counted, nothing changed.
     */
    async unlock(by: ChangedBy, uid: Uid): Promise<{ binding: CardBinding; failures: number }> {
      const binding = await s.cards.get(uid);
      const owner = binding ? await s.accounts.get(binding.accountId) : null;
      if (!binding || !owner) throw new CardauthError('card_not_found', `card ${uid} is not bound to any account`);
      await authorize(s.audit, by, 'card.unlocked', targetOf(owner), { cardUid: binding.uid });
      const { failures, msLeft, locked } = await s.lockout.cardCount(binding.uid);
      if (failures === 0) return { binding, failures };
      await s.lockout.unlockCard(binding.uid);
      await recordChange(
        s.audit,
        by,
        {
          type: 'card.unlocked',
          outcome: 'success',
          subject: { accountId: owner.id, login: owner.login },
          cardUid: binding.uid,
          details: { failures, remainingSec: Math.ceil(msLeft / 1000), before: locked ? 'locked' : 'unlocked', after: 'unlocked' },
        },
        `card ${binding.uid} was unlocked`,
      );
      return { binding, failures };
    },

    /**
     * Binds a card to the account's allow-list; audited as `card.bound`, or
     * `card.reissued` when a revoked card is bound again (which needs
     * `reissueReason`). `reissued` says which.
     */
    async bind(
      by: ChangedBy,
      args: NewCard & { login: string },
    ): Promise<{ account: Account; binding: CardBinding; reissued: boolean }> {
      const account = await accountByLogin(s, args.login);
      await authorize(s.audit, by, 'card.bound', targetOf(account), { cardUid: args.uid });
      const binding = await s.cards.bind({ accountId: account.id, by: by.actor, ...newCard(args) });
      const reissued = binding.reissueReason !== undefined;
      await recordChange(s.audit, by, boundRecord(account, binding), `card ${binding.uid} was bound to ${account.login}`);
      return { account, binding, reissued };
    },

    /**
     * Replaces the account's card `oldUid` by `uid` in one atomic step (the
     * old one revoked as `replaced`, the new one bound; the card limit does
     * not apply), then ends the sessions opened with the old card. Audited as
     * `card.bound` (or `card.reissued`) of the new card with `replaces`, and
     * `card.revoked` (reason `replaced`) of the old one with `replacedBy`.
     */
    async replace(by: ChangedBy, args: NewCard & { oldUid: Uid }): Promise<{ account: Account | null; old: CardBinding; binding: CardBinding; ended: number }> {
      // It takes a card away and binds one to the old card's owner: both checks, before anything changes.
      await authorize(s.audit, by, 'card.revoked', undefined, { cardUid: args.oldUid });
      // The owner's login goes into the records; read before the change (nothing may fail between it and its records).
      const prior = await s.cards.get(args.oldUid);
      const owner = prior ? await s.accounts.get(prior.accountId) : null;
      await authorize(s.audit, by, 'card.bound', owner ? targetOf(owner) : undefined);
      const { old, binding } = await s.cards.replace({ oldUid: args.oldUid, by: by.actor, ...newCard(args) });
      const account = owner?.id === binding.accountId ? owner : null;
      const subject = { accountId: binding.accountId, login: account?.login };
      const done = `card ${old.uid} was replaced by ${binding.uid}`;
      await recordChange(s.audit, by, boundRecord(account ?? { id: binding.accountId }, binding), done);
      const ended = await endSessionsOf(s, by, {
        what: `card ${old.uid}`,
        match: { cardUid: old.uid },
        cause: 'card_revoked',
        change: { type: 'card.revoked', outcome: 'success', reason: 'replaced', subject, cardUid: old.uid, details: { replacedBy: binding.uid, before: prior?.status, after: old.status } },
      });
      return { account, old, binding, ended };
    },

    /**
     * A card reported lost: revoked (reason `lost`) and every session opened
     * with it ended at once, on every node (see {@link revoke}). Named by its
     * UID, or by the account when it has exactly one card that is not revoked
     * (the clinician at the desk rarely knows the UID): none is
     * `card_not_found`, several `bad_request` asking for the UID.
     */
    async lost(by: ChangedBy, args: { uid: Uid } | { login: string }): Promise<{ binding: CardBinding; already: boolean; ended: number }> {
      let uid: Uid;
      if ('uid' in args) uid = args.uid;
      else {
        const account = await accountByLogin(s, args.login);
        const cards = (await s.cards.listForAccount(account.id)).filter((c) => c.status !== 'revoked');
        if (cards.length === 0) throw new CardauthError('card_not_found', `${account.login} has no card that is not revoked`);
        if (cards.length > 1) throw new CardauthError('bad_request', `${account.login} has ${cards.length} cards (${cards.map((c) => c.uid).join(', ')}); name the lost one by its UID`);
        uid = (cards[0] as CardBinding).uid;
      }
      return revoke(by, { uid, reason: 'lost' });
    },

    revoke,
  };
}

export type CardAdmin = ReturnType<typeof createCardAdmin>;

/** A card as the officer's list shows it: the binding and its owner (null: the account is gone). */
export interface CardRow {
  binding: CardBinding;
  owner: Pick<Account, 'id' | 'login' | 'displayName' | 'roles' | 'status'> | null;
}

/** What an officer gives for a card being bound (bind, replace). */
export interface NewCard {
  uid: Uid;
  label?: string | undefined;
  reissueReason?: string | undefined;
  /** ms since epoch; the binding expires then. */
  expiresAt?: number | undefined;
}

/** A NewCard as the store takes it: only the fields given. */
function newCard(c: NewCard) {
  return {
    uid: c.uid,
    ...(c.label !== undefined ? { label: c.label } : {}),
    ...(c.reissueReason !== undefined ? { reissueReason: c.reissueReason } : {}),
    ...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
  };
}

/** The `card.bound` (or `card.reissued`) record of a new binding: its label, re-issue reason, expiry and the card it replaces. */
export function boundRecord(account: Pick<Account, 'id'> & { login?: string }, b: CardBinding): ChangeRecord {
  const reissued = b.reissueReason !== undefined;
  return {
    type: reissued ? 'card.reissued' : 'card.bound',
    outcome: 'success',
    subject: { accountId: account.id, login: account.login },
    cardUid: b.uid,
    details: {
      ...(b.label ? { label: b.label } : {}),
      ...(reissued ? { reissueReason: b.reissueReason as string } : {}),
      ...(b.expiresAt !== undefined ? { expiresAt: new Date(b.expiresAt).toISOString() } : {}),
      ...(b.replaces ? { replaces: b.replaces } : {}),
    },
  };
}
