import type { Request, RequestHandler, Response, Router } from 'express';
import type Redis from 'ioredis';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditSink } from '../audit/record';
import { messages, pickLang } from '../http/i18n';
import { logOut } from '../http/log-out';
import { errorMessage, type Logger } from '../logger';
import { defineSessionEnd } from '../store/session-store';
import { createBackchannelStore } from './backchannel-store';
import { createBackchannelWorker, failureOf, type BackchannelWorker } from './backchannel-worker';
import { createInteractionRoutes } from './interaction-routes';
import type { SigningJwks } from './keys';
import { linkSessions } from './link-sessions';
import { cardauthUserOf, createLogoutPages, expressOf, type LogoutPages } from './logout-pages';
import { createOidcProvider, deferSession, OIDC_PREFIX, type OidcProviderDeps } from './provider';

/** The provider's own paths: everything under /oidc/ but the interaction page, and the discovery document. */
const PROVIDER_PATH = new RegExp(`^${OIDC_PREFIX}/(?!interaction/)|^/\\.well-known/openid-configuration$`, 'i');
/**
 * The endpoints that read the cardauth session: the authorization endpoint (and its resume), and
 * the end-session endpoint with its confirm and success steps (RP-initiated logout).
 */
const SESSION_PATH = new RegExp(`^${OIDC_PREFIX}/(?:auth|session/end)(?:/|$)`, 'i');
/** The resume of an authorization after its interaction: the provider asks for the cardauth user only if the result has no login. */
const RESUME_PATH = new RegExp(`^${OIDC_PREFIX}/auth/[^/]+$`, 'i');

const htmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * cardauth's session cookie is SameSite=Strict: a browser sends it on no request of a navigation
 * that started on another site (the MIS sending the user here), redirects included. So an
 * authorization or logout request that comes cross-site is answered by a page that at once opens
 * the same URL again, from cardauth's own origin, which carries the cookie: the provider then
 * sees the cardauth session (silent SSO, `prompt=none`; whom a logout is about) and no second
 * login is asked for.
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
 * A logout request when the provider has no session (no account) but cardauth has one: the
 * provider would post the confirmation at once; cardauth asks first, as with a provider
 * session, so that a page of another site cannot log the user out of cardauth unasked.
 */
async function askWithoutProviderSession(ctx: KoaContextWithOIDC, pages: LogoutPages): Promise<void> {
  const session = ctx.oidc.session;
  if (!session || session.accountId || !cardauthUserOf(ctx)) return;
  const action = htmlAttr(ctx.oidc.urlFor('end_session_confirm'));
  const xsrf = htmlAttr(String(session.state?.secret));
  await pages.logoutSource(ctx, `<form id="op.logoutForm" method="post" action="${action}"><input type="hidden" name="xsrf" value="${xsrf}"/></form>`);
}

/**
 * The user confirmed the logout (`logout=yes`, the provider's session is ended): cardauth's
 * session ends too, audited as `session.logout` with `{ via: 'oidc', clientId }`, so that
 * the next authorization request of any application asks for card + password again. If that
 * cannot be recorded, the answer is 503 and the cardauth session stays (no record, no change).
 */
async function logOutWithProvider(ctx: KoaContextWithOIDC, deps: Pick<OidcDeps, 'audit' | 'logger'>): Promise<void> {
  const user = cardauthUserOf(ctx);
  if (!ctx.oidc.params?.logout || !user) return;
  const { req, res } = expressOf(ctx);
  try {
    await logOut(req, user, deps.audit, { via: 'oidc', clientId: ctx.oidc.client?.clientId });
  } catch (err) {
    deps.logger.error('oidc_logout_failed', { err: errorMessage(err) });
    ctx.remove('Location');
    ctx.status = 503;
    ctx.type = 'text/plain';
    ctx.body = messages(pickLang(req, res)).err_unavailable;
  }
}

/**
 * oidc-provider sends back-channel logouts of its own when its session ends through
 * `/oidc/session/end` (RP-initiated logout): once each, with no retry. They are audited too,
 * with the cause `provider_logout`. A confirmed logout also ends the cardauth session
 * (logOutWithProvider), whose own back-channel logouts then follow (cause `ended`): a client
 * may be told twice, which Back-Channel Logout allows (the logout token is idempotent).
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
  /** Where the logout through the provider and the back-channel deliveries are recorded. */
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
 * and end-session endpoints run cardauth's session first, so the provider sees the cardauth
 * user (the resume of an authorization runs it only if the provider asks for the user), and a
 * confirmed logout ends the cardauth session too (RP-initiated logout).
 * Everything here is synchronous: the keys are read once at start (by createRouter, before
 * this module is loaded), and oidc-provider loads through require() (Node 20.19+).
 *
 * @example
 * const oidc = createOidc({ jwks: readSigningJwks(file), issuer, redis, cookieKeys, proxy, accounts, logger, audit, sessionTtlSec, sessionIdleSec, logout, now, session });
 * oidc.backchannel.start();
 */
export function createOidc(deps: OidcDeps): Oidc {
  const pages = createLogoutPages({ secure: deps.issuer.startsWith('https:') });
  const store = createBackchannelStore({ redis: deps.redis, idleMs: deps.sessionIdleSec * 1000, maxMs: deps.sessionTtlSec * 1000, sessionTtlSec: deps.sessionTtlSec });
  const provider = createOidcProvider({ ...deps, logoutPages: pages, linkedSid: store.linkedSid });
  linkSessions(provider, store, deps.logger);
  auditProviderLogouts(provider, deps.audit, deps.logger);
  provider.use(async (ctx, next) => {
    await next();
    // ctx.oidc exists once one of the provider's routes ran.
    const route = (ctx as Partial<KoaContextWithOIDC>).oidc?.route;
    if (route === 'end_session' && ctx.status === 200) await askWithoutProviderSession(ctx as KoaContextWithOIDC, pages);
    if (route === 'end_session_confirm' && ctx.status === 303) await logOutWithProvider(ctx as KoaContextWithOIDC, deps);
  });
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
    if (!SESSION_PATH.test(path)) return void callback(req, res);
    if (req.method === 'GET' && req.get('sec-fetch-site') === 'cross-site') return sameSiteBounce(req, res);
    if (RESUME_PATH.test(path)) {
      deferSession(req, (done) => deps.session(req, res, done));
      return void callback(req, res);
    }
    deps.session(req, res, (err?: unknown) => (err ? next(err) : void callback(req, res)));
  };
  return { providerRoutes, interactionRoutes: createInteractionRoutes({ provider, redis: deps.redis, now: deps.now }), backchannel };
}
