import type { Request } from 'express';
import { Strategy as LocalStrategy } from 'passport-local';
import '../http/session-data';
import type { AuditSink } from '../audit/record';
import { passwordChangeDue } from '../policy/password-lifecycle';
import { CardauthError, isCardauthError } from '../errors';
import { passPresenceGate, type PresenceGate } from '../presence/login-gate';
import type { RequestSource } from '../policy/lockout';
import { cardAudit, type CardStepResult } from './card-step';
import type { FactorProblem } from './factor-check';
import type { IpLimit } from './ip-limit';
import { CardStepUsedUpError, type LoginAccount, type PasswordPassed } from './password-step';
import { enrollmentCandidate, type EnrollmentCandidate } from './self-enroll';
import type { LoginResult } from './session-user';

export interface CardPasswordDeps {
  /** Checks the IP limit before anything else (createCardStep does), so a one-shot password step need not read it again. */
  cardStep: (input: { statement: string; sessionId: string; source: RequestSource; oneShot?: boolean }) => Promise<CardStepResult>;
  passwordStep: (input: { card: CardStepResult; login: string; password: string; source: RequestSource; sessionId: string; oneShot?: boolean; account?: Promise<LoginAccount | null> }) => Promise<PasswordPassed>;
  /** The account a login names (the password step's lookup): a one-shot login reads it alongside the card step's first reads. */
  findAccount: (login: string) => Promise<LoginAccount | null>;
  /** The card step stored by POST /auth/card, if any (checked for freshness by the caller). */
  pendingCard: (req: Request) => CardStepResult | undefined;
  /** Whether a stored card step's card and agent still count (createFactorCheck): revoked since, it is void. */
  factorProblem: (f: { accountId: string; uid: string; agentId: string }) => Promise<FactorProblem | null>;
  source: (req: Request) => RequestSource;
  /** Records a password step that came without a usable card step... */
  audit: AuditSink;
  /** ...which is junk: charged to the junk budgets of the IP and the session, as a junk statement is. */
  ipLimit: Pick<IpLimit, 'check' | 'junk'>;
  now: () => number;
  /**
   * For a host's own Passport (createCardauth's `strategy`), which has none of cardauth's login
   * routes after it: the login's records are written here, and a password that must be changed
   * (temporary, or older than `maxAgeDays`) is refused with `password_change_required`, to be
   * changed on cardauth's login page; a login the presence gate refuses is `presence_required`.
   */
  standalone?: { maxAgeDays: number; presenceGate: PresenceGate };
  /**
   * Self-enrollment (CARDAUTH_SELF_ENROLLMENT; absent when off): the unknown card this session's
   * card step stored (checked for freshness by the caller), and the step that turns it, with the
   * login and password, into a pending request (createSelfEnroll; it always throws).
   */
  selfEnroll?: {
    candidate: (req: Request) => EnrollmentCandidate | undefined;
    run: (input: { candidate: EnrollmentCandidate; login: string; password: string; source: RequestSource; sessionId: string; stored: boolean }) => Promise<never>;
  };
}

/**
 * What a denied login hands to the route (Passport's `info`): the refusal,
 * and the card whose step passed, if one did (the route counts a failed
 * unlock only for the locked session's own card).
 */
export interface LoginDenial {
  /** passport-local's `info.message`: the error's message. */
  message: string;
  error: CardauthError;
  card?: CardStepResult;
}

/**
 * The `card-password` Passport strategy: card first, then login and password.
 *
 * The card comes either from `statement` in the same body (one-shot
 * `POST /auth/login`) or from the card step already passed in this session
 * (`POST /auth/card`, then `POST /auth/password`); a stored card step is
 * void if its card or agent was revoked since, or once its password attempts
 * are used up (`card_step_required`, audited `password.checked` with reason
 * `card_revoked`, `agent_revoked` or `card_step_used_up`). A password with no
 * usable card step is junk: it spends the junk budgets, never the IP's login
 * budget (see createIpLimit). An ordinary denial is
 * `fail(denial)` with a {@link LoginDenial} whose error `code` the route maps to a status;
 * an infrastructure failure is `error(err)`, which fails closed with 503.
 *
 * @example
 * passport.use('card-password', createCardPasswordStrategy({ cardStep, passwordStep, findAccount: accounts.findByLogin, pendingCard, factorProblem, source, audit, ipLimit, now: clock.now }));
 */
export function createCardPasswordStrategy(deps: CardPasswordDeps): LocalStrategy {
  if (typeof deps?.cardStep !== 'function' || typeof deps.passwordStep !== 'function') {
    throw new TypeError('createCardPasswordStrategy: cardStep and passwordStep are required');
  }
  return new LocalStrategy({ usernameField: 'login', passwordField: 'password', passReqToCallback: true, session: true }, (req, login, password, done) => {
    let card: CardStepResult | undefined;
    const source = deps.source(req);
    /**
     * A password with no usable card step: junk, refused with `card_step_required`. The card
     * (if any) is only audited: with no usable card step, nothing was judged, so the denial
     * carries no card and the route does not count it as a failed unlock.
     */
    const noCardStep = async (reason: string): Promise<never> => {
      const stale = card;
      card = undefined;
      delete req.session.cardStep;
      delete req.session.enrollCandidate;
      const gate = await deps.ipLimit.check('password.checked', source, req.sessionID);
      await deps.ipLimit.junk('password.checked', source, req.sessionID, gate);
      await deps.audit.append({
        type: 'password.checked',
        outcome: 'failure',
        reason,
        ...(stale ? { subject: { accountId: stale.accountId, login }, ...cardAudit(stale, source) } : { subject: { login }, source }),
        sessionId: req.sessionID,
      });
      throw new CardauthError('card_step_required', 'present the card first');
    };
    const run = async (): Promise<LoginResult> => {
      const statement: unknown = (req.body as Record<string, unknown>).statement;
      const oneShot = typeof statement === 'string';
      // One shot: the login is known from the start, so its account is read in the same round trip
      // as the card step's gate and agent. A read only: the password step judges nothing on it
      // before its attempt is taken.
      const account = oneShot ? deps.findAccount(login) : undefined;
      account?.catch(() => undefined); // awaited by the password step, if the card step passes
      try {
        card = oneShot ? await deps.cardStep({ statement, sessionId: req.sessionID, source, oneShot }) : deps.pendingCard(req);
      } catch (err) {
        // An unknown card in a one-shot login: a self-enrollment, when it is on.
        const candidate = deps.selfEnroll && enrollmentCandidate(err, deps.now());
        if (!candidate || !deps.selfEnroll) throw err;
        return deps.selfEnroll.run({ candidate, login, password, source, sessionId: req.sessionID, stored: false });
      }
      const candidate = card || oneShot ? undefined : deps.selfEnroll?.candidate(req);
      if (candidate && deps.selfEnroll) {
        try {
          return await deps.selfEnroll.run({ candidate, login, password, source, sessionId: req.sessionID, stored: true });
        } catch (err) {
          if (isCardauthError(err, 'enrollment_pending')) delete req.session.enrollCandidate;
          if (err instanceof CardStepUsedUpError) return noCardStep('card_step_used_up');
          throw err;
        }
      }
      if (!card) return noCardStep('no_card_step');
      // A stored card step whose card or agent was revoked since is void, like no card step at all.
      const revoked = oneShot ? null : await deps.factorProblem({ accountId: card.accountId, uid: card.uid, agentId: card.agentId });
      if (revoked) return noCardStep(revoked);
      try {
        const passed = await deps.passwordStep({ card, login, password, source, sessionId: req.sessionID, oneShot, ...(account ? { account } : {}) });
        if (!deps.standalone) return { account: passed.account, card, authTime: deps.now(), records: [passed.record] };
        await deps.audit.append(passed.record);
        if (passwordChangeDue(passed.account, deps.now(), deps.standalone.maxAgeDays)) throw new CardauthError('password_change_required', 'change your password on the login page');
        const gated = await passPresenceGate(deps.standalone.presenceGate, passed.account, deps.audit, []);
        await Promise.all(gated.map((r) => deps.audit.append(r)));
        return { account: passed.account, card, authTime: deps.now(), records: [] };
      } catch (err) {
        // Its password attempts used up, a stored card step is void too.
        if (err instanceof CardStepUsedUpError) return noCardStep('card_step_used_up');
        throw err;
      }
    };
    run().then(
      (result) => done(null, result),
      (err: unknown) => {
        if (!(err instanceof CardauthError) || err.status >= 500) return done(err);
        const denial: LoginDenial = { message: err.message, error: err, ...(card ? { card } : {}) };
        done(null, false, denial);
      },
    );
  });
}
