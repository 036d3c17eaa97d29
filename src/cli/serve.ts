import type { Router } from 'express';
import { loadServerConfig, type ServerConfig } from '../config';
import { createJsonLogger, type Logger } from '../logger';
import type { Command } from './command';

/** Routers a variant of `serve` mounts besides cardauth's own (the demo's server, dev/cli.ts). */
export type ExtraRoutes = (config: ServerConfig, logger: Logger) => Router[];

/**
 * `cardauth serve`: runs the login server until SIGTERM or SIGINT, then
 * closes it (requests in flight finish) and disconnects Redis. A second
 * signal while closing ends the process at once. Logs are JSON lines on
 * stdout. With `extraRoutes`, the same command mounting more routers (the
 * demo's, from dev/).
 *
 * @example
 * const demoServe = createServeCommand((config, logger) => demoRoutes(config, logger));
 */
export const createServeCommand = (extraRoutes?: ExtraRoutes): Command => ({
  path: ['serve'],
  usage: '',
  summary: 'run the login server until SIGTERM/SIGINT (needs the full server config)',
  details: 'Listens on CARDAUTH_HOST:CARDAUTH_PORT; see `cardauth config table` for every key.',
  options: {},
  async run(ctx) {
    const config = loadServerConfig(ctx.io.env, ctx.configFile);
    const logger = createJsonLogger(ctx.io.stdout, () => ctx.clock.now());
    // Listen for the signal before starting, so a SIGTERM during the wait for Redis still closes cleanly.
    const stop = ctx.io.stopSignal();
    let server;
    try {
      const { startServer } = require('../server') as typeof import('../server'); // the server stack, only for serve
      server = await startServer({ config, logger, clock: ctx.clock, ...(extraRoutes ? { extraRoutes: extraRoutes(config, logger) } : {}) });
    } catch (err) {
      stop.cancel();
      throw err;
    }
    const signal = await stop.signal;
    logger.info('stopping', { signal });
    await server.close();
    return 0;
  },
});

export const serve = createServeCommand();
