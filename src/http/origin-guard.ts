import type { RequestHandler } from 'express';
import { CardauthError } from '../errors';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for the JSON API: every state-changing request must carry an
 * `Origin` equal to the public origin. With SameSite=strict cookies and JSON
 * bodies (which a cross-site form cannot send without a CORS preflight that
 * we never grant) this is the form protection. A missing Origin is refused
 * too: browsers always send it on POST.
 *
 * @example
 * app.use(originGuard('https://mis.example.ru'));
 */
export function originGuard(publicOrigin: string): RequestHandler {
  return (req, _res, next) => {
    if (SAFE.has(req.method)) return next();
    const origin = req.get('origin');
    if (origin !== publicOrigin) return next(new CardauthError('origin_forbidden', 'request must come from the login page'));
    next();
  };
}
