import type { Logger } from '../../src/logger';
import { cardauth } from '../lib/cardauth';
import { serveRpc } from '../lib/children';
import { listenLoopback } from '../lib/listen';
import { procCpu } from '../lib/proc';

/** The session secret every bench server uses (the bare app signs with the same one). */
export const BENCH_SECRET = 'bench-session-secret-0123456789abcdef';

export interface CardauthServerOptions {
  redisUrl: string;
  /** A free port chosen by the runner: the public origin (the statements' `aud`) must be known before listening. */
  port: number;
  /** Extra CARDAUTH_* keys. */
  env?: Record<string, string>;
  /**
   * What-if, not the shipped configuration: turn on ioredis auto-pipelining
   * on the client connectRedis made (commands issued in one tick share one
   * write). Used only to test where the login's time goes.
   */
  autoPipelining?: boolean;
}

export interface RunningCardauth {
  url: string;
  /** Whether the app runs the OpenID back-channel logout beside it (createAppParts, once the provider sends it). */
  backchannel: boolean;
  /** Public origin = url; requests must send it as Origin and statements name it as `aud`. */
  origin: string;
  /** warn/error lines the server logged (the first few also go to stderr). */
  logged(): { warn: number; error: number; first: string[] };
  /** What one Redis round trip costs this process's JS thread: `n` HGETALLs of `key` one after another through the app's client, ms each. */
  roundTrip(n: number, key: string): Promise<number>;
  close(): Promise<void>;
}

function countingLogger(tag: string): Logger & { counts: { warn: number; error: number; first: string[] } } {
  const counts = { warn: 0, error: 0, first: [] as string[] };
  const line = (level: 'warn' | 'error') => (event: string, fields: Record<string, unknown> = {}) => {
    counts[level]++;
    if (counts.first.length < 5) {
      const s = `${tag} ${level} ${event} ${JSON.stringify(fields).slice(0, 300)}`;
      counts.first.push(s);
      process.stderr.write(`${s}\n`);
    }
  };
  return { info() {}, warn: line('warn'), error: line('error'), counts };
}

/**
 * The real server, wired like the entry point: loadServerConfig → connectRedis
 * → createServices → createApp → listen on 127.0.0.1. Used in a child process
 * (see main below) or in-process.
 */
export async function startCardauth(opts: CardauthServerOptions): Promise<RunningCardauth> {
  const { config: cfg, redis: r, services: s, app: a } = cardauth;
  const origin = `http://127.0.0.1:${opts.port}`;
  const config = cfg.loadServerConfig({
    REDIS_URL: opts.redisUrl,
    CARDAUTH_HOST: '127.0.0.1',
    CARDAUTH_PORT: String(opts.port),
    CARDAUTH_PUBLIC_ORIGIN: origin,
    CARDAUTH_SESSION_SECRET: BENCH_SECRET,
    // The load generator is one address standing for many workstations.
    CARDAUTH_NONCE_PER_MIN: '1000000',
    // A bench account logs in again and again (probes, pairs of windows); the timed login loop logs
    // each login out (see login-throughput), so the live count stays small, but not to zero.
    CARDAUTH_SESSION_LIMITS: 'clinician=100',
    ...opts.env,
  });
  const logger = countingLogger(`[cardauth ${process.pid}]`);
  const redis = r.connectRedis(config.REDIS_URL, logger);
  if (!(await r.whenReady(redis, 5000))) throw new Error('redis not ready');
  if (opts.autoPipelining) redis.options.enableAutoPipelining = true;
  const clock = { now: () => Date.now() };
  const services = s.createServices({ redis, config, clock });
  const deps = { config, redis, clock, logger, ...services };
  // The back-channel logout sender runs beside the app where the build has it (createAppParts,
  // as the entry point starts it); a build without it has createApp only.
  const parts = (a as { createAppParts?: (d: typeof deps) => { app: ReturnType<typeof a.createApp>; backchannel?: { start(): void; stop(): Promise<void> | void } } }).createAppParts?.(deps) ?? { app: a.createApp(deps) };
  const listening = await listenLoopback(parts.app, config.CARDAUTH_PORT);
  parts.backchannel?.start();
  return {
    url: listening.url,
    backchannel: parts.backchannel !== undefined,
    origin,
    logged: () => ({ ...logger.counts, first: [...logger.counts.first] }),
    async roundTrip(n, key) {
      const before = procCpu(process.pid).main;
      for (let i = 0; i < n; i++) await redis.hgetall(key);
      return (procCpu(process.pid).main - before) / n;
    },
    async close() {
      await parts.backchannel?.stop();
      await listening.close();
      redis.disconnect();
    },
  };
}

if (require.main === module) {
  void (async () => {
    const opts = JSON.parse(process.argv[2]!) as CardauthServerOptions;
    const running = await startCardauth(opts);
    serveRpc(
      { logged: () => running.logged(), roundTrip: (arg) => running.roundTrip((arg as { n: number }).n, (arg as { key: string }).key) },
      { url: running.url, origin: running.origin, backchannel: running.backchannel },
      async () => {
        await running.close();
        return running.logged();
      },
    );
  })().catch((err: unknown) => {
    process.stderr.write(`cardauth bench server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
