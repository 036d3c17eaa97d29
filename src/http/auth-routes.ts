import { Router, type Request, type Response, type NextFunction } from 'express';
import type { PassportStatic } from 'passport';
import type { AuditEventInput } from '../audit/record';
import { CardauthError } from '../errors';
import type { NonceStore } from '../policy/nonces';
import type { CardStepResult, RequestSource } from '../strategies/card-step';
import { LoginFailedError } from '../strategies/password-step';
import type { SessionUser } from '../strategies/session-user';
import { requestSource } from './request-source';
import { requireUser } from './session-guard';
import { EmptyBody, LoginBody, parseBody, PasswordBody, StatementBody } from './validate';
import './session-data';

export interface AuthRoutesDeps {
  passport: Pick<PassportStatic, 'authenticate'>;
  nonces: Pick<NonceStore, 'issue'>;
  cardStep: (input: { statement: string; sessionId: string; source: RequestSource }) => Promise<CardStepResult>;
  accounts: { get(id: string): Promise<{ login: string } | null> };
  audit: { append(input: AuditEventInput): Promise<unknown> };
  /** Answer the card's login after the card step (CARDAUTH_CARD_IDENTIFIES_USER). */
  cardIdentifiesUser: boolean;
  now: () => number;
}

/** The JSON shape of a logged-in session, for `GET /auth/session` and a login's answer. */
export function sessionView(user: SessionUser) {
  return {
    login: user.login,
    displayName: user.displayName,
    roles: user.roles,
    amr: user.amr,
    authTime: new Date(user.authTime).toISOString(),
    workstation: user.workstation,
    previousLogin: user.previousLogin ? { at: new Date(user.previousLogin.at).toISOString(), workstation: user.previousLogin.workstation } : null,
  };
}

/**
 * The login flow's JSON API (Express 5 routes rejected promises to the error
 * handler):
 * `POST /auth/nonce`, `POST /auth/card`, `POST /auth/password`,
 * `POST /auth/login` (one shot), `GET /auth/session`, `POST /auth/logout`.
 *
 * @example
 * app.use(createAuthRoutes({ passport, nonces, cardStep, accounts, audit, cardIdentifiesUser: true, now: clock.now }));
 */
export function createAuthRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();

  router.post(
    '/auth/nonce',
    async (req, res) => {
      parseBody(req, EmptyBody);
      req.session.preauthAt = deps.now();
      delete req.session.cardStep;
      const { nonce, expiresAt } = await deps.nonces.issue(req.sessionID);
      res.json({ nonce, expiresAt: new Date(expiresAt).toISOString() });
    },
  );

  router.post(
    '/auth/card',
    async (req, res) => {
      const { statement } = parseBody(req, StatementBody);
      delete req.session.cardStep;
      const card = await deps.cardStep({ statement, sessionId: req.sessionID, source: requestSource(req) });
      req.session.cardStep = card;
      const account = deps.cardIdentifiesUser ? await deps.accounts.get(card.accountId) : null;
      res.json({ next: 'password', ...(account ? { login: account.login } : {}) });
    },
  );

  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    deps.passport.authenticate('card-password', (err: unknown, user: unknown, info: unknown) => {
      if (err) return next(err);
      if (!user) return next(info instanceof CardauthError ? info : new LoginFailedError());
      req.logIn(user as Express.User, (loginErr) => {
        if (loginErr) return next(loginErr);
        // Passport leaves the login result on req.user; answer with what the session stored.
        const stored = req.session.passport?.user;
        if (!stored) return next(new Error('session has no user after login'));
        req.user = stored;
        res.json(sessionView(stored));
      });
    })(req, res, next);
  };
  router.post(
    '/auth/password',
    (req, _res, next) => {
      parseBody(req, PasswordBody);
      next();
    },
    authenticate,
  );
  router.post(
    '/auth/login',
    (req, _res, next) => {
      parseBody(req, LoginBody);
      next();
    },
    authenticate,
  );

  router.get('/auth/session', requireUser, (req, res) => {
    res.json(sessionView(req.user as SessionUser));
  });

  router.post(
    '/auth/logout',
    requireUser,
    async (req, res, next) => {
      parseBody(req, EmptyBody);
      const user = req.user as SessionUser;
      await deps.audit.append({
        type: 'session.logout',
        outcome: 'success',
        subject: { accountId: user.accountId, login: user.login },
        source: { ...requestSource(req), agentId: user.agentId },
        sessionId: req.sessionID,
      });
      req.logout((err) => {
        if (err) return next(err);
        req.session.destroy((destroyErr) => (destroyErr ? next(destroyErr) : res.status(204).end()));
      });
    },
  );

  return router;
}
