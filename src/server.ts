import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import { createInactivityJob } from './admin/inactivity-job';
import { createCheckpointWriter } from './audit/checkpoint';
import { createCheckpointJob } from './audit/checkpoint-job';
import { createIndexJob } from './audit/index-job';
import { createAuditIndexer } from './audit/indexer';
import { readAuditKeys } from './audit/keys';
import { recordConfigChanges } from './admin/config-change';
import { policyAppliedRecord } from './admin/policy';
import { createAppParts } from './app';
import { checkAuditDurability } from './audit/durability';
import type { Clock } from './clock';
import type { ServerConfig } from './config';
import { CardauthError } from './errors';
import { errorMessage, type Logger } from './logger';
import { connectRedis, whenReady } from './redis';
import { createServices } from './services';

/** A running server. */
export interface RunningServer {
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /**
   * Stops accepting connections, lets requests in flight finish (up to the
   * grace period, then cuts them), and disconnects Redis. Safe to call twice.
   */
  close(): Promise<void>;
}

export interface StartServerDeps {
  config: ServerConfig;
  logger: Logger;
  clock: Clock;
  /** How long to wait for Redis before listening anyway. Default 3000 ms. */
  redisWaitMs?: number;
  /** How long close() lets requests in flight finish. Default 10000 ms. */
  shutdownGraceMs?: number;
  /** Routers mounted after cardauth's own routes (the demo's, from dev/demo/routes.ts). Default none. */
  extraRoutes?: Router[];
}

/**
 * The server's entry point: the one place that constructs its ioredis client.
 * It connects Redis, builds the services and the app, and listens on
 * `CARDAUTH_HOST:CARDAUTH_PORT`, logging `{"event":"listening","url":…}`.
 * The policy it runs with is audited first (`policy.applied`), then each
 * configuration key changed since the last start (`config.changed`,
 * src/admin/config-change.ts; if Redis is not reachable yet, both when it
 * is); cards bound before the card index existed are put into it in the
 * background (CardStore.indexExisting).
 *
 * It waits up to `redisWaitMs` for Redis, then listens anyway: until Redis is
 * back, `/readyz` answers 503 and logins fail closed with 503, while the
 * client keeps reconnecting by itself. A Redis error is logged, never thrown
 * at the process. It installs no signal handlers: the caller (`cardauth
 * serve`) decides when to call close().
 *
 * It mounts `extraRoutes` after its own; the shipped `cardauth serve` passes none
 * (the demo's server, `serve` in dev/cli.ts, passes the demo's).
 * With the OpenID provider on it runs its back-channel logout
 * (src/oidc/backchannel-worker.ts) until close(); with an audit key file, the
 * audit checkpoints (src/audit/checkpoint-job.ts); the audit's index streams
 * (src/audit/index-job.ts).
 *
 * Rejects with `unavailable` when it cannot listen (e.g. the port is taken),
 * after disconnecting Redis; with `config_invalid` when Redis answers that it
 * does not fsync every write (`appendfsync always`) and
 * CARDAUTH_AUDIT_REQUIRE_FSYNC is true (the default). A Redis that refuses
 * CONFIG GET (an ACL user), or that comes up only after the start, is
 * logged about instead.
 *
 * @example
 * const server = await startServer({ config: loadServerConfig(process.env), logger: createJsonLogger(process.stdout), clock: systemClock });
 * process.once('SIGTERM', () => void server.close());
 */
export async function startServer(deps: StartServerDeps): Promise<RunningServer> {
  const { config, logger, clock } = deps;
  if (!config || !logger || !clock || typeof clock.now !== 'function') throw new TypeError('startServer needs { config, logger, clock }');
  const redisWaitMs = deps.redisWaitMs ?? 3000;
  const graceMs = deps.shutdownGraceMs ?? 10_000;

  const redis = connectRedis(config.REDIS_URL, logger);
  // Nothing acknowledged may be lost (РСБ.4): the audit's Redis must fsync every write (src/audit/durability.ts).
  if (await whenReady(redis, redisWaitMs)) {
    try {
      await checkAuditDurability(redis, logger, config.CARDAUTH_AUDIT_REQUIRE_FSYNC);
    } catch (err) {
      redis.disconnect();
      throw err;
    }
  } else {
    logger.warn('redis_not_ready', { waitedMs: redisWaitMs, note: 'listening anyway; /readyz answers 503 until Redis is back' });
    // Already listening by then: an unsafe setting is logged, not refused.
    redis.once('ready', () => void checkAuditDurability(redis, logger, false).catch(() => undefined));
  }
  const services = createServices({ redis, config, clock, logger });
  // The policy it runs with, and what changed in its config since the last start, are audited at start; if Redis is not there yet, once it is.
  let policyRecorded = false; // a retry after the config step failed does not record the policy twice
  const recordPolicy = () =>
    (policyRecorded ? Promise.resolve() : services.audit.append(policyAppliedRecord(config)).then(() => void (policyRecorded = true)))
      .then(() => recordConfigChanges({ redis, audit: services.audit }, config))
      .then(
        () => true,
        (err: unknown) => {
          logger.error('policy_unrecorded', { err: errorMessage(err), note: 'recorded when Redis is ready again' });
          return false;
        },
      );
  if (!(await recordPolicy())) redis.once('ready', () => void recordPolicy());
  // Cards bound before the card index existed (an upgrade) go into it once, in the background.
  const indexCards = (): Promise<void> =>
    services.cards.indexExisting().then(
      (added) => (added > 0 ? logger.info('card_index_built', { added }) : undefined),
      (err: unknown) => {
        logger.error('card_index_unbuilt', { err: errorMessage(err), note: 'built when Redis is ready again' });
        redis.once('ready', () => void indexCards());
      },
    );
  void indexCards();
  const extraRoutes = deps.extraRoutes ?? [];
  let parts: ReturnType<typeof createAppParts>;
  let checkpoints: ReturnType<typeof createCheckpointJob> | undefined;
  try {
    parts = createAppParts({ config, redis, clock, logger, ...services, extraRoutes });
    // РСБ.4: signed checkpoints of the audit chain, by one node at a time (CARDAUTH_AUDIT_KEYS_FILE; empty: none).
    if (config.CARDAUTH_AUDIT_KEYS_FILE) {
      const writer = createCheckpointWriter({ redis, clock, keys: readAuditKeys(config.CARDAUTH_AUDIT_KEYS_FILE).keys });
      checkpoints = createCheckpointJob({ redis, writer, clock, logger, records: config.CARDAUTH_AUDIT_CHECKPOINT_RECORDS, sec: config.CARDAUTH_AUDIT_CHECKPOINT_SEC });
    }
  } catch (err) {
    // E.g. an unusable CARDAUTH_OIDC_JWKS_FILE: the process must not stay up on Redis's connection.
    redis.disconnect();
    throw err;
  }

  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = parts.app.listen(config.CARDAUTH_PORT, config.CARDAUTH_HOST);
      const onError = (err: Error) => reject(err);
      s.once('error', onError);
      s.once('listening', () => {
        s.off('error', onError);
        resolve(s);
      });
    });
  } catch (err) {
    redis.disconnect();
    const where = `${config.CARDAUTH_HOST}:${config.CARDAUTH_PORT}`;
    throw new CardauthError('unavailable', `cannot listen on ${where} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  // After start-up a server error (rare: e.g. EMFILE on accept) is logged, not thrown at the process.
  server.on('error', (err) => logger.error('server_error', { err: errorMessage(err) }));

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info('listening', { url });
  parts.backchannel?.start();
  // ИАФ.1: unused accounts are blocked hourly, by one node at a time (CARDAUTH_INACTIVE_BLOCK_DAYS; 0: off).
  const inactivity = createInactivityJob({ redis, stores: services, clock, logger, days: config.CARDAUTH_INACTIVE_BLOCK_DAYS });
  inactivity.start();
  checkpoints?.start();
  // Issue 11 §4: the audit's index streams, kept by one node at a time.
  const auditIndex = createIndexJob({ redis, indexer: createAuditIndexer({ redis }), logger });
  auditIndex.start();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // A job's look still running finishes before Redis closes under it.
      await Promise.all([inactivity.stop(), checkpoints?.stop(), auditIndex.stop()]);
      await new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      await parts.backchannel?.stop();
      if (redis.status === 'ready') {
        try {
          await redis.quit();
        } catch {
          redis.disconnect();
        }
      } else {
        redis.disconnect();
      }
      logger.info('stopped', { url });
    })());
  return { url, close };
}
