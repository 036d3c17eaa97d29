import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnChild, type Child, type LineLog } from './child-process';

export interface RedisServerOptions {
  /** Data folder (`--dir`): the append-only file lives here and survives restarts. */
  dir: string;
  /** Loopback TCP port. `--port 0` would disable TCP, so a real port is required. */
  port: number;
  log?: LineLog;
  /** Default 10000 ms. */
  readyTimeoutMs?: number;
  /**
   * When the append-only file is fsynced. Default `always`: what the audit
   * needs (docs/audit.md, Durability) and `cardauth serve` checks at start;
   * `everysec` is Redis's own default.
   */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** More redis-server arguments, e.g. `['--aclfile', file]` or `['--replicaof', '127.0.0.1', '6390']`. */
  extraArgs?: readonly string[];
  /** Its environment. Default this process's. */
  env?: NodeJS.ProcessEnv;
}

export interface RunningRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  child: Child;
  /** SIGTERM: redis-server flushes the append-only file, then exits. */
  stop(): Promise<void>;
}

/**
 * Runs redis-server as a child, on loopback only, with its data under `dir`
 * (append-only file fsynced on every write unless `appendfsync` says
 * otherwise, no RDB snapshots). Resolves when it accepts
 * connections; rejects with `unavailable` if it exits first (e.g. the port
 * is taken).
 *
 * @example
 * const redis = await startRedisServer({ dir: 'var/redis', port: 6390 });
 * // REDIS_URL=redis.url
 * await redis.stop();
 */
export async function startRedisServer(options: RedisServerOptions): Promise<RunningRedis> {
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new TypeError('startRedisServer needs a port in 1..65535');
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const child = spawnChild({
    name: 'redis',
    command: 'redis-server',
    args: [
      '--port', String(options.port),
      '--bind', '127.0.0.1',
      '--protected-mode', 'yes',
      '--dir', dir,
      '--appendonly', 'yes',
      '--appendfsync', options.appendfsync ?? 'always',
      '--save', '',
      '--daemonize', 'no',
      '--logfile', '',
      ...(options.extraArgs ?? []),
    ],
    deathSignal: 'SIGTERM',
    ...(options.env ? { env: options.env } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    await child.waitForLine((l) => l.includes('Ready to accept connections'), options.readyTimeoutMs ?? 10_000);
  } catch (err) {
    await child.stop('SIGKILL');
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${options.port}`,
    child,
    async stop() {
      await child.stop('SIGTERM', 10_000);
    },
  };
}
