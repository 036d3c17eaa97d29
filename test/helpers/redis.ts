import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../../dev/ports';
import { startRedisServer, type RedisServerOptions, type RunningRedis } from '../../dev/redis-server';

export { freePort };

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  /** A fresh client; closed by stop(). */
  client(): Redis;
  /** Stops the server, SIGTERM by default (data stays in dir; start() brings it back on the same port). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a real redis-server on a free loopback port with its own temp dir
 * and append-only file (the same runner as the demo, dev/redis-server.ts;
 * `appendfsync always` unless `opts` says otherwise; `extraArgs`, e.g. an
 * `--aclfile`, as they are; `env`, e.g. an LD_PRELOAD, for its process).
 */
export async function startRedis(opts: Pick<RedisServerOptions, 'appendfsync' | 'extraArgs' | 'env'> = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-redis-'));
  let running: RunningRedis | undefined;
  const clients: Redis[] = [];
  const start = async () => {
    running = await startRedisServer({ dir, port, ...opts });
  };
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const r = running;
    running = undefined;
    if (r) await r.child.stop(signal);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    client() {
      const c = new Redis({ port, host: '127.0.0.1' });
      clients.push(c);
      return c;
    },
    kill,
    start,
    async stop() {
      for (const c of clients) c.disconnect();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For a test file: a real redis-server started before its tests and stopped
 * after them, emptied before each test. Answers the file's client (valid once
 * the tests run).
 *
 * @example
 * const redis = suiteRedis();
 * it('…', async () => { await redis().set('k', 'v'); });
 */
export function suiteRedis(): () => Redis {
  let server: TestRedis | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis();
    client = server.client();
  });
  afterAll(() => server?.stop());
  beforeEach(() => client?.flushall());
  return () => {
    if (!client) throw new Error('suiteRedis: the client exists once the tests run');
    return client;
  };
}
