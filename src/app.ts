import express, { type Express } from 'express';
import session from 'express-session';
import type Redis from 'ioredis';
import { Passport } from 'passport';
import type { AuditEventInput } from './audit/record';
import type { Clock } from './clock';
import type { ServerConfig } from './config';
import { CardauthError } from './errors';
import { createAuthRoutes, showSession, type AuthRoutesDeps } from './http/auth-routes';
import { bodyTooLarge, createErrorHandler } from './http/error-handler';
import { forwardAuth } from './http/forward-auth';
import { originGuard } from './http/origin-guard';
import { createPageRoutes, VIEWS_DIR } from './http/page-routes';
import { requestSource } from './http/request-source';
import { securityHeaders } from './http/security-headers';
import { sessionGuard } from './http/session-guard';
import { errorMessage, type Logger } from './logger';
import { createAgentRoutes, type AgentRoutesDeps } from './http/agent-routes';
import type { Lockout } from './policy/lockout';
import type { NonceStore } from './policy/nonces';
import type { PasswordHasher } from './policy/password-hasher';
import { createCardPasswordStrategy } from './strategies/card-password';
import { createFactorCheck } from './strategies/factor-check';
import { createAgentJwsVerifier, type AgentLookup } from './strategies/agent-jws';
import { createStatementVerifier } from './strategies/card-statement';
import { createCardStep } from './strategies/card-step';
import { createIpLimit } from './strategies/ip-limit';
import { createSessionOpener } from './strategies/open-session';
import { createTapoutVerifier } from './strategies/tapout-event';
import { createWorkstationIpCheck } from './strategies/workstation-ip';
import type { AgentStore } from './store/agents';
import type { SessionLocks } from './store/session-locks';
import { createSessionStore } from './store/session-store';
import { createPasswordStep, type LoginAccount } from './strategies/password-step';
import type { LoginResult, SessionUser } from './strategies/session-user';
import './http/session-data';

/** JSON endpoints (everything else is a page or a static asset). */
const API_PATH = /^\/(?:auth|agents|demo)\/|^\/(?:healthz|readyz)$/i;

/** Every agent route is under /agents/ (case-insensitive, as the router matches). */
const AGENT_PATH = /^\/agents\//i;

/** The largest request body accepted, whatever its Content-Type. */
const MAX_BODY_BYTES = 16 * 1024;

/**
 * A declared body over MAX_BODY_BYTES gets 413 before anything reads it. The JSON parser
 * enforces the same limit on what it reads (a chunked JSON body too); any other body is never
 * read, so only its Content-Length needs the check.
 */
const limitBody: express.RequestHandler = (req, _res, next) => {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return next(bodyTooLarge());
  next();
};

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
    recordLogin(id: string, login: { at: number; workstation: string }): Promise<{ at: number; workstation: string } | null>;
  };
  cards: { get(uid: string): Promise<{ accountId: string; status: 'active' | 'revoked' } | null> };
  agents: AgentLookup & AgentRoutesDeps['agents'] & Pick<AgentStore, 'seenAt'>;
  audit: { append(input: AuditEventInput): Promise<unknown> };
  nonces: NonceStore;
  /** Single-use keys (agent event `jti`). */
  claimOnce: (key: string, ttlSec: number) => Promise<boolean>;
  locks: SessionLocks;
  enrollLimit: AgentRoutesDeps['enrollLimit'];
  /** Agent events per client IP (POST /agents/events). */
  eventLimit: AgentRoutesDeps['eventLimit'];
  eventRefusals: AgentRoutesDeps['eventRefusals'];
  /** Logins started per client IP (POST /auth/nonce). */
  nonceLimit: AuthRoutesDeps['nonceLimit'];
  lockout: Lockout;
  hasher: Pick<PasswordHasher, 'verify' | 'dummyVerify'>;
  /** Resolves when Redis and the audit log are usable; rejects otherwise. */
  ready: () => Promise<void>;
  /** Extra routes mounted before the error handler (demo tapper, agent endpoints). */
  extraRoutes?: express.Router[];
}

/**
 * Builds the Express app. It never listens, so tests run it on port 0.
 *
 * @example
 * const app = createApp({ config, redis, clock: systemClock, logger, ...createServices({ redis, config, clock }) });
 * app.listen(config.CARDAUTH_PORT, config.CARDAUTH_HOST);
 */
export function createApp(deps: AppDeps): Express {
  const { config, clock } = deps;
  const now = () => clock.now();
  const secure = config.CARDAUTH_PUBLIC_ORIGIN.startsWith('https:');
  const app = express();
  app.disable('x-powered-by');
  // The `etag` setting covers only what res.send answers (res.json, res.render): JSON (no-store,
  // below), pages (no-store, set by page-routes) and errors, none worth revalidating, so an ETag
  // would only cost a SHA-1 of each body. Static /assets are cached and keep serve-static's ETag.
  app.set('etag', false);
  app.set('views', VIEWS_DIR);
  app.set('view engine', 'ejs');
  if (config.CARDAUTH_TRUST_PROXY !== false) app.set('trust proxy', config.CARDAUTH_TRUST_PROXY);

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
      enrollLimit: deps.enrollLimit,
      eventLimit: deps.eventLimit,
      eventRefusals: deps.eventRefusals,
      audit: deps.audit,
      now,
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
  app.use((req, res, next) => {
    const path = req.path;
    (API_PATH.test(path) ? setApiHeaders : setPageHeaders)(res);
    if ((req.method === 'GET' || req.method === 'HEAD') && !AGENT_PATH.test(path)) return next();
    beforeSession(req, res, next);
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    deps.ready().then(
      () => res.json({ status: 'ready' }),
      (err: unknown) => {
        deps.logger.warn('not_ready', { err: err instanceof Error ? err.message : String(err) });
        res.status(503).json({ error: { code: 'unavailable', message: 'not ready' } });
      },
    );
  });

  const sessions = session({
    name: 'cardauth.sid',
    secret: [...config.CARDAUTH_SESSION_SECRET],
    store: createSessionStore({ redis: deps.redis, ttlSec: config.CARDAUTH_SESSION_MAX_SEC }),
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'strict', secure, path: '/' },
  });
  app.use((req, res, next) =>
    sessions(req, res, (err?: unknown) => {
      // express-session saves after the answer was sent; a failure then (Redis gone) can
      // only be logged, or it would reach Express's final handler as a stack trace.
      if (err && res.headersSent) return deps.logger.error('session_save_failed', { path: req.path, err: errorMessage(err) });
      next(err);
    }),
  );

  const passport = new Passport();
  const verifyStatement = createStatementVerifier(verifyAgentJws);
  const ipLimit = createIpLimit({ lockout: deps.lockout, audit: deps.audit, claimOnce: deps.claimOnce });
  const workstationSeenAt = createWorkstationIpCheck({ agents: deps.agents, exempt: config.CARDAUTH_WORKSTATION_IP_EXEMPT });
  const cardStep = createCardStep({ verifyStatement, nonces: deps.nonces, cards: deps.cards, workstationSeenAt, ipLimit, audit: deps.audit, now });
  const passwordStep = createPasswordStep({ accounts: deps.accounts, hasher: deps.hasher, lockout: deps.lockout, ipLimit, claimOnce: deps.claimOnce, audit: deps.audit });
  const openSession = createSessionOpener({ audit: deps.audit, accounts: deps.accounts, locks: deps.locks, sessionTtlSec: config.CARDAUTH_SESSION_MAX_SEC });
  const cardStepTtlMs = config.CARDAUTH_NONCE_TTL_SEC * 1000;
  const factorProblem = createFactorCheck({ cards: deps.cards, agents: deps.agents });
  const sessionFactorProblem = createFactorCheck({ accounts: deps.accounts, cards: deps.cards, agents: deps.agents });

  passport.use(
    'card-password',
    createCardPasswordStrategy({
      cardStep,
      passwordStep,
      pendingCard: (req) => {
        const card = req.session.cardStep;
        return card && now() - card.at <= cardStepTtlMs ? card : undefined;
      },
      factorProblem,
      source: requestSource,
      audit: deps.audit,
      ipLimit,
      now,
    }),
  );
  passport.serializeUser<SessionUser, express.Request>((req, user, done) => {
    openSession(user as LoginResult, req.sessionID, requestSource(req)).then((s) => {
      req.session.lastSeen = s.authTime;
      done(null, s);
    }, done);
  });
  passport.deserializeUser<SessionUser>((s, done) => done(null, s as Express.User));

  app.use(passport.initialize());
  app.use(passport.session());
  app.use(sessionGuard({ idleMs: config.CARDAUTH_SESSION_IDLE_SEC * 1000, maxMs: config.CARDAUTH_SESSION_MAX_SEC * 1000, now, audit: deps.audit, locks: deps.locks, factorProblem: sessionFactorProblem }));

  // The hot paths, ahead of the routers: the pages' session check and a reverse proxy's.
  app.get('/auth/session', ...showSession);
  app.get('/auth/forward', forwardAuth);
  app.use(createAuthRoutes({ passport, nonces: deps.nonces, nonceLimit: deps.nonceLimit, cardStep, accounts: deps.accounts, unlockFailure: (sid) => deps.lockout.unlockFailure(sid), audit: deps.audit, cardIdentifiesUser: config.CARDAUTH_CARD_IDENTIFIES_USER, preauthTtlMs: cardStepTtlMs, now }));
  app.use(
    createPageRoutes({
      publicOrigin: config.CARDAUTH_PUBLIC_ORIGIN,
      agentUrl: config.CARDAUTH_AGENT_URL,
      agentPorts: config.CARDAUTH_AGENT_PORTS ? `${config.CARDAUTH_AGENT_PORTS.from}-${config.CARDAUTH_AGENT_PORTS.to}` : '',
      demo: config.CARDAUTH_DEMO,
    }),
  );
  for (const r of deps.extraRoutes ?? []) app.use(r);

  app.use((_req, _res, next) => next(new CardauthError('not_found', 'no such page')));
  app.use(createErrorHandler(deps.logger));
  return app;
}
