import type { Request } from 'express';
import { Strategy as LocalStrategy } from 'passport-local';
import '../http/session-data';
import type { AuditEventInput } from '../audit/record';
import { CardauthError } from '../errors';
import type { CardStepResult, RequestSource } from './card-step';
import type { FactorProblem } from './factor-check';
import type { IpLimit } from './ip-limit';
import type { LoginAccount } from './password-step';
import type { LoginResult } from './session-user';

export interface CardPasswordDeps {
  /** Checks the IP limit before anything else (createCardStep does), so a one-shot password step need not read it again. */
  cardStep: (input: { statement: string; sessionId: string; source: RequestSource }) => Promise<CardStepResult>;
  passwordStep: (input: { card: CardStepResult; login: string; password: string; source: RequestSource; sessionId: string; ipChecked?: boolean }) => Promise<LoginAccount>;
  /** The card step stored by POST /auth/card, if any (checked for freshness by the caller). */
  pendingCard: (req: Request) => CardStepResult | undefined;
  /** Whether a stored card step's card and agent still count (createFactorCheck): revoked since, it is void. */
  factorProblem: (f: { accountId: string; uid: string; agentId: string }) => Promise<FactorProblem | null>;
  source: (req: Request) => RequestSource;
  /** Records a password step that came without a (fresh) card step... */
  audit: { append(input: AuditEventInput): Promise<unknown> };
  /** ...which is charged to the client IP, as a refused card is. */
  ipLimit: Pick<IpLimit, 'check' | 'recordFailure'>;
  now: () => number;
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
 * void if its card or agent was revoked since (`card_step_required`, audited
 * `password.checked` with reason `card_revoked` or `agent_revoked`). An ordinary denial is
 * `fail(denial)` with a {@link LoginDenial} whose error `code` the route maps to a status;
 * an infrastructure failure is `error(err)`, which fails closed with 503.
 *
 * @example
 * passport.use('card-password', createCardPasswordStrategy({ cardStep, passwordStep, pendingCard, source, audit, ipLimit, now: clock.now }));
 */
export function createCardPasswordStrategy(deps: CardPasswordDeps): LocalStrategy {
  if (typeof deps?.cardStep !== 'function' || typeof deps.passwordStep !== 'function') {
    throw new TypeError('createCardPasswordStrategy: cardStep and passwordStep are required');
  }
  return new LocalStrategy({ usernameField: 'login', passwordField: 'password', passReqToCallback: true, session: true }, (req, login, password, done) => {
    let card: CardStepResult | undefined;
    const run = async (): Promise<LoginResult> => {
      const source = deps.source(req);
      const statement: unknown = (req.body as Record<string, unknown>).statement;
      const oneShot = typeof statement === 'string';
      card = oneShot ? await deps.cardStep({ statement, sessionId: req.sessionID, source }) : deps.pendingCard(req);
      // A stored card step whose card or agent was revoked since is void, like no card step at all.
      const revoked = card && !oneShot ? await deps.factorProblem({ accountId: card.accountId, uid: card.uid, agentId: card.agentId }) : null;
      if (!card || revoked) {
        if (revoked) delete req.session.cardStep;
        await deps.ipLimit.check('password.checked', source, req.sessionID);
        await deps.audit.append({
          type: 'password.checked',
          outcome: 'failure',
          reason: revoked ?? 'no_card_step',
          ...(card ? { subject: { accountId: card.accountId, login }, source: { ...source, agentId: card.agentId, reader: card.reader }, cardUid: card.uid } : { subject: { login }, source }),
          sessionId: req.sessionID,
        });
        await deps.ipLimit.recordFailure(source.ip);
        throw new CardauthError('card_step_required', 'present the card first');
      }
      // One shot: the card step has just checked this request's IP; the password step checks the account.
      const account = await deps.passwordStep({ card, login, password, source, sessionId: req.sessionID, ipChecked: oneShot });
      return { account, card, authTime: deps.now() };
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
