import type { RequestHandler } from 'express';
import type { AuditEventInput } from '../audit/record';
import { CardauthError } from '../errors';
import type { SessionUser } from '../strategies/session-user';
import './session-data';

export interface SessionGuardOptions {
  idleMs: number;
  maxMs: number;
  now: () => number;
  audit: { append(input: AuditEventInput): Promise<unknown> };
}

/** lastSeen is rewritten at most this often, so most reads do not write the session. */
const LAST_SEEN_GRANULARITY_MS = 15_000;

/**
 * Server-side session limits (УПД.8): the absolute lifetime from login and
 * the idle timeout. An ended session is audited (`session.ended`), destroyed,
 * and the request goes on as anonymous with `res.locals.sessionEnded` set so
 * `requireUser` can answer `session_expired` instead of `unauthenticated`.
 *
 * @example
 * app.use(passport.session(), sessionGuard({ idleMs, maxMs, now: clock.now, audit }));
 */
export function sessionGuard(opts: SessionGuardOptions): RequestHandler {
  return (req, res, next) => {
    const user = req.user as SessionUser | undefined;
    if (!user) return next();
    const now = opts.now();
    const lastSeen = req.session.lastSeen ?? user.authTime;
    const reason = now - user.authTime > opts.maxMs ? 'expired' : now - lastSeen > opts.idleMs ? 'idle' : undefined;
    if (!reason) {
      if (now - lastSeen > LAST_SEEN_GRANULARITY_MS) req.session.lastSeen = now;
      return next();
    }
    opts.audit
      .append({ type: 'session.ended', outcome: 'success', reason, subject: { accountId: user.accountId, login: user.login }, sessionId: req.sessionID })
      .then(
        () =>
          req.session.destroy((err) => {
            if (err) return next(err);
            delete req.user;
            res.locals.sessionEnded = reason;
            next();
          }),
        next,
      );
  };
}

/** Lets only an authenticated session through (УПД.9: everything but the login flow needs one). */
export const requireUser: RequestHandler = (req, res, next) => {
  if (req.user) return next();
  next(res.locals.sessionEnded ? new CardauthError('session_expired', 'session ended; log in again') : new CardauthError('unauthenticated', 'log in first'));
};
