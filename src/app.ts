import express, { type Express } from 'express';
import type { BackchannelWorker } from './oidc/backchannel-worker';
import { createRouter, type AppDeps } from './router';

export type { AppDeps } from './router';

/**
 * Builds the Express app: the app's settings and cardauth's Router (createRouter), which owns
 * every path, its 404 and its error handler. It never listens, so tests run it on port 0.
 *
 * @example
 * const app = createApp({ config, redis, clock: systemClock, logger, ...createServices({ redis, config, clock }) });
 * app.listen(config.CARDAUTH_PORT, config.CARDAUTH_HOST);
 */
export function createApp(deps: AppDeps): Express {
  return createAppParts(deps).app;
}

/**
 * {@link createApp}, and the work the app needs running beside it: the OpenID provider's
 * back-channel logout when it is on (the server entry starts it, and stops it on close).
 *
 * @example
 * const { app, backchannel } = createAppParts(deps);
 * backchannel?.start();
 */
export function createAppParts(deps: AppDeps): { app: Express; backchannel?: BackchannelWorker } {
  const app = express();
  app.disable('x-powered-by');
  // The `etag` setting covers only what res.send answers (res.json, res.render): JSON (no-store),
  // pages (no-store, set by page-routes) and errors, none worth revalidating, so an ETag
  // would only cost a SHA-1 of each body. Static /assets are cached and keep serve-static's ETag.
  app.set('etag', false);
  app.set('trust proxy', deps.config.CARDAUTH_TRUST_PROXY);
  const { router, backchannel } = createRouter(deps);
  app.use(router);
  return { app, ...(backchannel ? { backchannel } : {}) };
}
