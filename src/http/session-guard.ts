import type { RequestHandler, Response } from 'express';
import type { AuditEventInput } from '../audit/record';
import { CardauthError } from '../errors';
import type { SessionUser } from '../strategies/session-user';
import type { SessionLocks } from '../store/session-locks';
import { requestSource } from './request-source';
import { saveSession } from './save-session';
import './session-data';

export interface SessionGuardOptions {
  idleMs: number;
  maxMs: number;
  now: () => number;
  audit: { append(input: AuditEventInput): Promise<unknown> };
  locks: Pick<SessionLocks, 'touch'>;
}

/** lastSeen is rewritten at most this often, so most reads do not write the session. */
const LAST_SEEN_GRANULARITY_MS = 15_000;

/**
 * A page's own periodic check sends this header (value `1`): it is not the
 * user's activity, so it does not keep the session from the idle lock.
 */
export const BACKGROUND_HEADER = 'x-cardauth-background';

/**
 * Server-side session limits (УПД.8), on every request with a logged-in session:
 * - past the absolute lifetime the session ends (`session.ended`, destroyed);
 * - idle past the timeout it is locked (`session.locked`, reason `idle`);
 *   a request marked {@link BACKGROUND_HEADER} is checked like any other
 *   but does not count as activity;
 * - a locked session (idle, tap-out, switch) is no longer a user: `req.user`
 *   is removed and `res.locals.lockedUser` keeps who it was, for the lock
 *   screen and the unlock (same card + password).
 * `requireUser` then answers `session_locked` or `session_expired`.
 *
 * @example
 * app.use(passport.session(), sessionGuard({ idleMs, maxMs, now: clock.now, audit, locks }));
 */
export function sessionGuard(opts: SessionGuardOptions): RequestHandler {
  return (req, res, next) => {
    const user = req.user as SessionUser | undefined;
    if (!user) return next();
    const now = opts.now();
    const about = () => ({ subject: { accountId: user.accountId, login: user.login }, source: { ...requestSource(req), agentId: user.agentId }, sessionId: req.sessionID });

    if (now - user.authTime > opts.maxMs) {
      opts.audit.append({ type: 'session.ended', outcome: 'success', reason: 'expired', ...about() }).then(
        () =>
          req.session.destroy((err) => {
            if (err) return next(err);
            delete req.user;
            res.locals.sessionEnded = true;
            next();
          }),
        next,
      );
      return;
    }

    const asLocked = () => {
      delete req.user;
      res.locals.lockedUser = user;
      next();
    };
    if (req.session.locked) return asLocked();

    const lastSeen = req.session.lastSeen ?? user.authTime;
    if (now - lastSeen > opts.idleMs) {
      opts.audit
        .append({ type: 'session.locked', outcome: 'success', reason: 'idle', ...about() })
        .then(() => {
          req.session.locked = { reason: 'idle', at: now };
          return saveSession(req);
        })
        .then(asLocked, next);
      return;
    }
    if (now - lastSeen > LAST_SEEN_GRANULARITY_MS && req.get(BACKGROUND_HEADER) !== '1') {
      // Patched in Redis rather than saved whole, so it cannot undo a concurrent tap-out lock.
      opts.locks.touch(req.sessionID, now).then(() => next(), next);
      return;
    }
    next();
  };
}

/** Why a request has no user: its session just ended, or it never logged in. */
export const noUserError = (res: Response): CardauthError =>
  res.locals.sessionEnded ? new CardauthError('session_expired', 'session ended; log in again') : new CardauthError('unauthenticated', 'log in first');

/** Lets only an authenticated, unlocked session through (УПД.9: everything but the login flow needs one). */
export const requireUser: RequestHandler = (req, res, next) => {
  if (req.user) return next();
  if (res.locals.lockedUser) return next(new CardauthError('session_locked', 'session locked; present your card and password to unlock'));
  next(noUserError(res));
};
