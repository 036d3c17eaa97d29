import type { AuditEventInput, AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import type { Lockout } from '../policy/lockout';
import type { PasswordHasher } from '../policy/password-hasher';
import type { RequestSource } from '../policy/lockout';
import { cardAudit, type CardStepResult } from './card-step';
import type { IpLimit } from './ip-limit';

/** The account fields the password step reads. */
export interface LoginAccount {
  id: string;
  login: string;
  displayName: string;
  roles: string[];
  status: 'active' | 'blocked';
  passwordHash: string;
  /** When the password was set, ms (its age is checked against the profile after both factors; unknown counts as expired). */
  passwordChangedAt?: number;
  /** Set by an officer: changed at the next login. */
  passwordTemporary?: boolean;
  /** Set by an officer: this account's logins pass the presence gate whatever its roles (docs/presence.md). */
  presenceRequired?: boolean;
}

/**
 * A password step that passed: the account, and its `password.checked` success record, which
 * the session opener appends in one batch with `session.created` (see createSessionOpener).
 */
export interface PasswordPassed {
  account: LoginAccount;
  record: AuditEventInput;
}

/** A refusal that tells the client nothing about which factor failed. */
export class LoginFailedError extends CardauthError {
  constructor() {
    super('login_failed', 'login failed');
  }
}

/** The card's account is locked; shown only after a valid card step. */
export class AccountLockedError extends CardauthError {
  declare readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super('locked', 'account locked', { retryAfterMs });
  }
}

/** The session already has a password attempt in flight: one at a time. */
export class AttemptInProgressError extends CardauthError {
  constructor() {
    super('attempt_in_progress', 'a password attempt is already running in this session; wait for its answer');
  }
}

/** The stored card step's password attempts are used up: the card must be presented again (the strategy audits it). */
export class CardStepUsedUpError extends CardauthError {
  constructor() {
    super('card_step_required', 'present the card again');
  }
}

export interface PasswordStepDeps {
  accounts: { findByLogin(login: string): Promise<LoginAccount | null> };
  hasher: Pick<PasswordHasher, 'verify' | 'dummyVerify'>;
  lockout: Pick<Lockout, 'begin' | 'end'>;
  /** An IP whose login budget is spent: refused, audited once per period. */
  ipLimit: Pick<IpLimit, 'limited'>;
  /** Single-use keys across nodes (SET NX with a TTL): a locked account's refusal is audited once per lock. */
  claimOnce: (key: string, ttlSec: number) => Promise<boolean>;
  audit: AuditSink;
}

/**
 * The password step, after a passed card step, in this order:
 * 1. one attempt is taken, atomically, from the account of the card and the
 *    client IP (and from the stored card step, unless `oneShot`), before the
 *    password is looked at; refused when a budget is spent, when the card
 *    step's attempts are used up (`card_step_required`), or when this session
 *    already has an attempt in flight (`attempt_in_progress`, unaudited:
 *    nothing was checked); a spent budget's refusal is audited once per
 *    account (or IP) and lock period;
 * 2. the login must name the card's account, active: otherwise a dummy
 *    argon2 verify and the same failure as a wrong password;
 * 3. argon2id verify;
 * 4. the attempt ends: a success gives it back and clears the account's
 *    failures (a store failing before any verdict gives it back too); a failure that took the
 *    account's last attempt records `account.locked`, one that took the card's
 *    last (CARDAUTH_CARD_LOCKOUT_ATTEMPTS) `card.locked`. `password.checked`
 *    records every outcome: a refusal here, a success with the session it
 *    opens (the step answers its record, the session opener appends it with
 *    `session.created`, one audit write: neither is stored without the other
 *    being sent with it, and no session is saved without both).
 *
 * @example
 * const passwordStep = createPasswordStep({ accounts, hasher, lockout, ipLimit, claimOnce, audit });
 * const { account, record } = await passwordStep({ card, login, password, source, sessionId });
 */
export function createPasswordStep(deps: PasswordStepDeps) {
  return async function passwordStep(input: {
    card: CardStepResult;
    login: string;
    password: string;
    source: RequestSource;
    sessionId: string;
    /** The card step ran in this same request (`POST /auth/login`): it has no stored attempts to count. */
    oneShot?: boolean;
    /** The account `login` names, already being read (a one-shot login reads it alongside its card step); read here otherwise. */
    account?: Promise<LoginAccount | null>;
  }): Promise<PasswordPassed> {
    const { card, login, password, source, sessionId } = input;
    const subject = { accountId: card.accountId, cardUid: card.uid, ip: source.ip, sessionId, ...(input.oneShot ? {} : { cardStepAt: card.at }) };
    const checked = (outcome: 'success' | 'failure', reason?: string): AuditEventInput => ({
      type: 'password.checked',
      outcome,
      ...(reason ? { reason } : {}),
      subject: { accountId: card.accountId, login },
      ...cardAudit(card, source),
      sessionId,
    });
    const record = (outcome: 'failure', reason: string) => deps.audit.append(checked(outcome, reason));

    const start = await deps.lockout.begin(subject);
    if (!start.ok) {
      if (start.refused === 'busy') throw new AttemptInProgressError();
      // The strategy records it, as a password with no usable card step.
      if (start.refused === 'card_step_used_up') throw new CardStepUsedUpError();
      if (start.refused === 'ip') return deps.ipLimit.limited('password.checked', source, sessionId, start.retryAfterMs);
      // Refused before anything was checked: recorded once per account (or card) and lock, so a
      // client looping on a locked account cannot grow the audit trail without bound.
      const lockSec = Math.max(1, Math.ceil(start.retryAfterMs / 1000));
      // A locked card (it locked since its card step passed) fails like a wrong password.
      if (start.refused === 'card') {
        if (await deps.claimOnce(`lkc:${card.uid}`, lockSec)) await record('failure', 'card_locked');
        throw new LoginFailedError();
      }
      if (await deps.claimOnce(`lkd:${card.accountId}`, lockSec)) await record('failure', 'locked');
      throw new AccountLockedError(start.retryAfterMs);
    }

    let account: LoginAccount | null;
    let reason: string | undefined;
    let ok: boolean;
    try {
      account = await (input.account ?? deps.accounts.findByLogin(login));
      if (!account) reason = 'unknown_account';
      else if (account.id !== card.accountId) reason = 'card_mismatch';
      else if (account.status !== 'active') reason = 'account_blocked';
      ok = reason === undefined && account ? await deps.hasher.verify(account.passwordHash, password) : await deps.hasher.dummyVerify(password);
    } catch (err) {
      // Nothing was judged (a store or the hasher failed): the attempt goes back.
      await deps.lockout.end(subject, start.token, 'void').catch(() => undefined);
      throw err;
    }
    // The session may try again; only a success gives the attempt back.
    await deps.lockout.end(subject, start.token, ok ? 'success' : 'failure');
    if (!ok || !account) {
      await record('failure', reason ?? 'wrong_password');
      if (start.lastAttempt) {
        // By whom (the lockout rule) and from where: the card, agent, reader and session of the attempt that locked it.
        await deps.audit.append({ type: 'account.locked', outcome: 'success', reason: 'failed_attempts', actor: 'system:lockout', subject: { accountId: card.accountId }, ...cardAudit(card, source), sessionId });
      }
      if (start.lastCardAttempt) {
        await deps.audit.append({ type: 'card.locked', outcome: 'success', reason: 'failed_attempts', actor: 'system:lockout', subject: { accountId: card.accountId }, ...cardAudit(card, source), sessionId });
      }
      throw new LoginFailedError();
    }
    return { account, record: checked('success') };
  };
}
