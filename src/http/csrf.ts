import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { CardauthError } from '../errors';
import './session-data';

/** The hidden form field every page form carries. */
export const CSRF_FIELD = '_csrf';

/**
 * The session's CSRF token (a synchronizer token, OWASP): a random secret made on the
 * session's first page with a form and kept in the session (so it changes with every login,
 * which regenerates the session). Pages put it in a hidden {@link CSRF_FIELD}.
 *
 * Why not a library: csurf is deprecated, and csrf-csrf's double-submit cookie adds a second
 * cookie and its own secret for what express-session already gives (a server-side store per
 * session); twenty lines compare in constant time and need no dependency.
 *
 * @example
 * res.render(view, { csrf: csrfToken(req) });
 */
export function csrfToken(req: Request): string {
  if (!req.session) throw new TypeError('csrfToken runs after the session');
  req.session.csrf ??= randomBytes(32).toString('base64url');
  return req.session.csrf;
}

/** True when `given` is the session's token, compared in constant time. */
function matches(req: Request, given: unknown): boolean {
  const secret = req.session?.csrf;
  if (typeof secret !== 'string' || typeof given !== 'string') return false;
  const a = Buffer.from(secret);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Refuses a page form's POST whose {@link CSRF_FIELD} is missing or is not the session's
 * token, or that is not an urlencoded form: 403 `csrf_failed`, before anything else runs.
 * It runs after the body parser, on top of the Origin check and SameSite=strict cookies
 * (defence in depth: a form is the one cross-site request a browser sends without asking).
 *
 * @example
 * router.post('/admin/accounts', form, requireCsrf, action);
 */
export const requireCsrf: RequestHandler = (req, _res, next) => {
  // Only a page form's body (urlencoded) counts: the token in a JSON body is no form's.
  const body = req.is('application/x-www-form-urlencoded') ? (req.body as Record<string, unknown> | undefined) : undefined;
  if (!matches(req, body?.[CSRF_FIELD])) return next(new CardauthError('csrf_failed', 'the form is out of date: reload the page and try again'));
  next();
};
