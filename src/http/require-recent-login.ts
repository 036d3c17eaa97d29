import type { Request, RequestHandler } from 'express';
import { CardauthError } from '../errors';
import { sendError } from '../error-handler';
import type { SessionUser } from '../strategies/session-user';
import { safeRedirectPath } from './safe-redirect';

/**
 * Step-up for an administrative action: after requireLogin, lets through only a session whose
 * card + password login (or unlock, which takes both factors too) is at most `maxAgeSec` old.
 * An older one gets, for an API request (`api`, or an Accept preferring JSON), 401
 * `step_up_required`; for a page, a 303 to `/login?next=<its path>&reauth=1` (or, with `back`, the
 * page that path names: a form's POST goes back to its page, which a GET can show), where the
 * login form asks for both factors again even though the user is logged in.
 *
 * @example
 * router.post('/admin/api/accounts/:login/unlock', requireLogin({ roles, api: true }), requireRecentLogin({ maxAgeSec: 900, now, api: true }), unlock);
 */
export function requireRecentLogin(opts: { maxAgeSec: number; now: () => number; api?: boolean; back?: (req: Request) => string }): RequestHandler {
  if (!Number.isInteger(opts.maxAgeSec) || opts.maxAgeSec <= 0) throw new TypeError('requireRecentLogin: maxAgeSec must be a positive integer');
  const maxAgeMs = opts.maxAgeSec * 1000;
  return (req, res, next) => {
    const user = req.user as SessionUser | undefined;
    if (!user) throw new TypeError('requireRecentLogin runs after requireLogin');
    if (opts.now() - user.authTime <= maxAgeMs) return next();
    if (opts.api || req.accepts(['html', 'json']) === 'json') {
      return sendError(res, new CardauthError('step_up_required', 'this action needs a fresh login with the card and the password'));
    }
    return res.redirect(303, `/login?next=${encodeURIComponent(safeRedirectPath(opts.back ? opts.back(req) : req.originalUrl, '/'))}&reauth=1`);
  };
}
