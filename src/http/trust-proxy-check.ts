import type { RequestHandler } from 'express';
import { CardauthError } from '../errors';
import type { Logger } from '../logger';

/**
 * Express's `trust proxy` is a setting of the app, not of a router: embedded in a host app,
 * cardauth sees the client address (the audit, the per-IP limits) and https (the Secure
 * session cookie) as the host app's setting says. This refuses to run under a setting other
 * than CARDAUTH_TRUST_PROXY, rather than silently lose the cookie behind a proxy or count
 * the proxy as every client: 503 (`unavailable`), and `trust_proxy_mismatch` in the log.
 * Checked once per app; createApp sets the value itself.
 *
 * @example
 * router.use(trustProxyCheck(config.CARDAUTH_TRUST_PROXY, logger));
 */
export function trustProxyCheck(expected: number | string | false, logger: Logger): RequestHandler {
  const checked = new WeakSet<object>();
  return (req, _res, next) => {
    if (checked.has(req.app)) return next();
    const actual: unknown = req.app.get('trust proxy');
    if (actual !== expected) {
      logger.error('trust_proxy_mismatch', { expected: String(expected), actual: String(actual), note: "set app.set('trust proxy', config.CARDAUTH_TRUST_PROXY) on the app that mounts cardauth" });
      return next(new CardauthError('unavailable', 'the app trust proxy setting differs from CARDAUTH_TRUST_PROXY'));
    }
    checked.add(req.app);
    next();
  };
}
