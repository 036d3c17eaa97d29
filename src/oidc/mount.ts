import type { Request, RequestHandler, Response, Router } from 'express';
import type Redis from 'ioredis';
import type Provider from 'oidc-provider';
import type { AuditSink } from '../audit/record';
import { errorMessage, type Logger } from '../logger';
import { defineSessionEnd } from '../store/session-store';
import { createBackchannelStore } from './backchannel-store';
import { createBackchannelWorker, failureOf, type BackchannelWorker } from './backchannel-worker';
import { createInteractionRoutes } from './interaction-routes';
import type { SigningJwks } from './keys';
import { linkSessions } from './link-sessions';
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

/**
 * oidc-provider sends back-channel logouts of its own when its session ends through
 * `/oidc/session/end` (RP-initiated logout): once each, with no retry. They are audited too,
 * with the cause `provider_logout` (and no cardauth session: that one goes on).
 */
function auditProviderLogouts(provider: Provider, audit: AuditSink, logger: Logger): void {
  const record = (input: Parameters<AuditSink['append']>[0]) =>
    void audit.append(input).catch((err: unknown) => logger.error('oidc_backchannel_audit_failed', { err: errorMessage(err) }));
  provider.on('backchannel.success', (_ctx: unknown, client: { clientId: string }, accountId: string) =>
    record({ type: 'oidc.backchannel_delivered', outcome: 'success', subject: { accountId }, details: { clientId: client.clientId, cause: 'provider_logout', attempts: 1 } }),
  );
  provider.on('backchannel.error', (_ctx: unknown, err: unknown, client: { clientId: string }, accountId: string) =>
    record({ type: 'oidc.backchannel_failed', outcome: 'failure', reason: 'not_retried', subject: { accountId }, details: { clientId: client.clientId, cause: 'provider_logout', attempts: 1, failure: failureOf(err) } }),
  );
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
  audit: AuditSink;
  sessionTtlSec: number;
  sessionIdleSec: number;
  /** Back-channel logout: how often to look, sends per logout, the first retry's delay (CARDAUTH_OIDC_LOGOUT_*). */
  logout: { pollMs: number; attempts: number; retryMs: number };
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
  /** Back-channel logout, not started: the entry point starts it and stops it on close. */
  backchannel: BackchannelWorker;
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
 * const oidc = createOidc({ jwks: readSigningJwks(file), issuer, redis, cookieKeys, proxy, accounts, logger, audit, sessionTtlSec, sessionIdleSec, logout, now, session });
 * oidc.backchannel.start();
 */
export function createOidc(deps: OidcDeps): Oidc {
  const store = createBackchannelStore({ redis: deps.redis, idleMs: deps.sessionIdleSec * 1000, maxMs: deps.sessionTtlSec * 1000, sessionTtlSec: deps.sessionTtlSec });
  const provider = createOidcProvider({ ...deps, linkedSid: store.linkedSid });
  linkSessions(provider, store, deps.logger);
  auditProviderLogouts(provider, deps.audit, deps.logger);
  const backchannel = createBackchannelWorker({
    store,
    async send(job) {
      const client = await provider.Client.find(job.clientId);
      if (!client?.backchannelLogoutUri) return 'no_client';
      // Client#backchannelLogout (not in @types/oidc-provider): signs a logout token with the provider's keys, POSTs it, rejects unless 200/204.
      await (client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }).backchannelLogout(job.sub, job.sid);
      return 'sent';
    },
    endSessions: defineSessionEnd(deps.redis, deps.sessionTtlSec),
    audit: deps.audit,
    logger: deps.logger,
    now: deps.now,
    ...deps.logout,
  });
  const callback = provider.callback();
  const providerRoutes: RequestHandler = (req, res, next) => {
    const path = req.path;
    if (!PROVIDER_PATH.test(path)) return next();
    if (!AUTHORIZATION_PATH.test(path)) return void callback(req, res);
    if (req.method === 'GET' && req.get('sec-fetch-site') === 'cross-site') return sameSiteBounce(req, res);
    deps.session(req, res, (err?: unknown) => (err ? next(err) : void callback(req, res)));
  };
  return { providerRoutes, interactionRoutes: createInteractionRoutes({ provider, redis: deps.redis, now: deps.now }), backchannel };
}
