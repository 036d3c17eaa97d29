import type Redis from 'ioredis';
import { systemClock, type Clock } from './clock';
import type { ServerConfig } from './config';
import { createRequireLogin } from './http/require-login';
import { silentLogger, type Logger } from './logger';
import { connectRedis } from './redis';
import { createRouter, OWN_PATHS, type CardauthRouter } from './router';
import { createServices } from './services';

export interface CardauthOptions {
  /** The validated config: `loadServerConfig(env)`. CARDAUTH_HOST and CARDAUTH_PORT are not used (the host listens). */
  config: ServerConfig;
  /**
   * The host's own ioredis client (cardauth never disconnects it), or a URL for a client
   * cardauth constructs, owns and disconnects on close(). Default: the config's REDIS_URL.
   * A host client should fail fast like cardauth's own (`enableOfflineQueue: false`, a
   * `commandTimeout`), or a login waits for Redis instead of answering 503.
   * The type is ioredis 6's own class: ioredis is a dependency with a caret range, so npm
   * installs one copy for the host and cardauth and the host's client is this type. A host
   * on another ioredis major gets its own nested copy for cardauth and passes a URL. (A
   * structural type of the methods used would have to cover connect-redis's and
   * rate-limiter-flexible's use of the client too: not narrow, and not checkable here.)
   */
  redis?: Redis | string;
  clock?: Clock;
  logger?: Logger;
}

/** cardauth embedded in a host's Express app. */
export interface Cardauth {
  /**
   * Mount at the root, before the host's routes: `app.use(cardauth.router)`. It answers
   * `/login`, `/home`, `/auth/*`, `/agents/*`, `/assets/*`, `/healthz` and `/readyz` with
   * cardauth's body limit, Origin rule, security headers, 404 and error handler, and, when
   * the config has CARDAUTH_OIDC_JWKS_FILE, the OpenID provider (`/oidc/*` and
   * `/.well-known/openid-configuration`, the host's origin its issuer); it passes every other
   * path to the host untouched.
   */
  router: CardauthRouter['router'];
  /** `requireLogin({ roles?, api? })`: middleware for the host's routes (see createRequireLogin). */
  requireLogin: ReturnType<typeof createRequireLogin>;
  /** cardauth's session, Passport and session guard, for a host route that needs them without requireLogin (e.g. its own Passport and `strategy`). */
  session: CardauthRouter['session'];
  /** The `card-password` Passport strategy, for `passport.use('card-password', strategy)` in the host's own Passport. */
  strategy: CardauthRouter['strategy'];
  /** Stops the OpenID back-channel logout (when the provider is on) and disconnects the Redis client cardauth constructed (not a client the host passed). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * cardauth as a module of a Node MIS: the same Router createApp is built from, mounted in
 * the host's Express app. Express settings are the host app's: it must set `trust proxy`
 * to CARDAUTH_TRUST_PROXY (`app.set('trust proxy', config.CARDAUTH_TRUST_PROXY)`;
 * cardauth's routes and requireLogin answer 503 otherwise, see trustProxyCheck).
 *
 * @example
 * const config = loadServerConfig(process.env);
 * const cardauth = createCardauth({ config, logger: createJsonLogger(process.stdout) });
 * const app = express();
 * app.set('trust proxy', config.CARDAUTH_TRUST_PROXY);
 * app.use(cardauth.router);
 * app.get('/patients', cardauth.requireLogin(), (req, res) => res.send((req as LoggedInRequest).user.displayName));
 */
export function createCardauth(options: CardauthOptions): Cardauth {
  const config = options?.config;
  if (!config || typeof config.CARDAUTH_PUBLIC_ORIGIN !== 'string' || !Object.isFrozen(config)) {
    throw new TypeError('createCardauth needs { config: loadServerConfig(env) }');
  }
  const given = options.redis;
  if (given !== undefined && typeof given !== 'string' && typeof given?.duplicate !== 'function') {
    throw new TypeError('createCardauth: redis must be an ioredis client or a redis:// URL');
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const owned = typeof given === 'object' ? undefined : connectRedis(given ?? config.REDIS_URL, logger);
  const redis = owned ?? (given as Redis);
  let built: ReturnType<typeof createRouter>;
  try {
    built = createRouter({ config, redis, clock, logger, ...createServices({ redis, config, clock, logger }) }, OWN_PATHS);
  } catch (err) {
    // E.g. an unusable CARDAUTH_OIDC_JWKS_FILE: the client cardauth made must not stay connected.
    owned?.disconnect();
    throw err;
  }
  const { router, session, strategy, errorHandler, backchannel } = built;
  backchannel?.start();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await backchannel?.stop();
      if (!owned) return;
      if (owned.status !== 'ready') return owned.disconnect();
      await owned.quit().catch(() => owned.disconnect());
    })());
  return { router, requireLogin: createRequireLogin({ session, errorHandler }), session, strategy, close };
}
