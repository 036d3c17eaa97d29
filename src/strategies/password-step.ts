import type { AuditEventInput } from '../audit/record';
import { CardauthError } from '../errors';
import type { Lockout } from '../policy/lockout';
import type { PasswordHasher } from '../policy/password-hasher';
import type { CardStepResult, RequestSource } from './card-step';

/** The account fields the password step reads. */
export interface LoginAccount {
  id: string;
  login: string;
  displayName: string;
  roles: string[];
  status: 'active' | 'blocked';
  passwordHash: string;
}

/** A refusal that tells the client nothing about which factor failed. */
export class LoginFailedError extends CardauthError {
  constructor() {
    super('login_failed', 'login failed');
  }
}

/** The card's account is locked; shown only after a valid card step. */
export class AccountLockedError extends CardauthError {
  constructor(readonly retryAfterMs: number) {
    super('locked', 'account locked');
  }
}

export interface PasswordStepDeps {
  accounts: { findByLogin(login: string): Promise<LoginAccount | null> };
  hasher: Pick<PasswordHasher, 'verify' | 'dummyVerify'>;
  lockout: Pick<Lockout, 'check' | 'checkAccount' | 'recordFailure' | 'recordSuccess'>;
  audit: { append(input: AuditEventInput): Promise<unknown> };
}

/**
 * The password step, after a passed card step, in this order:
 * 1. lockout check (account of the card, and the client IP — unless
 *    `ipChecked`: the card step of this same request has just checked it);
 * 2. the login must name the card's account, active — otherwise a dummy
 *    argon2 verify and the same failure as a wrong password;
 * 3. argon2id verify;
 * 4. the attempt is recorded (lockout counter — a success clears it only
 *    when there was something to clear — and `password.checked`).
 *
 * @example
 * const passwordStep = createPasswordStep({ accounts, hasher, lockout, audit });
 * const account = await passwordStep({ card, login, password, source, sessionId });
 */
export function createPasswordStep(deps: PasswordStepDeps) {
  return async function passwordStep(input: {
    card: CardStepResult;
    login: string;
    password: string;
    source: RequestSource;
    sessionId: string;
    /**
     * True only when the card step ran in this same request and its IP check
     * passed (one-shot login); then only the account is read. The two-step
     * flow's password request leaves it unset and checks both.
     */
    ipChecked?: boolean;
  }): Promise<LoginAccount> {
    const { card, login, password, source, sessionId } = input;
    const subject = { accountId: card.accountId, ip: source.ip };
    const record = (outcome: 'success' | 'failure', reason?: string) =>
      deps.audit.append({
        type: 'password.checked',
        outcome,
        ...(reason ? { reason } : {}),
        subject: { accountId: card.accountId, login },
        source: { ...source, agentId: card.agentId, reader: card.reader },
        cardUid: card.uid,
        sessionId,
      });

    const lock = input.ipChecked === true ? await deps.lockout.checkAccount(card.accountId) : await deps.lockout.check(subject);
    if (lock.locked) {
      await record('failure', lock.scope === 'ip' ? 'ip_limited' : 'locked');
      if (lock.scope === 'ip') throw new CardauthError('rate_limited', 'too many failed attempts from this address');
      throw new AccountLockedError(lock.retryAfterMs);
    }

    const account = await deps.accounts.findByLogin(login);
    let reason: string | undefined;
    if (!account) reason = 'unknown_account';
    else if (account.id !== card.accountId) reason = 'card_mismatch';
    else if (account.status !== 'active') reason = 'account_blocked';

    const ok = reason === undefined && account ? await deps.hasher.verify(account.passwordHash, password) : await deps.hasher.dummyVerify(password);
    if (!ok || !account) {
      const { accountLockedNow } = await deps.lockout.recordFailure(subject);
      await record('failure', reason ?? 'wrong_password');
      if (accountLockedNow) {
        await deps.audit.append({ type: 'account.locked', outcome: 'success', reason: 'failed_attempts', subject: { accountId: card.accountId }, source });
      }
      throw new LoginFailedError();
    }
    // Nothing to clear when the check found no failures (a failure racing in meanwhile stays counted).
    if (lock.accountFailures !== 0) await deps.lockout.recordSuccess(subject);
    await record('success');
    return account;
  };
}
