import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { CardauthError } from '../errors';
import type { SessionUser } from '../strategies/session-user';
import { sendError } from '../error-handler';
import { safeRedirectPath } from './safe-redirect';
import { requireUser } from './session-guard';
import './session-data';

export interface RequireLoginOptions {
  /** Only a user with one of these roles passes (403 `forbidden` otherwise). */
  roles?: readonly string[];
  /** Answer 401 JSON rather than redirect to the login page (also when the request's Accept prefers JSON). */
  api?: boolean;
}

/** A host route's request once requireLogin let it through. */
export interface LoggedInRequest extends Request {
  user: SessionUser;
}

/**
 * The host's "require login" middleware factory. Each middleware runs cardauth's session
 * chain (session, Passport, the session guard: a locked, expired or revoked session has no
 * user), then lets through only a logged-in, unlocked user, with `req.user` the SessionUser.
 * Otherwise a page gets a 303 to `/login?next=` its own path (the login page shows the lock
 * screen for a locked session), an API request (`api`, or an Accept preferring JSON) a 401
 * `{error:{code,message}}` (`unauthenticated`, `session_locked`, `session_expired`); a user
 * with none of `roles` gets 403 `forbidden`; a failure of Redis 503 (cardauth's error handler).
 *
 * @example
 * const requireLogin = createRequireLogin({ session, errorHandler });
 * app.get('/patients', requireLogin({ roles: ['clinician'] }), (req, res) => res.send((req as LoggedInRequest).user.displayName));
 */
export function createRequireLogin(deps: { session: RequestHandler; errorHandler: ErrorRequestHandler }) {
  return (options: RequireLoginOptions = {}): RequestHandler => {
    const { roles, api = false } = options;
    if (roles !== undefined && (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => typeof r === 'string'))) {
      throw new TypeError('requireLogin: roles must be a non-empty array of role names');
    }
    return (req, res, next) => {
      deps.session(req, res, (err?: unknown) => {
        if (err) return deps.errorHandler(err, req, res, next);
        const user = req.user as SessionUser | undefined;
        if (!user) {
          // requireUser names why: unauthenticated, session_locked or session_expired.
          if (api || req.accepts(['html', 'json']) === 'json') return requireUser(req, res, (e) => sendError(res, e as CardauthError));
          return res.redirect(303, `/login?next=${encodeURIComponent(safeRedirectPath(req.originalUrl, '/'))}`);
        }
        if (roles && !roles.some((r) => user.roles.includes(r))) return sendError(res, new CardauthError('forbidden', 'this page needs another role'));
        return next();
      });
    };
  };
}
