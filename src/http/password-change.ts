import { Router, type Request } from 'express';
import type { AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import { passwordChangeDue, type PasswordSetter } from '../policy/password-lifecycle';
import { cardAudit, type CardStepResult } from '../strategies/card-step';
import type { FactorProblem } from '../strategies/factor-check';
import type { LoginAccount, PasswordPassed } from '../strategies/password-step';
import type { LoginResult, SessionUser } from '../strategies/session-user';
import type { Uid } from '../contract/uid';
import { sessionView } from './auth-routes';
import { requestSource } from './request-source';
import { noUserError } from './session-guard';
import { saveSession } from './session-writes';
import { parseBody, PasswordChangeBody } from './validate';
import './session-data';

export interface PasswordChangeDeps {
  /** Logs a login in (createLogIn): its records first, then the new session. */
  logIn: (req: Request, result: LoginResult) => Promise<SessionUser>;
  /** The login's password step (createPasswordStep): checks the current password, lockout first. */
  passwordStep: (input: { card: CardStepResult; login: string; password: string; source: ReturnType<typeof requestSource>; sessionId: string; oneShot?: boolean }) => Promise<PasswordPassed>;
  /** Whether the waiting login's card and agent still count (createFactorCheck). */
  factorProblem: (f: { accountId: string; uid: string; agentId: string }) => Promise<FactorProblem | null>;
  passwords: Pick<PasswordSetter, 'set'>;
  audit: AuditSink;
  /** The profile's CARDAUTH_PASSWORD_MAX_AGE_DAYS. */
  maxAgeDays: number;
  now: () => number;
}

/** How long a login waiting for its password change stays valid. */
export const PASSWORD_CHANGE_WINDOW_MS = 10 * 60_000;

/** The card a logged-in session was opened with, as its card step was. */
const cardOfSession = (u: SessionUser): CardStepResult => ({ accountId: u.accountId, uid: u.cardUid as Uid, agentId: u.agentId, workstation: u.workstation, reader: u.reader, at: u.authTime });

/**
 * The password lifecycle at the login (ИАФ.3):
 * - `hold(req, result)`, after both factors passed: a temporary password (an
 *   officer's) or one older than the profile allows (`password.expired`)
 *   keeps the login waiting in its pre-auth session, for 10 minutes, and no
 *   session opens; the route answers 403 `password_change_required`.
 * - `POST /auth/password/change` `{currentPassword, newPassword}`: for that
 *   waiting login, or a logged-in user. The current password is checked by
 *   the login's own password step (an attempt taken from the account's and
 *   the IP's budgets first; `login_failed`, `locked`, `attempt_in_progress`);
 *   the new one by the profile (`password_weak`, `password_contains_name`,
 *   `password_reused`), all 400. `password.changed` records the outcome; a
 *   waiting login's session then opens (`session.created`) and the answer is
 *   the session, as a login's.
 *
 * @example
 * const change = createPasswordChange({ passwordStep, factorProblem, logIn, passwords, audit, maxAgeDays: 90, now });
 * router.use(change.routes);
 */
export function createPasswordChange(deps: PasswordChangeDeps) {
  const hold = async (req: Request, result: LoginResult): Promise<boolean> => {
    const { account, card } = result;
    const now = deps.now();
    const reason = passwordChangeDue(account, now, deps.maxAgeDays);
    if (!reason) return false;
    // The password was checked all the same: its record is written now, as no session opener will.
    for (const r of result.records.splice(0)) await deps.audit.append(r);
    const about = { subject: { accountId: account.id, login: account.login }, ...cardAudit(card, requestSource(req)), sessionId: req.sessionID };
    if (reason === 'expired') {
      await deps.audit.append({ type: 'password.expired', outcome: 'success', ...about, details: { changedAt: account.passwordChangedAt, maxAgeDays: deps.maxAgeDays } });
    }
    delete req.session.cardStep;
    req.session.passwordChange = { accountId: account.id, login: account.login, card, reason, at: now };
    if (!req.session.passport?.user) req.session.cookie.maxAge = PASSWORD_CHANGE_WINDOW_MS;
    await saveSession(req);
    return true;
  };

  const routes = Router();
  routes.post('/auth/password/change', async (req, res) => {
    const { currentPassword, newPassword } = parseBody(req, PasswordChangeBody);
    const waiting = req.session.passwordChange;
    const pending = waiting && deps.now() - waiting.at <= PASSWORD_CHANGE_WINDOW_MS ? waiting : undefined;
    const user = req.user as SessionUser | undefined;
    if (!pending && !user) throw noUserError(res);
    const card = pending ? pending.card : cardOfSession(user as SessionUser);
    const source = requestSource(req);
    if (pending && (await deps.factorProblem({ accountId: card.accountId, uid: card.uid, agentId: card.agentId }))) {
      // Its card or agent was revoked while it waited: the login starts over.
      delete req.session.passwordChange;
      await saveSession(req);
      throw new CardauthError('card_step_required', 'present the card again');
    }
    const login = pending ? pending.login : (user as SessionUser).login;
    const { account, record } = await deps.passwordStep({ card, login, password: currentPassword, source, sessionId: req.sessionID, oneShot: true });
    await deps.audit.append(record);
    const about = { subject: { accountId: account.id, login: account.login }, ...cardAudit(card, source), sessionId: req.sessionID, details: { due: pending?.reason ?? 'none' } };
    let changed: LoginAccount;
    try {
      changed = await deps.passwords.set(account, newPassword);
    } catch (err) {
      if (err instanceof CardauthError && err.status < 500) await deps.audit.append({ type: 'password.changed', outcome: 'failure', reason: err.code, ...about });
      throw err;
    }
    await deps.audit.append({ type: 'password.changed', outcome: 'success', ...about });
    if (!pending) {
      res.json(sessionView(user as SessionUser));
      return;
    }
    delete req.session.passwordChange;
    res.json(sessionView(await deps.logIn(req, { account: changed, card, authTime: deps.now(), records: [] })));
  });

  return { hold, routes };
}
