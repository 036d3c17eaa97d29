import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

/** A runner's Redis temp dirs: `cardauth-bench-redis-<runner pid>-XXXXXX`. */
const DIR_PREFIX = 'cardauth-bench-redis-';
const DIR_NAME = /^cardauth-bench-redis-(\d+)-/;

/** Whether process `pid` exists (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the Redis temp dirs of runners that died without cleaning up (SIGKILL): their
 * redis-server got SIGTERM from the kernel then (spawnChild's death signal), but its dir stayed.
 */
function removeOrphanDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(DIR_NAME.exec(name)?.[1]);
    if (pid && !alive(pid)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * Starts a real redis-server on a free loopback port with its own temp dir and
 * append-only file, through the launcher the tests and the demo use
 * (dist-dev/dev/redis-server.js). The runner's Cleanup stops it and removes the dir.
 * `appendfsync` is `everysec` unless `opts` says otherwise: the figures of the other
 * sections were measured so, and stay comparable (the `durability` section
 * measures what `always`, which the server requires, costs).
 */
export async function startRedis(cleanup: Cleanup, opts: { appendfsync?: 'always' | 'everysec' | 'no'; extraArgs?: readonly string[] } = {}): Promise<BenchRedis> {
  removeOrphanDirs();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const removeDir = cleanup.add(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const server = await cardauth.redisServer.startRedisServer({ dir, port, appendfsync: opts.appendfsync ?? 'everysec', ...(opts.extraArgs ? { extraArgs: opts.extraArgs } : {}) });
  const clients: Redis[] = [];
  cleanup.add(`redis-server :${port}`, async () => {
    for (const c of clients) c.disconnect();
    await server.stop();
    await removeDir();
  });
  const client = () => {
    const c = new Redis({ port, host: '127.0.0.1' });
    clients.push(c);
    return c;
  };
  const stats = client();

  return {
    url: server.url,
    port,
    pid: server.child.proc.pid!,
    client,
    async commandCalls() {
      const out: Record<string, number> = {};
      for (const m of (await stats.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
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
