import { Router, type Request, type RequestHandler, type Response, type NextFunction } from 'express';
import type { PassportStatic } from 'passport';
import type { AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import { clientKey } from '../policy/client-key';
import type { NonceStore } from '../policy/nonces';
import type { LoginDenial } from '../strategies/card-password';
import type { RequestSource } from '../policy/lockout';
import { cardAudit, type CardStepResult } from '../strategies/card-step';
import { LoginFailedError } from '../strategies/password-step';
import { enrollmentCandidate } from '../strategies/self-enroll';
import type { LoginResult, SessionUser } from '../strategies/session-user';
import { logOut } from './log-out';
import { requestSource } from './request-source';
import { endSession, noUserError, requireUser } from './session-guard';
import { saveSession } from './session-writes';
import { EmptyBody, LoginBody, parseBody, PasswordBody, StatementBody } from './validate';
import './session-data';

export interface AuthRoutesDeps {
  /** Logs a login in (createLogIn): its records first, then the new session. */
  logIn: (req: Request, result: LoginResult) => Promise<SessionUser>;
  passport: Pick<PassportStatic, 'authenticate'>;
  nonces: Pick<NonceStore, 'issue'>;
  /** Logins a client IP may start (POST /auth/nonce), shared by every node. */
  nonceLimit: { take(key: string): Promise<boolean> };
  cardStep: (input: { statement: string; sessionId: string; source: RequestSource }) => Promise<CardStepResult>;
  accounts: { get(id: string): Promise<{ login: string } | null> };
  /**
   * After both factors passed: when the password must be changed first (temporary or expired), keeps the
   * login waiting for the change and resolves true (createPasswordChange); no session opens.
   */
  holdForPasswordChange: (req: Request, result: LoginResult) => Promise<boolean>;
  /** Counts a failed unlock of a locked session atomically (the attempts policy); answers the count so far. */
  unlockFailure: (sessionId: string) => Promise<number>;
  audit: AuditSink;
  /** Answer the card's login after the card step (CARDAUTH_CARD_IDENTIFIES_USER). */
  cardIdentifiesUser: boolean;
  /** CARDAUTH_SELF_ENROLLMENT: an unknown card's step is remembered as a self-enrollment candidate. */
  selfEnrollment: boolean;
  /**
   * How long a login in progress keeps its session (the nonce lifetime): a
   * session that never logs in is gone from Redis after this, not after the
   * full session lifetime. Each step restarts it; the login's new session
   * does not inherit it.
   */
  preauthTtlMs: number;
  now: () => number;
}

const MAX_UNLOCK_FAILURES = 3;

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
    failedAttempts: user.failedAttempts ?? 0,
  };
}

/**
 * `GET /auth/session`: who is logged in. The most frequent request (the home
 * page polls it), so the app mounts it on its own, ahead of the routers.
 *
 * @example
 * app.get('/auth/session', ...showSession);
 */
export const showSession: RequestHandler[] = [
  requireUser,
  (req, res) => {
    res.json(sessionView(req.user as SessionUser));
  },
];

/**
 * The rest of the login flow's JSON API (Express 5 routes rejected promises
 * to the error handler):
 * `POST /auth/nonce`, `POST /auth/card`, `POST /auth/password`,
 * `POST /auth/login` (one shot), `POST /auth/logout`.
 *
 * @example
 * app.use(createAuthRoutes({ passport, logIn, nonces, nonceLimit, cardStep, accounts, unlockFailure: lockout.unlockFailure, audit, cardIdentifiesUser: true, preauthTtlMs: 120_000, now: clock.now }));
 */
export function createAuthRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();

  /** A session with no login yet lives only as long as a login step stays valid; a logged-in (or locked) one keeps its own. */
  const preauthLifetime = (req: Request) => {
    if (!req.session.passport?.user) req.session.cookie.maxAge = deps.preauthTtlMs;
  };

  router.post(
    '/auth/nonce',
    async (req, res) => {
      parseBody(req, EmptyBody);
      if (!(await deps.nonceLimit.take(clientKey(requestSource(req).ip)))) throw new CardauthError('rate_limited', 'too many logins started from this address');
      preauthLifetime(req);
      req.session.preauthAt = deps.now();
      delete req.session.cardStep;
      delete req.session.enrollCandidate;
      const { nonce, expiresAt } = await deps.nonces.issue(req.sessionID);
      await saveSession(req);
      // expiresInSec, unlike expiresAt, needs no clock shared with the server.
      res.json({ nonce, expiresAt: new Date(expiresAt).toISOString(), expiresInSec: Math.round((expiresAt - deps.now()) / 1000) });
    },
  );

  router.post(
    '/auth/card',
    async (req, res) => {
      const { statement } = parseBody(req, StatementBody);
      preauthLifetime(req);
      delete req.session.cardStep;
      delete req.session.enrollCandidate;
      const card = await deps.cardStep({ statement, sessionId: req.sessionID, source: requestSource(req) }).catch(async (err: unknown) => {
        // Still the generic refusal; but an unknown card may be a self-enrollment's, which the password step makes.
        const candidate = deps.selfEnrollment ? enrollmentCandidate(err, deps.now()) : null;
        if (candidate) {
          req.session.enrollCandidate = candidate;
          await saveSession(req);
        }
        throw err;
      });
      req.session.cardStep = card;
      const current = req.user as SessionUser | undefined;
      if (current && current.accountId !== card.accountId) {
        // Another clinician's card at an open session: lock it and start their login (fast user switching).
        await deps.audit.append({
          type: 'session.locked',
          outcome: 'success',
          reason: 'switch',
          subject: { accountId: current.accountId, login: current.login },
          ...cardAudit(card, requestSource(req)),
          sessionId: req.sessionID,
        });
        req.session.locked = { reason: 'switch', at: deps.now() };
      }
      const account = deps.cardIdentifiesUser ? await deps.accounts.get(card.accountId) : null;
      await saveSession(req);
      res.json({ next: 'password', ...(account ? { login: account.login } : {}) });
    },
  );

  /** The locked session's own card: only it unlocks, and only its failures count (УПД.8). */
  const isLockedCard = (locked: SessionUser, card: CardStepResult | undefined): card is CardStepResult =>
    card !== undefined && card.accountId === locked.accountId && card.uid === locked.cardUid;
  /** Who an unlock attempt is about, and from where, for its audit records. */
  const unlockAudit = (req: Request, locked: SessionUser, card: CardStepResult) => ({
    subject: { accountId: locked.accountId, login: locked.login },
    ...cardAudit(card, requestSource(req)),
    sessionId: req.sessionID,
  });

  /**
   * A failed unlock of a locked session: counted atomically in Redis (requests in parallel each
   * get their own count), and the session ends at the third (УПД.8), or at any later one a request
   * still in flight brings.
   */
  const unlockFailed = async (req: Request, res: Response, locked: SessionUser, card: CardStepResult, err: CardauthError) => {
    const failures = await deps.unlockFailure(req.sessionID);
    const about = unlockAudit(req, locked, card);
    await deps.audit.append({ type: 'session.unlocked', outcome: 'failure', reason: err.code, ...about, details: { failures } });
    if (failures < MAX_UNLOCK_FAILURES) throw err;
    await endSession(req, res, deps.audit, { reason: 'unlock_failures', ...about });
    throw new CardauthError('session_expired', 'too many failed unlocks; log in again');
  };

  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    const locked = res.locals.lockedUser as SessionUser | undefined;
    deps.passport.authenticate('card-password', (err: unknown, user: LoginResult | false, info: unknown) => {
      if (err) return next(err);
      if (!user) {
        const denial = info as LoginDenial | undefined;
        const error = denial?.error instanceof CardauthError ? denial.error : new LoginFailedError();
        // Only the locked session's own card counts as an unlock attempt; another card is a new login.
        // An attempt refused because another is in flight in this session was not judged: not counted.
        if (locked && isLockedCard(locked, denial?.card) && error.code !== 'attempt_in_progress') return unlockFailed(req, res, locked, denial.card, error).catch(next);
        return next(error);
      }
      // Both factors passed; a temporary or expired password is changed before any session opens.
      deps
        .holdForPasswordChange(req, user)
        .then((held) => {
          if (held) throw new CardauthError('password_change_required', 'change your password to log in');
          // The unlock's record names the locked session's id, read now, before the regeneration;
          // the session opener appends it with the login's other records.
          if (locked && isLockedCard(locked, user.card)) user.records.push({ type: 'session.unlocked', outcome: 'success', ...unlockAudit(req, locked, user.card) });
          // A new session id in every case: the locked one is destroyed by the regeneration.
          return deps.logIn(req, user);
        })
        .then((stored) => res.json(sessionView(stored)), next);
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

  router.post(
    '/auth/logout',
    async (req, res) => {
      parseBody(req, EmptyBody);
      // A locked session may be signed out from its lock screen.
      const user = (req.user ?? res.locals.lockedUser) as SessionUser | undefined;
      if (!user) throw noUserError(res);
      await logOut(req, user, deps.audit);
      res.status(204).end();
    },
  );

  return router;
}
