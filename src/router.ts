import { DESK_STATEMENT_TYP } from './contract/agent-statements';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import expressSession from 'express-session';
import type Redis from 'ioredis';
import { Passport } from 'passport';
import { CARD_CSV_FORM_MAX_BYTES } from './admin/card-csv';
import type { AuditSink } from './audit/record';
import type { Clock } from './clock';
import type { ServerConfig } from './config';
import { CardauthError } from './errors';
import { createAdminPages, type AdminPagesDeps } from './http/admin-pages';
import { createAdminRoutes, type AdminRoutesDeps } from './http/admin-routes';
import { createAuditRoutes } from './http/audit-routes';
import { createAuthRoutes, showSession, type AuthRoutesDeps } from './http/auth-routes';
import { bodyTooLarge, createErrorHandler } from './error-handler';
import { forwardAuth } from './http/forward-auth';
import { originGuard } from './http/origin-guard';
import { createPasswordChange } from './http/password-change';
import { createLogIn, sessionIdFor } from './http/session-writes';
import { createPageRoutes } from './http/page-routes';
import { requestSource } from './http/request-source';
import { createRequireLogin } from './http/require-login';
import { securityHeaders } from './http/security-headers';
import { sessionGuard } from './http/session-guard';
import { trustProxyCheck } from './http/trust-proxy-check';
import { errorMessage, type Logger } from './logger';
import type { BackchannelWorker } from './oidc/backchannel-worker';
import { readSigningJwks } from './oidc/keys';
import { createAgentRoutes, type AgentRoutesDeps } from './http/agent-routes';
import { createSkudRoutes } from './http/skud-routes';
import { createPresenceStatusRoute } from './http/presence-status-route';
import type { PresencePolicy } from './presence/gate';
import type { SkudStore } from './presence/integrations';
import { genericJsonAdapter } from './presence/generic-json';
import { createPresenceGate } from './presence/login-gate';
import type { PresenceStore } from './presence/presence-store';
import { createPresenceFeed } from './presence/receive-feed';
import { createPresenceStatus } from './presence/status';
import { createSkudVerifier, skudAudience } from './presence/verify-statement';
import type { Lockout } from './policy/lockout';
import type { NonceStore } from './policy/nonces';
import type { PasswordHasher } from './policy/password-hasher';
import type { PasswordRules, PasswordSetter } from './policy/password-lifecycle';
import { createCardPasswordStrategy, type CardPasswordDeps } from './strategies/card-password';
import type { Strategy as LocalStrategy } from 'passport-local';
import { createFactorCheck } from './strategies/factor-check';
import { createAgentJwsVerifier, type AgentLookup } from './strategies/agent-jws';
import { createStatementVerifier } from './strategies/card-statement';
import { createAgentAbuse } from './strategies/agent-abuse';
import { createCardStep } from './strategies/card-step';
import { createDeskRead } from './strategies/desk-read';
import { createIpLimit } from './strategies/ip-limit';
import { createSessionOpener } from './strategies/open-session';
import { createSessionRules } from './policy/session-rules';
import { createTapoutVerifier } from './strategies/tapout-event';
import { createWorkstationIpCheck } from './strategies/workstation-ip';
import type { AccountStore } from './store/accounts';
import type { CardStatus } from './store/cards';
import type { AgentStore } from './store/agents';
import type { SessionLocks } from './store/session-locks';
import type { SessionSlots } from './store/session-slots';
import type { SessionSweep } from './store/session-sweep';
import { createSessionStore } from './store/session-store';
import { createPasswordStep, type LoginAccount } from './strategies/password-step';
import { createSelfEnroll, type SelfEnrollDeps } from './strategies/self-enroll';
import type { SessionUser } from './strategies/session-user';
import './http/session-data';

/** JSON endpoints (everything else is a page or a static asset). */
const API_PATH = /^\/(?:auth|agents|skud|demo|admin\/api)\/|^\/(?:healthz|readyz)$/i;

/** Every agent route is under /agents/ (case-insensitive, as the router matches). */
const AGENT_PATH = /^\/agents\//i;

/** The largest request body accepted, whatever its Content-Type. */
const MAX_BODY_BYTES = 16 * 1024;

/** A CSV card import (the workbench's form, or the API's text/csv body) carries a whole file. */
const IMPORT_PATH = /^\/admin\/(?:api\/)?cards\/import$/i;

/**
 * A declared body over MAX_BODY_BYTES (a CSV import: CARD_CSV_FORM_MAX_BYTES, read only once
 * its route let an officer in) gets 413 before anything reads it. The JSON parser
 * enforces the same limit on what it reads (a chunked JSON body too); any other body is never
 * read, so only its Content-Length needs the check.
 */
const limitBody: express.RequestHandler = (req, _res, next) => {
  if (Number(req.headers['content-length']) > (IMPORT_PATH.test(req.path) ? CARD_CSV_FORM_MAX_BYTES : MAX_BODY_BYTES)) return next(bodyTooLarge());
  next();
};

/** CARDAUTH_AGENT_PORTS as the pages' scripts read it (`from-to`), or '' for CARDAUTH_AGENT_URL alone. */
const agentPorts = (config: ServerConfig) => (config.CARDAUTH_AGENT_PORTS ? `${config.CARDAUTH_AGENT_PORTS.from}-${config.CARDAUTH_AGENT_PORTS.to}` : '');

/** Everything the app needs; only entry points construct Redis and the stores. */
export interface AppDeps {
  config: ServerConfig;
  /** Backs express-session (connect-redis) and the readiness probe. */
  redis: Redis;
  clock: Clock;
  logger: Logger;
  accounts: {
    get(id: string): Promise<LoginAccount | null>;
    findByLogin(login: string): Promise<LoginAccount | null>;
    recordLogin: AccountStore['recordLogin'];
  };
  cards: { get(uid: string): Promise<{ accountId: string; status: CardStatus; label: string } | null>; activeForAccount(accountId: string): Promise<unknown[]> };
  /** Pending self-enrollments (CARDAUTH_SELF_ENROLLMENT). */
  enrollments: SelfEnrollDeps['enrollments'];
  agents: AgentLookup & AgentRoutesDeps['agents'] & Pick<AgentStore, 'seenAt' | 'countRefusal'>;
  audit: AuditSink;
  nonces: NonceStore;
  /** Single-use keys (agent event `jti`). */
  claimOnce: (key: string, ttlSec: number) => Promise<boolean>;
  locks: SessionLocks;
  /** Each account's live sessions, counted against its roles' limit at a login. */
  slots: SessionSlots;
  /** Ends sessions on every node: by id (the account's own, at its limit), or a person's at their exit (the presence feed). */
  sessions: Pick<SessionSweep, 'endIds' | 'end'>;
  enrollLimit: AgentRoutesDeps['enrollLimit'];
  /** Agent events per client IP (POST /agents/events). */
  eventLimit: AgentRoutesDeps['eventLimit'];
  eventRefusals: AgentRoutesDeps['eventRefusals'];
  /** Logins started per client IP (POST /auth/nonce). */
  nonceLimit: AuthRoutesDeps['nonceLimit'];
  lockout: Lockout;
  hasher: Pick<PasswordHasher, 'verify' | 'dummyVerify'>;
  /** The profile's password rules (the maximum age is checked at the login). */
  passwordPolicy: Pick<PasswordRules, 'maxAgeDays'>;
  /** Sets a new password by those rules (POST /auth/password/change). */
  passwords: Pick<PasswordSetter, 'set'>;
  /** Resolves when Redis and the audit log are usable; rejects otherwise. */
  ready: () => Promise<void>;
  /** The officer's use cases: with them, the admin API (`/admin/api/`) and the workbench (`/admin/`) are mounted. */
  admin?: AdminRoutesDeps['admin'] & AdminPagesDeps['admin'];
  /** The access-control integrations, where each person is, and the presence policy (docs/presence.md). */
  skud: Pick<SkudStore, 'get' | 'list' | 'eventsOn'>;
  presence: Pick<PresenceStore, 'record' | 'state'>;
  presencePolicy: PresencePolicy;
  /** Extra routes mounted before the error handler (demo tapper, agent endpoints). */
  extraRoutes?: express.Router[];
}

/** What {@link createRouter} builds, for createApp and createCardauth. */
export interface CardauthRouter {
  /** cardauth's paths (all of them, or those `ownPaths` matches), ending in their own 404 and error handler; any other path passes on. */
  router: express.Router;
  /**
   * The session, Passport and the session guard, once per request (a second run is a no-op):
   * the router runs it on its own paths; a host route runs it (through requireLogin) on its own.
   */
  session: RequestHandler;
  /** The `card-password` strategy for a host's own Passport: it writes the login's records itself and refuses a password due for change (`password_change_required`). */
  strategy: LocalStrategy;
  /** cardauth's last middleware: typed errors as JSON, anything else logged and answered 503. */
  errorHandler: ErrorRequestHandler;
  /** With the OpenID provider on: its back-channel logout, for the entry point to start, and stop on close. */
  backchannel?: BackchannelWorker;
}

/**
 * cardauth's paths when it is embedded in a host app (createCardauth): its pages, the login
 * API, the agents' and the access-control relays' endpoints, the static assets and the health probes. The host keeps `/`
 * and every other path.
 */
export const OWN_PATHS = /^\/(?:login|home|healthz|readyz)\/?$|^\/(?:auth|agents|skud|assets|oidc)(?:\/|$)|^\/\.well-known\/openid-configuration$/i;

/**
 * Builds cardauth's Router: every route, with its own body limit, Origin rule and security
 * headers, the session, and its 404 and error handler. With `ownPaths` it handles only the
 * paths that match and passes every other one on untouched (`next('router')`), so a host
 * app's routes keep the host's rules; without, every path is its own (createApp).
 * It renders its views by absolute path, so it needs no `views` setting of the app; the
 * app's `trust proxy` must equal CARDAUTH_TRUST_PROXY (see trustProxyCheck).
 *
 * @example
 * const { router } = createRouter({ config, redis, clock, logger, ...createServices({ redis, config, clock }) }, OWN_PATHS);
 * hostApp.use(router);
 */
export function createRouter(deps: AppDeps, ownPaths?: RegExp): CardauthRouter {
  const { config, clock } = deps;
  const now = () => clock.now();
  const secure = config.CARDAUTH_PUBLIC_ORIGIN.startsWith('https:');
  const router = express.Router();
  const errorHandler = createErrorHandler(deps.logger);
  if (ownPaths) router.use((req, _res, next) => next(ownPaths.test(req.path) ? undefined : 'router'));
  // The OpenID provider, when configured (CARDAUTH_OIDC_JWKS_FILE): its keys are read first (a bad
  // file stops start-up with one line), then its module is loaded, only then, so nothing else
  // loads oidc-provider (an ES module; Node 20.19+ require()s it, Jest cannot run it).
  const oidcKeys = config.CARDAUTH_OIDC_JWKS_FILE ? readSigningJwks(config.CARDAUTH_OIDC_JWKS_FILE) : undefined;
  const oidc = oidcKeys
    ? (require('./oidc/mount') as typeof import('./oidc/mount')).createOidc({
        jwks: oidcKeys,
        issuer: config.CARDAUTH_PUBLIC_ORIGIN,
        redis: deps.redis,
        cookieKeys: [...config.CARDAUTH_SESSION_SECRET],
        proxy: Boolean(config.CARDAUTH_TRUST_PROXY),
        accounts: deps.accounts,
        logger: deps.logger,
        audit: deps.audit,
        sessionTtlSec: config.CARDAUTH_SESSION_MAX_SEC,
        sessionIdleSec: config.CARDAUTH_SESSION_IDLE_SEC,
        logout: { pollMs: config.CARDAUTH_OIDC_LOGOUT_POLL_MS, attempts: config.CARDAUTH_OIDC_LOGOUT_ATTEMPTS, retryMs: config.CARDAUTH_OIDC_LOGOUT_RETRY_MS },
        now,
        session: (req, res, next) => session(req, res, next),
      })
    : undefined;
  // Its endpoints come first: they parse their own bodies, and a relying party sends no Origin.
  if (oidc) router.use(oidc.providerRoutes);
  const verifyAgentJws = createAgentJwsVerifier({
    agents: deps.agents,
    clock,
    audience: config.CARDAUTH_PUBLIC_ORIGIN,
    maxLifetimeSec: config.CARDAUTH_STATEMENT_MAX_LIFETIME_SEC,
    skewSec: config.CARDAUTH_CLOCK_SKEW_SEC,
  });
  // Before the session: the body limit and the JSON body parser, the agents' endpoints (they
  // authenticate by signature and carry no cookie and no Origin, so they come before both) and the
  // Origin check of every other write. A read (GET/HEAD) outside /agents/ needs none of these —
  // nothing to parse, no agent route, no Origin check for a read — and skips them in one step:
  // pages, GET /auth/session and GET /auth/forward, the hot paths, pass only helmet, the session
  // and the routes.
  const beforeSession = express.Router();
  beforeSession.use(limitBody);
  beforeSession.use(express.json({ limit: MAX_BODY_BYTES, strict: true, type: 'application/json' }));
  beforeSession.use(
    createAgentRoutes({
      agents: deps.agents,
      verifyTapout: createTapoutVerifier(verifyAgentJws, deps.claimOnce),
      locks: deps.locks,
      cards: deps.cards,
      enrollLimit: deps.enrollLimit,
      eventLimit: deps.eventLimit,
      eventRefusals: deps.eventRefusals,
      audit: deps.audit,
      now,
    }),
  );
  beforeSession.use(
    createSkudRoutes({
      feed: createPresenceFeed({
        verify: createSkudVerifier({ skud: deps.skud, clock, audience: skudAudience(config.CARDAUTH_PUBLIC_ORIGIN), skewSec: config.CARDAUTH_CLOCK_SKEW_SEC, claimOnce: deps.claimOnce }),
        adapter: genericJsonAdapter,
        accounts: deps.accounts,
        presence: deps.presence,
        sessions: deps.sessions,
        audit: deps.audit,
        now,
      }),
      eventLimit: deps.eventLimit,
      eventRefusals: deps.eventRefusals,
      audit: deps.audit,
    }),
  );
  beforeSession.use(originGuard(config.CARDAUTH_PUBLIC_ORIGIN));

  // Pages get helmet's full set; JSON answers get what matters for an API (OWASP REST):
  // a deny-all CSP, nosniff, CORP, no referrer, HSTS on https, and no-store (they carry
  // personal data and one-time nonces) — fewer bytes on the hot path.
  const setApiHeaders = securityHeaders(
    {
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      strictTransportSecurity: secure,
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xFrameOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    },
    { 'Cache-Control': 'no-store' },
  );
  const setPageHeaders = securityHeaders({
    // Not helmet's no-referrer: under it a browser sends `Origin: null` with a same-origin form
    // POST (Fetch, "serialize a request origin"), which the Origin check refuses, so no workbench
    // form could work. same-origin keeps the Referer and the Origin from every other site.
    referrerPolicy: { policy: 'same-origin' },
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        // Terminal servers: the page looks for its user's agent among loopback ports.
        connectSrc: ["'self'", config.CARDAUTH_AGENT_URL, ...(config.CARDAUTH_AGENT_PORTS ? ['http://127.0.0.1:*'] : [])],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    strictTransportSecurity: secure,
  });
  // The first layer, for every request: its security headers, then the writes' steps.
  router.use((req, res, next) => {
    const path = req.path;
    (API_PATH.test(path) ? setApiHeaders : setPageHeaders)(res);
    if ((req.method === 'GET' || req.method === 'HEAD') && !AGENT_PATH.test(path)) return next();
    beforeSession(req, res, next);
  });

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    deps.ready().then(
      () => res.json({ status: 'ready' }),
      (err: unknown) => {
        deps.logger.warn('not_ready', { err: err instanceof Error ? err.message : String(err) });
        res.status(503).json({ error: { code: 'unavailable', message: 'not ready' } });
      },
    );
  });

  const sessions = expressSession({
    name: 'cardauth.sid',
    secret: [...config.CARDAUTH_SESSION_SECRET],
    store: createSessionStore({ redis: deps.redis, ttlSec: config.CARDAUTH_SESSION_MAX_SEC }),
    resave: false,
    saveUninitialized: false,
    genid: sessionIdFor,
    cookie: { httpOnly: true, sameSite: 'strict', secure, path: '/' },
  });
  const passport = new Passport();
  const verifyStatement = createStatementVerifier(verifyAgentJws);
  const ipLimit = createIpLimit({ lockout: deps.lockout, audit: deps.audit, claimOnce: deps.claimOnce });
  const workstationSeenAt = createWorkstationIpCheck({ agents: deps.agents, exempt: config.CARDAUTH_WORKSTATION_IP_EXEMPT });
  const agentAbuse = createAgentAbuse({ agents: deps.agents, audit: deps.audit, max: config.CARDAUTH_AGENT_REFUSALS, windowSec: config.CARDAUTH_AGENT_REFUSALS_WINDOW_SEC, countUnknownCards: !config.CARDAUTH_SELF_ENROLLMENT });
  const cardStep = createCardStep({ verifyStatement, nonces: deps.nonces, cards: deps.cards, workstationSeenAt, cardLock: deps.lockout, agentAbuse, ipLimit, audit: deps.audit, now });
  const passwordStep = createPasswordStep({ accounts: deps.accounts, hasher: deps.hasher, lockout: deps.lockout, ipLimit, claimOnce: deps.claimOnce, audit: deps.audit });
  const sessionRules = createSessionRules(config);
  // An account not gated (by role or its own flag) costs nothing more: the gate reads Redis only for a gated one.
  const presenceGate = createPresenceGate({ policy: deps.presencePolicy, presence: deps.presence, now });
  const openSession = createSessionOpener({
    audit: deps.audit,
    accounts: deps.accounts,
    slots: deps.slots,
    sessions: deps.sessions,
    rules: sessionRules,
    sessionTtlSec: config.CARDAUTH_SESSION_MAX_SEC,
    presenceGate,
  });
  const cardStepTtlMs = config.CARDAUTH_NONCE_TTL_SEC * 1000;
  const factorProblem = createFactorCheck({ cards: deps.cards, agents: deps.agents });
  const sessionFactorProblem = createFactorCheck({ accounts: deps.accounts, cards: deps.cards, agents: deps.agents });

  const selfEnroll = createSelfEnroll({ accounts: deps.accounts, cards: deps.cards, enrollments: deps.enrollments, passwordStep, hasher: deps.hasher, ipLimit, audit: deps.audit });
  const strategyDeps: CardPasswordDeps = {
    cardStep,
    passwordStep,
    findAccount: (login) => deps.accounts.findByLogin(login),
    pendingCard: (req) => {
      const card = req.session.cardStep;
      return card && now() - card.at <= cardStepTtlMs ? card : undefined;
    },
    factorProblem,
    source: requestSource,
    audit: deps.audit,
    ipLimit,
    now,
    ...(config.CARDAUTH_SELF_ENROLLMENT
      ? {
          selfEnroll: {
            candidate: (req: express.Request) => {
              const c = req.session.enrollCandidate;
              return c && now() - c.at <= cardStepTtlMs ? c : undefined;
            },
            run: selfEnroll,
          },
        }
      : {}),
  };
  const strategy = createCardPasswordStrategy(strategyDeps);
  /** The strategy a host's own Passport uses: it writes the login's records and refuses a password due for change itself. */
  const hostStrategy = createCardPasswordStrategy({ ...strategyDeps, standalone: { maxAgeDays: deps.passwordPolicy.maxAgeDays, presenceGate } });
  passport.use('card-password', strategy);
  // The session was opened (its records written) before Passport regenerated it (createLogIn).
  passport.serializeUser<SessionUser, express.Request>((req, user, done) => {
    req.session.lastSeen = (user as SessionUser).authTime;
    done(null, user as SessionUser);
  });
  // `endSessions` (the handles of the account's other sessions to end at its limit) comes in the body of
  // the login itself, validated by its route (LoginBody, PasswordBody); any other login names none.
  const endSessionsOf = (req: express.Request): string[] => {
    const named = (req.body as { endSessions?: unknown } | undefined)?.endSessions;
    return Array.isArray(named) ? named.filter((h): h is string => typeof h === 'string') : [];
  };
  const logIn = createLogIn((result, id, req) => openSession(result, id, { source: requestSource(req), replacing: req.sessionID, endSessions: endSessionsOf(req) }));
  passport.deserializeUser<SessionUser>((s, done) => done(null, s as Express.User));

  const guard = sessionGuard({ rules: sessionRules, now, audit: deps.audit, locks: deps.locks, factorProblem: sessionFactorProblem });
  const sessionSteps = express.Router();
  sessionSteps.use(
    trustProxyCheck(config.CARDAUTH_TRUST_PROXY, deps.logger),
    (req, res, next) =>
      sessions(req, res, (err?: unknown) => {
        // express-session saves after the answer was sent; a failure then (Redis gone) can
        // only be logged, or it would reach Express's final handler as a stack trace.
        if (err && res.headersSent) return deps.logger.error('session_save_failed', { path: req.path, err: errorMessage(err) });
        next(err);
      }),
    passport.initialize(),
    passport.session(),
    guard,
  );
  const sessionDone = new WeakSet<express.Request>();
  const session: RequestHandler = (req, res, next) => {
    if (sessionDone.has(req)) return next();
    sessionDone.add(req);
    sessionSteps(req, res, next);
  };
  router.use(session);

  // The hot paths, ahead of the routers: the pages' session check and a reverse proxy's.
  router.get('/auth/session', ...showSession);
  router.get('/auth/forward', forwardAuth);
  const passwordChange = createPasswordChange({ passwordStep, factorProblem, logIn, passwords: deps.passwords, audit: deps.audit, maxAgeDays: deps.passwordPolicy.maxAgeDays, now });
  router.use(createAuthRoutes({ passport, nonces: deps.nonces, nonceLimit: deps.nonceLimit, cardStep, accounts: deps.accounts, holdForPasswordChange: passwordChange.hold, logIn, unlockFailure: (sid) => deps.lockout.unlockFailure(sid), audit: deps.audit, cardIdentifiesUser: config.CARDAUTH_CARD_IDENTIFIES_USER, selfEnrollment: config.CARDAUTH_SELF_ENROLLMENT, preauthTtlMs: cardStepTtlMs, now }));
  router.use(passwordChange.routes);
  const presenceStatus = createPresenceStatus({ skud: deps.skud, policy: deps.presencePolicy, now });
  if (deps.admin) {
    const requireLogin = createRequireLogin({ session, errorHandler });
    const stepUpSec = config.CARDAUTH_ADMIN_STEP_UP_SEC;
    // Only a desk read's own type: a login statement is not a desk read, nor the other way round.
    const deskRead = createDeskRead({ verifyStatement: createStatementVerifier(verifyAgentJws, DESK_STATEMENT_TYP), nonces: deps.nonces, workstationSeenAt, cards: deps.cards, accounts: deps.accounts, audit: deps.audit });
    router.use(createAdminRoutes({ admin: deps.admin, accounts: deps.accounts, requireLogin, deskRead, stepUpSec, now }));
    router.use(createAuditRoutes({ query: deps.admin.auditQuery, audit: deps.audit, accounts: deps.accounts, requireLogin }));
    const desk = { agentUrl: config.CARDAUTH_AGENT_URL, agentPorts: agentPorts(config), origin: config.CARDAUTH_PUBLIC_ORIGIN };
    router.use(createAdminPages({ admin: deps.admin, audit: deps.audit, accounts: deps.accounts, requireAuditTrail: deps.admin.requireAuditTrail, requireLogin, stepUpSec, now, policy: config, presenceStatus, logger: deps.logger, desk }));
  }
  router.use(createPresenceStatusRoute({ status: presenceStatus, requireLogin: createRequireLogin({ session, errorHandler }) }));
  router.use(
    createPageRoutes({
      publicOrigin: config.CARDAUTH_PUBLIC_ORIGIN,
      agentUrl: config.CARDAUTH_AGENT_URL,
      agentPorts: agentPorts(config),
      demo: config.CARDAUTH_DEMO,
      selfEnrollment: config.CARDAUTH_SELF_ENROLLMENT,
    }),
  );
  if (oidc) router.use(oidc.interactionRoutes);
  for (const r of deps.extraRoutes ?? []) router.use(r);

  router.use((_req, _res, next) => next(new CardauthError('not_found', 'no such page')));
  router.use(errorHandler);
  return { router, session, strategy: hostStrategy, errorHandler, ...(oidc ? { backchannel: oidc.backchannel } : {}) };
}
