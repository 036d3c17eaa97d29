import { Router, type NextFunction, type Request, type Response } from 'express';
import type Redis from 'ioredis';
import type Provider from 'oidc-provider';
import type { Interaction, InteractionResults } from 'oidc-provider';
import { CardauthError } from '../errors';
import type { SessionUser } from '../strategies/session-user';
import { INTERACTION_PATH, LOGIN_ACR, LOGIN_AMR } from './provider';

export interface InteractionRoutesDeps {
  provider: Provider;
  redis: Redis;
  now: () => number;
}

/** How long the "log in again after this moment" mark of an interaction is kept. */
const REAUTH_TTL_SEC = 3600;

/**
 * The provider's interaction route, `GET /oidc/interaction/:uid`. The login is cardauth's own:
 * - `login` prompt: with a logged-in, unlocked cardauth session (the session guard's
 *   `req.user`) that is fresh enough, it finishes the login at once (accountId the account's
 *   id, amr `sc pwd mfa`, acr, ts the cardauth login time), so a logged-in user gets a code
 *   through redirects alone. Otherwise it sends the browser to `/login?next=<this path>`,
 *   which comes back here after card + password. `prompt=login` needs a cardauth login made
 *   after the request came (marked in Redis, `oidc:reauth:<uid>`); an elapsed `max_age` a
 *   login within it: both send the user to `/login?…&reauth=1`, which shows the form even
 *   to a logged-in user. The provider session forgets its clients first (forgetClients).
 * - `consent` prompt: every registered client is first-party (an officer registered it), so
 *   it saves a Grant of the requested scopes and claims and finishes, for the same account only.
 *
 * @example
 * router.use(createInteractionRoutes({ provider, redis, now: clock.now }));
 */
export function createInteractionRoutes(deps: InteractionRoutesDeps): Router {
  const { provider } = deps;
  const router = Router();

  const sendToLogin = (res: Response, uid: string, reauth: boolean) =>
    res.redirect(303, `/login?next=${encodeURIComponent(`${INTERACTION_PATH}/${uid}`)}${reauth ? '&reauth=1' : ''}`);

  /** Whether the user must present card + password again for this interaction; marks when first asked. */
  async function needsFreshLogin(uid: string, user: SessionUser, reasons: string[], maxAgeSec: unknown): Promise<boolean> {
    if (typeof maxAgeSec === 'number' && deps.now() - user.authTime > maxAgeSec * 1000) return true;
    if (!reasons.includes('login_prompt')) return false;
    const key = `oidc:reauth:${uid}`;
    await deps.redis.set(key, String(deps.now()), 'EX', REAUTH_TTL_SEC, 'NX');
    const since = Number(await deps.redis.get(key));
    return !(user.authTime > since);
  }

  /**
   * A login finished here is a new cardauth session (a login or an unlock regenerates it, and the
   * old one's clients were logged out through the back channel): the provider session of the
   * browser forgets its clients, so each gets a new `sid` (and grant) rather than the one its
   * logout token named. A logout still being retried to a client that was down cannot then end
   * the client's new session.
   */
  async function forgetClients(sessionUid: string): Promise<void> {
    const providerSession = await provider.Session.findByUid(sessionUid);
    if (!providerSession?.authorizations) return;
    delete providerSession.authorizations;
    await providerSession.persist();
  }

  /**
   * As provider.interactionFinished, on the interaction this request has read already (the
   * provider's own would read it again): the result saved with the interaction's remaining
   * lifetime (the provider's clock: it set `exp`), and a 303 to its `returnTo`.
   */
  async function finish(res: Response, details: Interaction, result: InteractionResults, merge: boolean) {
    details.result = merge && !('error' in result) ? { ...details.lastSubmission, ...result } : result;
    await details.save(details.exp - Math.floor(Date.now() / 1000));
    res.redirect(303, details.returnTo);
  }

  async function interaction(req: Request, res: Response) {
    const details = await provider.interactionDetails(req, res);
    const { uid, prompt, params, session } = details;
    const user = req.user as SessionUser | undefined;
    if (prompt.name === 'login') {
      if (!user) return sendToLogin(res, uid, false);
      const maxAge = params.max_age === undefined ? undefined : Number(params.max_age);
      if (await needsFreshLogin(uid, user, prompt.reasons, maxAge)) return sendToLogin(res, uid, true);
      if (session?.uid) await forgetClients(session.uid);
      await finish(res, details, { login: { accountId: user.accountId, amr: LOGIN_AMR, acr: LOGIN_ACR, ts: Math.floor(user.authTime / 1000) } }, false);
      return;
    }
    if (prompt.name === 'consent') {
      if (!user) return sendToLogin(res, uid, false);
      if (!session || session.accountId !== user.accountId) {
        await finish(res, details, { error: 'login_required', error_description: 'the cardauth session changed' }, false);
        return;
      }
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: user.accountId, clientId: String(params.client_id) });
      if (!grant) throw new CardauthError('bad_request', 'the authorization request is gone; start again');
      const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      await finish(res, details, { consent: { grantId } }, true);
      return;
    }
    throw new CardauthError('bad_request', 'unsupported interaction');
  }

  router.get(`${INTERACTION_PATH}/:uid`, (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    interaction(req, res).catch((err: unknown) => {
      // The provider's own errors (no such interaction, its cookie missing or expired) are the client's fault.
      const status = (err as { statusCode?: number }).statusCode;
      if (typeof status === 'number' && status < 500) return next(new CardauthError('bad_request', 'this login request is no longer valid; start again from the application'));
      next(err);
    });
  });
  return router;
}
