import type { AuditEventInput, AuditSink } from '../audit/record';
import type { Uid } from '../contract/uid';
import { CardauthError } from '../errors';
import type { RequestSource } from '../policy/lockout';
import type { PasswordHasher } from '../policy/password-hasher';
import type { EnrollmentStore } from '../store/card-enrollments';
import { CardRejectedError } from './agent-jws';
import { cardAudit, type CardStepResult } from './card-step';
import type { IpLimit } from './ip-limit';
import { AccountLockedError, LoginFailedError, type LoginAccount, type PasswordPassed } from './password-step';

/** An unknown card read at an approved agent's reader: what a self-enrollment would ask for. */
export type EnrollmentCandidate = Omit<CardStepResult, 'accountId'>;

/**
 * The candidate a card step's refusal names: an unknown card (bound to nobody, never revoked)
 * whose refusal used up a fresh nonce of this session, so a real card at an approved agent's
 * reader now. Null for any other refusal.
 *
 * @example
 * const candidate = enrollmentCandidate(err, clock.now()); // after cardStep threw
 */
export function enrollmentCandidate(err: unknown, at: number): EnrollmentCandidate | null {
  if (!(err instanceof CardRejectedError) || err.reason !== 'unknown_card') return null;
  const { uid, agentId, workstation, reader, fresh } = err.detail;
  if (!fresh || !uid || !agentId || workstation === undefined) return null;
  return { uid: uid as Uid, agentId, workstation, reader: reader ?? '', at };
}

/** The answer to a self-enrollment that made a pending request: no session, an officer must approve. */
export class EnrollmentPendingError extends CardauthError {
  constructor() {
    super('enrollment_pending', 'the card is waiting for approval: show it to a security officer at the desk');
  }
}

export interface SelfEnrollDeps {
  accounts: { findByLogin(login: string): Promise<LoginAccount | null> };
  cards: { activeForAccount(accountId: string): Promise<unknown[]> };
  enrollments: Pick<EnrollmentStore, 'request'>;
  /** The login's password step (createPasswordStep): the lockout, the verify and its records. */
  passwordStep: (input: { card: CardStepResult; login: string; password: string; source: RequestSource; sessionId: string; oneShot?: boolean; account?: Promise<LoginAccount | null> }) => Promise<PasswordPassed>;
  hasher: Pick<PasswordHasher, 'dummyVerify'>;
  ipLimit: Pick<IpLimit, 'check' | 'recordFailure'>;
  audit: AuditSink;
}

/**
 * Self-enrollment (CARDAUTH_SELF_ENROLLMENT): after an unknown card, the login and password of
 * an account with no active card make a pending request for that card, answered with
 * {@link EnrollmentPendingError} (202); never a session. Every other outcome is the generic
 * LoginFailedError, whichever check failed:
 * - an unknown account, or one with an active card: the password is not checked (a dummy
 *   argon2 verify, the same cost), the attempt counts against the client IP only, so an unknown
 *   card cannot be used to lock out a card holder; audited `card.enrollment_requested` failure;
 * - otherwise the login's own password step runs with the candidate card as if bound to the
 *   account: its lockout (a wrong password counts against the account and the IP, a locked
 *   account answers the generic failure here, since no card proves who is asking), its
 *   `password.checked` record;
 * - the password right, the request is written atomically (see EnrollmentStore.request): a card
 *   bound since, a card another account asked for first, or a card bound to the account since
 *   is refused, audited `card.enrollment_requested` with that reason.
 * Store failures propagate (503, fail closed). Nothing here stores or records the password.
 *
 * @example
 * const selfEnroll = createSelfEnroll({ accounts, cards, enrollments, passwordStep, hasher, ipLimit, audit });
 * await selfEnroll({ candidate, login, password, source, sessionId, stored: true }); // throws enrollment_pending
 */
export function createSelfEnroll(deps: SelfEnrollDeps) {
  return async function selfEnroll(input: {
    candidate: EnrollmentCandidate;
    login: string;
    password: string;
    source: RequestSource;
    sessionId: string;
    /** The candidate was stored by `POST /auth/card` (its password attempts count, as a card step's); else one shot. */
    stored: boolean;
  }): Promise<never> {
    const { candidate, login, password, source, sessionId } = input;
    const requested = (outcome: 'success' | 'failure', accountId: string | undefined, extra: Partial<AuditEventInput>): AuditEventInput => ({
      type: 'card.enrollment_requested',
      outcome,
      subject: { ...(accountId ? { accountId } : {}), login },
      ...cardAudit(candidate, { ...source, workstation: candidate.workstation }),
      sessionId,
      ...extra,
    });

    const account = await deps.accounts.findByLogin(login);
    const hasCard = account ? (await deps.cards.activeForAccount(account.id)).length > 0 : false;
    if (!account || hasCard) {
      await deps.ipLimit.check('password.checked', source, sessionId);
      await deps.hasher.dummyVerify(password);
      await deps.ipLimit.recordFailure(source.ip);
      await deps.audit.append(requested('failure', account?.id, { reason: account ? 'has_card' : 'unknown_account' }));
      throw new LoginFailedError();
    }

    let passed: PasswordPassed;
    try {
      passed = await deps.passwordStep({ card: { ...candidate, accountId: account.id }, login, password, source, sessionId, oneShot: !input.stored, account: Promise.resolve(account) });
    } catch (err) {
      if (err instanceof AccountLockedError) throw new LoginFailedError();
      throw err;
    }
    await deps.audit.append(passed.record);
    const { uid, agentId, workstation, reader } = candidate;
    const made = await deps.enrollments.request({ uid, accountId: account.id, agentId, workstation, reader });
    if ('refused' in made) {
      // An account gone since is an unknown one (accounts are never deleted; a store's answer all the same).
      await deps.audit.append(requested('failure', account.id, { reason: made.refused === 'account_not_found' ? 'unknown_account' : made.refused }));
      throw new LoginFailedError();
    }
    await deps.audit.append(requested('success', account.id, { details: { expiresAt: new Date(made.pending.expiresAt).toISOString() } }));
    throw new EnrollmentPendingError();
  };
}
