import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { cardauth } from './cardauth';
import type { Cleanup } from './cleanup';
import { sleep } from './stats';

/** A free loopback TCP port: the dev tools' own (dist-dev/dev/ports.js). */
export const freePort = (): Promise<number> => cardauth.ports.freePort();

export interface BenchRedis {
  url: string;
  port: number;
  /** The redis-server process (for /proc readings). */
  pid: number;
  /** A client closed when the Redis stops. */
  client(): Redis;
  /** Calls per command since start (INFO commandstats), e.g. { get: 10, evalsha: 3 }. */
  commandCalls(): Promise<Record<string, number>>;
}

/**
 * Shell wrapper: redis-server runs as its child and is stopped (SIGTERM, then
 * waited for) and its temp dir removed as soon as the wrapper's stdin, a
 * pipe from this process, closes — on a clean stop and also when the runner
 * dies, even by SIGKILL.
 */
const WRAPPER = 'd=$1; shift; redis-server "$@" & r=$!; read -r _ || true; kill -TERM "$r" 2>/dev/null; wait "$r"; rm -rf -- "$d"';

/**
 * Starts a real redis-server on a free loopback port with its own temp dir
 * and append-only file (appendfsync everysec, the default), like the tests do.
 */
export async function startRedis(cleanup: Cleanup, extraArgs: string[] = []): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-bench-redis-'));
  const removeDir = cleanup.add(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'yes', '--logfile', '', ...extraArgs];
  const proc = spawn('bash', ['-c', WRAPPER, 'redis-wrapper', dir, ...args], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const clients: Redis[] = [];
  cleanup.add(`redis-server :${port}`, async () => {
    for (const c of clients) c.disconnect();
    proc.stdin?.end();
    await Promise.race([exited, sleep(5000)]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await removeDir();
  });

  const deadline = Date.now() + 5000;
  let probe: Redis;
  for (;;) {
    probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, disconnectTimeout: 0 });
    probe.on('error', () => {}); // a refused first attempt is expected while redis-server starts
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (e) {
      probe.disconnect();
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`redis-server on ${port} did not start: ${(e as Error).message}`);
      await sleep(20);
    }
  }
  clients.push(probe);
  const pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
  if (!pid) throw new Error('redis-server: no process_id in INFO');

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid,
    client() {
      const c = new Redis({ port, host: '127.0.0.1' });
      clients.push(c);
      return c;
    },
    async commandCalls() {
      const out: Record<string, number> = {};
      for (const m of (await probe.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
      return out;
    },
  };
}

/** Per-command call deltas between two `commandCalls()` snapshots, largest first. */
export function callDelta(before: Record<string, number>, after: Record<string, number>): Array<[string, number]> {
  return Object.entries(after)
    .map(([k, v]): [string, number] => [k, v - (before[k] ?? 0)])
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
}

/** One command as MONITOR saw it: sent by a client, or run inside a script (`inScript`). */
export interface SeenCommand {
  inScript: boolean;
  args: string[];
}

/**
 * Every command Redis ran while `during` ran, in order, through MONITOR on a connection of its
 * own (its own commands left out). MONITOR slows Redis down: never inside a timed window.
 */
export async function monitorCommands(redis: BenchRedis, during: () => Promise<void>): Promise<SeenCommand[]> {
  const conn = new Redis({ port: redis.port, host: '127.0.0.1' });
  try {
    const mon = await conn.monitor();
    const seen: SeenCommand[] = [];
    mon.on('monitor', (_time: string, args: string[], source: string) => seen.push({ inScript: source === 'lua', args: args.map(String) }));
    await sleep(50);
    await during();
    await sleep(100);
    mon.disconnect();
    return seen;
  } finally {
    conn.disconnect();
  }
}

/** What a key belongs to, by its prefix. */
const KEY_OWNERS: Array<[RegExp, string]> = [
  [/^sess:|^sessended:/, 'session'],
  [/^sessidx:/, 'tap-out index'],
  [/^rl:|^pw:/, 'attempts'],
  [/^nonce:/, 'nonce'],
  [/^agent:/, 'agent'],
  [/^card:/, 'card'],
  [/^acct:/, 'account'],
  [/^audit:/, 'audit'],
  [/^lkd:|^ipl:|^jnk:|^jti:/, 'claim-once'],
  // oidc-provider's models by name: `oidc Session`, `oidc AuthorizationCode`, `oidc grant`.
  [/^oidc:([^:]+)/, 'oidc $1'],
];

/** Who a key belongs to (KEY_OWNERS; `$1` in an owner is the key's first group). */
function ownerOf(key: string): string | undefined {
  for (const [re, owner] of KEY_OWNERS) {
    const m = re.exec(key);
    if (m) return m[0].replace(re, owner);
  }
  return undefined;
}

/**
 * The commands a client sent, each with what it touched (by key prefix) and, for a script,
 * the commands it ran inside: e.g. `EVALSHA attempts [EXISTS GET GET SET INCR PEXPIRE INCR PEXPIRE]`.
 */
export function describeCommands(seen: readonly SeenCommand[]): { sent: number; inScripts: number; lines: string[] } {
  const sent: Array<{ head: string; inner: string[] }> = [];
  let inScripts = 0;
  for (const c of seen) {
    const name = (c.args[0] ?? '?').toUpperCase();
    if (c.inScript) {
      inScripts++;
      sent[sent.length - 1]?.inner.push(name);
      continue;
    }
    const owner = c.args.slice(1).map(ownerOf).find((o) => o !== undefined);
    sent.push({ head: owner ? `${name} ${owner}` : name, inner: [] });
  }
  return { sent: sent.length, inScripts, lines: sent.map((c) => (c.inner.length ? `${c.head} [${c.inner.join(' ')}]` : c.head)) };
}
