import type { Request, RequestHandler, Response, Router } from 'express';
import type Redis from 'ioredis';
import type { Logger } from '../logger';
import { createInteractionRoutes } from './interaction-routes';
import type { SigningJwks } from './keys';
import { createOidcProvider, OIDC_PREFIX, type OidcProviderDeps } from './provider';

/** The provider's own paths: everything under /oidc/ but the interaction page, and the discovery document. */
const PROVIDER_PATH = new RegExp(`^${OIDC_PREFIX}/(?!interaction/)|^/\\.well-known/openid-configuration$`, 'i');
/** The authorization endpoint (and its resume): it reads the cardauth session. */
const AUTHORIZATION_PATH = new RegExp(`^${OIDC_PREFIX}/auth(?:/|$)`, 'i');

const htmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * cardauth's session cookie is SameSite=Strict: a browser sends it on no request of a navigation
 * that started on another site (the MIS sending the user here), redirects included. So an
 * authorization request that comes cross-site is answered by a page that at once opens the same
 * URL again, from cardauth's own origin, which carries the cookie: the provider then sees the
 * cardauth session (silent SSO, `prompt=none`) and no second login is asked for.
 */
function sameSiteBounce(req: Request, res: Response): void {
  const url = htmlAttr(req.originalUrl);
  res.status(200);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.type('html').send(`<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${url}"><title>cardauth</title><a href="${url}">cardauth</a>`);
}

export interface OidcDeps {
  /** The private signing keys (readSigningJwks of CARDAUTH_OIDC_JWKS_FILE). */
  jwks: SigningJwks;
  issuer: string;
  redis: Redis;
  cookieKeys: string[];
  proxy: boolean;
  accounts: OidcProviderDeps['accounts'];
  logger: Logger;
  sessionTtlSec: number;
  now: () => number;
  /** cardauth's session, Passport and session guard (createRouter's `session`). */
  session: RequestHandler;
}

/** What createRouter mounts. */
export interface Oidc {
  /** First in the router: the provider's endpoints (they parse their own bodies and take no Origin check). */
  providerRoutes: RequestHandler;
  /** With the pages, after the session: the interaction route. */
  interactionRoutes: Router;
}

/**
 * The OpenID provider as cardauth mounts it. oidc-provider's Koa app answers its own paths
 * (its `callback()`, at the root of the router, so its routes carry the /oidc prefix and the
 * discovery document is the issuer's `/.well-known/openid-configuration`); the authorization
 * endpoint runs cardauth's session first, so the provider sees the cardauth user.
 * Everything here is synchronous: the keys are read once at start (by createRouter, before
 * this module is loaded), and oidc-provider loads through require() (Node 20.19+).
 *
 * @example
 * const oidc = createOidc({ jwks: readSigningJwks(file), issuer, redis, cookieKeys, proxy, accounts, logger, sessionTtlSec, now, session });
 */
export function createOidc(deps: OidcDeps): Oidc {
  const provider = createOidcProvider(deps);
  const callback = provider.callback();
  const providerRoutes: RequestHandler = (req, res, next) => {
    const path = req.path;
    if (!PROVIDER_PATH.test(path)) return next();
    if (!AUTHORIZATION_PATH.test(path)) return void callback(req, res);
    if (req.method === 'GET' && req.get('sec-fetch-site') === 'cross-site') return sameSiteBounce(req, res);
    deps.session(req, res, (err?: unknown) => (err ? next(err) : void callback(req, res)));
  };
  return { providerRoutes, interactionRoutes: createInteractionRoutes({ provider, redis: deps.redis, now: deps.now }) };
}
