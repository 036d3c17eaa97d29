import type { Uid } from '../contract/uid';
import { CardauthError } from '../errors';
import type { Stores } from '../services';
import type { Account } from '../store/accounts';
import type { PendingEnrollment } from '../store/card-enrollments';
import type { CardBinding } from '../store/cards';
import { printable } from '../store/script';
import { authorize, targetOf } from './permissions';
import { recordChange, type ChangedBy, type ChangeRecord } from './record-change';

/** A pending self-enrollment as officers see it: with the account's login and display name. */
export interface PendingView {
  uid: Uid;
  login: string | null;
  displayName: string | null;
  agentId: string;
  workstation: string;
  reader: string;
  requestedAt: string;
  expiresAt: string;
}

/** The request's facts for the audit record of its approval or rejection. */
const requestDetails = (p: PendingEnrollment) => ({
  agentId: p.agentId,
  workstation: p.workstation,
  requestedAt: new Date(p.requestedAt).toISOString(),
});

/**
 * An officer's handling of pending self-enrollments (issue 10 §5): list, approve (the card is
 * bound, with the bind's checks and limits; nobody approves a card for their own account, and
 * only a chief_admin for a privileged one), reject. The command line and the admin API only
 * call these; run the changes once requireAuditTrail has passed.
 *
 * @example
 * const enrollments = createEnrollmentAdmin(stores);
 * await enrollments.approve(by, { uid });
 */
export function createEnrollmentAdmin(s: Pick<Stores, 'accounts' | 'enrollments' | 'audit'>) {
  /** The request and its account (null if gone since), read before any change. */
  const requestOf = async (uid: Uid): Promise<{ pending: PendingEnrollment; account: Account | null }> => {
    const pending = await s.enrollments.get(uid);
    if (!pending) throw new CardauthError('enrollment_not_found', `no pending enrollment for card ${uid}`);
    return { pending, account: await s.accounts.get(pending.accountId) };
  };
  const subjectOf = (p: PendingEnrollment, account: Account | null): ChangeRecord['subject'] => ({ accountId: p.accountId, login: account?.login });

  return {
    /** Every live request, the oldest first, with each account's login and display name. */
    async list(): Promise<PendingView[]> {
      const pending = await s.enrollments.list();
      const accounts = await Promise.all(pending.map((p) => s.accounts.get(p.accountId)));
      return pending.map((p, i) => ({
        uid: p.uid,
        login: accounts[i]?.login ?? null,
        displayName: accounts[i]?.displayName ?? null,
        agentId: p.agentId,
        workstation: p.workstation,
        reader: p.reader,
        requestedAt: new Date(p.requestedAt).toISOString(),
        expiresAt: new Date(p.expiresAt).toISOString(),
      }));
    },

    /** Binds the requested card (audited `card.enrollment_approved`, before `pending`, after `active`). */
    async approve(by: ChangedBy, args: { uid: Uid; label?: string | undefined }): Promise<{ account: Account | null; binding: CardBinding }> {
      const { pending, account } = await requestOf(args.uid);
      await authorize(s.audit, by, 'card.enrollment_approved', account ? targetOf(account) : { accountId: pending.accountId, roles: [] }, { cardUid: args.uid });
      const { binding } = await s.enrollments.approve({ uid: args.uid, by: by.actor, label: args.label });
      await recordChange(
        s.audit,
        by,
        {
          type: 'card.enrollment_approved',
          outcome: 'success',
          subject: subjectOf(pending, account),
          cardUid: binding.uid,
          details: { ...requestDetails(pending), ...(binding.label ? { label: binding.label } : {}), before: 'pending', after: binding.status },
        },
        `card ${binding.uid} was bound to ${account?.login ?? pending.accountId}`,
      );
      return { account, binding };
    },

    /** Drops the request with the officer's note (audited `card.enrollment_rejected`); the card is free again. */
    async reject(by: ChangedBy, args: { uid: Uid; note: string }): Promise<{ account: Account | null; pending: PendingEnrollment }> {
      const note = printable(args.note, 'reason', 256);
      const { account } = await requestOf(args.uid);
      await authorize(s.audit, by, 'card.enrollment_rejected', undefined, { cardUid: args.uid });
      const pending = await s.enrollments.reject(args.uid);
      await recordChange(
        s.audit,
        by,
        {
          type: 'card.enrollment_rejected',
          outcome: 'success',
          subject: subjectOf(pending, account),
          cardUid: pending.uid,
          details: { ...requestDetails(pending), note, before: 'pending', after: 'rejected' },
        },
        `the request for card ${pending.uid} was rejected`,
      );
      return { account, pending };
    },
  };
}

export type EnrollmentAdmin = ReturnType<typeof createEnrollmentAdmin>;
