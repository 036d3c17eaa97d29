import type { RequestHandler } from 'express';
import { z } from 'zod';
import { sha256Hex } from '../audit/record';
import { CardauthError } from '../errors';
import { ROLES, type Role } from '../store/accounts';
import type { SessionUser } from '../strategies/session-user';
import { safeRedirectPath } from './safe-redirect';
import { requireUser } from './session-guard';
import { parseQuery } from './validate';
import './session-data';

const ForwardQuery = z.strictObject({
  /** Only a user with this role passes (403 `forbidden` otherwise). */
  role: z.enum(ROLES as [Role, ...Role[]]).optional(),
  /** Set by a proxy that shows the answer to the browser as is (Traefik, Caddy): a redirect to the login instead of 401. */
  redirect: z.literal('1').optional(),
});

/**
 * A text value as a header carries it: percent-encoded UTF-8 with the rules of
 * `encodeURIComponent`, so every character but `A–Z a–z 0–9 - _ . ! ~ * ' ( )`
 * is encoded (`%` and `+` too, so any URL decoder gets the value back).
 *
 * @example
 * headerText('Д-р Иванова') // => '%D0%94-%D1%80%20%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0'
 */
export const headerText = (s: string): string => encodeURIComponent(s);

/** The login page, back to `uri` (the proxied request's own path) once logged in; `/` when `uri` is not a same-origin path. */
const loginFor = (uri: string | undefined) => `/login?next=${encodeURIComponent(safeRedirectPath(uri, '/'))}`;

/**
 * `GET /auth/forward`: the forward-auth check of a reverse proxy (nginx
 * `auth_request`, Traefik ForwardAuth, Caddy `forward_auth`) in front of an
 * MIS on cardauth's origin. The session guard has already checked the
 * session as for any request (idle lock, lifetime, blocks and revocations;
 * `X-Cardauth-Background: 1` is not activity), so this only answers:
 * - a logged-in, unlocked session: 200, empty, with `Remote-User` (login),
 *   `Remote-Name` (display name), `Remote-Groups` (roles, comma-separated),
 *   `Remote-Amr` (`sc pwd`) and `Remote-Session` (the session id's SHA-256,
 *   as audit records name it); text values as {@link headerText};
 * - `?role=R` and the user lacks R: 403 `forbidden` (never a redirect: a
 *   logged-in user would come straight back from the login page);
 * - otherwise 401 (`unauthenticated`, `session_locked`, `session_expired`),
 *   or with `?redirect=1` a 302 to `/login?next=` the path in
 *   `X-Forwarded-Uri` (a same-origin path only, else `/`);
 * - an unknown role, or an unknown or repeated parameter: 400 `bad_request`,
 *   so a wrong proxy config (or a query a proxy passed on) lets nobody in.
 * A hot path like `GET /auth/session`: no Redis beyond the session's own.
 *
 * @example
 * app.get('/auth/forward', forwardAuth);
 */
export const forwardAuth: RequestHandler = (req, res, next) => {
  const query = parseQuery(req, ForwardQuery);
  const user = req.user as SessionUser | undefined;
  if (!user) {
    if (query.redirect) res.redirect(302, loginFor(req.get('x-forwarded-uri')));
    else requireUser(req, res, next);
    return;
  }
  if (query.role && !user.roles.includes(query.role)) {
    next(new CardauthError('forbidden', 'this page needs another role'));
    return;
  }
  res.set({
    'Remote-User': headerText(user.login),
    'Remote-Name': headerText(user.displayName),
    'Remote-Groups': user.roles.map(headerText).join(','),
    'Remote-Amr': user.amr.join(' '),
    'Remote-Session': sha256Hex(req.sessionID),
  });
  res.status(200).end();
};
