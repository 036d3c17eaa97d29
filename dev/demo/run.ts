import { randomBytes } from 'node:crypto';
import { accessSync, constants, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { Clock } from '../../src/clock';
import { loadServerConfigSubset, STORE_KEYS, type Env } from '../../src/config';
import { CardauthError } from '../../src/errors';
import { loadOrCreateIdentity, saveEnrollment } from '../../src/card-agent/keystore';
import { connectCliRedis } from '../../src/cli/redis';
import { createClientStore } from '../../src/oidc/clients';
import { writeSigningJwks } from '../../src/oidc/keys';
import { writeAuditKeys } from '../../src/audit/keys';
import { createStores } from '../../src/services';
import { portFree } from '../ports';
import { CARDAUTH_BIN, DEV_BIN, ROOT } from '../root';
import { createLineLog, describeExit, spawnChild, withSbin, type Child, type LineLog } from '../child-process';
import { startRedisServer, type RunningRedis } from '../redis-server';
import { DEMO_CLIENT } from './fixtures';
import { seedDemoClient } from './mis-client';
import { seedDemo } from './seed';
import { startVirtualReader, VPCD_READERS, type VirtualReader } from '../virtual-reader';

/**
 * The whole system on one machine, for a person to try (`cardauth demo`):
 *
 * 1. redis-server on loopback, data in `<var>/redis`;
 * 2. pcscd + vpcd in private namespaces (virtual-reader.ts), state in `<var>/demo`;
 * 3. demo accounts, cards and the demo agent seeded idempotently (seed.ts);
 * 4. the server with the demo's routes (`serve` of dev/cli.ts) with
 *    CARDAUTH_DEMO=true, a session secret generated once into
 *    `<var>/demo/session-secret`, and the OpenID provider on: its signing
 *    keys made once into `<var>/demo/oidc-jwks.json` (`oidc keys init`), and the audit
 *    checkpoints signed with a key made once into `<var>/demo/audit-keys.json` (`audit keys init`);
 * 5. `cardauth agent run` with PCSCLITE_CSOCK_NAME pointing at the virtual
 *    reader (set before it loads pcsclite: it reads it once per process);
 * 6. the demo MIS, examples/oidc-mis, registered with the provider as the
 *    client `demo-mis` (its callback, post-logout and back-channel logout URIs on
 *    its loopback port; the secret kept in `<var>/demo/mis-client-secret`).
 *
 * Every part is a child process that dies with this one (child-process.ts);
 * their output goes to `<var>/demo/demo.log`.
 */

export interface DemoOptions {
  /** Root of the demo's state: `<varDir>/redis` and `<varDir>/demo`. */
  varDir: string;
  /** The login server's port on 127.0.0.1. */
  port: number;
  redisPort: number;
  agentPort: number;
  /** The demo MIS (examples/oidc-mis) on 127.0.0.1. */
  misPort: number;
  /** Environment the children start from; the demo's own keys override it. */
  env: Env;
  /** Who runs the demo, for the audit (`os:root`). */
  actor: string;
  clock: Clock;
  /** One line per step, for the terminal. */
  progress?: (line: string) => void;
  /** Stops start-up: what was started is stopped, and startDemo rejects. */
  signal?: AbortSignal;
  /** The cardauth command line, for the agent. Default bin/cardauth.js of this package (runs dist/). */
  bin?: string;
  /** The dev tools' command line, for the server with the demo's routes. Default dist-dev/dev/cli.js (`npm run build:dev`). */
  devBin?: string;
}

export interface RunningDemo {
  /** The login page's origin, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The demo MIS's origin, e.g. `http://127.0.0.1:8081`. */
  misUrl: string;
  agentUrl: string;
  redisUrl: string;
  /** `<var>/demo`: the virtual reader's sockets, the agent key, the session secret, the log. */
  stateDir: string;
  logFile: string;
  agentId: string;
  /** What seeding created this time (empty when everything was already there). */
  changes: readonly string[];
  /** Resolves with a one-line reason when a part stops by itself. */
  died: Promise<string>;
  /** Stops the MIS, the agent, the server, the virtual reader and Redis, in that order. Safe to call twice. */
  close(): Promise<void>;
}

const MIS_SERVER = join(ROOT, 'examples', 'oidc-mis', 'server.mjs');
const NEEDED = ['redis-server', 'pcscd', 'unshare', 'nsenter', 'setpriv', 'ip'];

function onPath(name: string, env: Env): boolean {
  const dirs = withSbin(env.PATH).split(delimiter);
  return dirs.some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The session secret, generated once (32 random bytes) and kept 0600 in the state folder. */
function sessionSecret(file: string): string {
  if (existsSync(file)) {
    const s = readFileSync(file, 'utf8').trim();
    if (s.length >= 32) return s;
  }
  const s = randomBytes(32).toString('base64url');
  writeFileSync(file, `${s}\n`, { mode: 0o600 });
  return s;
}

/** Whether `pid` is a live `cardauth demo` (not a stranger that got a stale file's pid). */
function isLiveDemo(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('cardauth.js') || a.endsWith('main.js') || a.endsWith('cli.js')) && argv.includes('demo');
  } catch {
    return false;
  }
}

/** Takes the state folder's pid file, or refuses when another live demo holds it (a stale one is taken over). */
function takeLock(file: string, varDir: string): void {
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
  if (pid > 0 && pid !== process.pid && isLiveDemo(pid)) {
    throw new CardauthError('unavailable', `another cardauth demo (pid ${pid}) is running with ${varDir}; stop it first (Ctrl-C there, or kill ${pid})`);
  }
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
}

function releaseLock(file: string): void {
  try {
    if (Number.parseInt(readFileSync(file, 'utf8'), 10) === process.pid) rmSync(file);
  } catch {
    // already gone
  }
}

/** Env without the keys a child must not inherit from the caller's shell. */
function baseEnv(env: Env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'PCSCLITE_CSOCK_NAME' && k !== 'CARDAUTH_SESSION_SECRET') out[k] = v;
  return out;
}

/**
 * Starts the demo; see the notes at the top. Rejects with `unavailable` and
 * a one-line reason (the log file has the details) when a part cannot start,
 * after stopping what had started.
 *
 * @example
 * const demo = await startDemo({ varDir: 'var', port: 8080, redisPort: 6390, agentPort: 47800, env: process.env, actor: 'os:root', clock: systemClock });
 * console.log(`open ${demo.url}/login`);
 * await demo.close();
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const progress = options.progress ?? (() => {});
  const stateDir = resolve(options.varDir, 'demo');
  const redisDir = resolve(options.varDir, 'redis');
  const agentDir = join(stateDir, 'agent');
  const logFile = join(stateDir, 'demo.log');
  const url = `http://127.0.0.1:${options.port}`;
  const agentUrl = `http://127.0.0.1:${options.agentPort}`;
  const misUrl = `http://127.0.0.1:${options.misPort}`;
  const bin = options.bin ?? CARDAUTH_BIN;
  const devBin = options.devBin ?? DEV_BIN;
  const nodeBin = process.execPath;

  // Preflight: say exactly what is missing before starting anything.
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new CardauthError('unavailable', 'the demo must run as root (pcscd runs in private mount and network namespaces)');
  }
  const missing = NEEDED.filter((n) => !onPath(n, options.env));
  if (missing.length) throw new CardauthError('unavailable', `missing programs: ${missing.join(', ')}; run scripts/install.sh first`);
  if (!existsSync(bin)) throw new CardauthError('unavailable', `${bin} is missing; run scripts/install.sh (it builds dist/)`);
  if (!existsSync(devBin)) throw new CardauthError('unavailable', `${devBin} is missing; run npm run build:dev`);
  const ports: [number, string][] = [
    [options.redisPort, 'Redis port (--redis-port)'],
    [options.port, 'server port (--port)'],
    [options.agentPort, 'agent port (--agent-port)'],
    [options.misPort, 'MIS port (--mis-port)'],
  ];
  if (new Set(ports.map(([p]) => p)).size !== ports.length) throw new CardauthError('unavailable', 'the Redis, server, agent and MIS ports must differ');

  // One demo per state folder: two would share Redis's data files and the reader's sockets.
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const lockFile = join(stateDir, 'demo.pid');
  takeLock(lockFile, options.varDir);
  try {
    for (const [port, what] of ports) {
      if (!(await portFree(port))) throw new CardauthError('unavailable', `${what} 127.0.0.1:${port} is already in use (is another demo running?)`);
    }
  } catch (err) {
    releaseLock(lockFile);
    throw err;
  }

  const file = createWriteStream(logFile, { flags: 'w', mode: 0o600 });
  const log: LineLog = createLineLog(400, (line) => file.write(`${line}\n`));
  log.add(`[demo] starting at ${new Date(options.clock.now()).toISOString()}`);

  let redis: RunningRedis | undefined;
  let reader: VirtualReader | undefined;
  let server: Child | undefined;
  let agent: Child | undefined;
  let mis: Child | undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // The MIS and the agent first (they call the server), then the server (it uses Redis and the reader), then the reader, then Redis.
      if (mis) progress(`stopping the MIS…`);
      await mis?.stop('SIGTERM', 5000);
      if (agent) progress(`stopping the agent…`);
      await agent?.stop('SIGTERM', 5000);
      if (server) progress(`stopping the server…`);
      await server?.stop('SIGTERM', 12_000);
      if (reader) progress(`stopping the virtual reader…`);
      await reader?.stop();
      if (redis) progress(`stopping Redis…`);
      await redis?.stop();
      log.add(`[demo] stopped at ${new Date(options.clock.now()).toISOString()}`);
      await new Promise<void>((done) => file.end(() => done()));
      releaseLock(lockFile);
    })());

  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (options.signal?.aborted) throw new CardauthError('unavailable', 'start-up interrupted');
    try {
      return await fn();
    } catch (err) {
      let why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      // A cardauth child says why in one `cardauth: …` line on stderr.
      const said = /\] (cardauth: .*)$/m.exec(log.tail(20).split('\n').reverse().join('\n'));
      if (said) why += ` (${said[1]})`;
      const line = why.startsWith(`${what}:`) ? why : `${what} failed: ${why}`;
      log.add(`[demo] ${line}`);
      throw new CardauthError('unavailable', `${line} (details in ${logFile})`, { cause: err });
    }
  };

  try {
    redis = await step('Redis', () => startRedisServer({ dir: redisDir, port: options.redisPort, log }));
    progress(`Redis        ${redis.url} (data in ${redisDir})`);

    reader = await step('virtual reader', () => startVirtualReader({ dir: stateDir, log }));
    progress(`pcscd + vpcd pid ${reader.pid()}, virtual readers "${VPCD_READERS[0]}" and "${VPCD_READERS[1]}"`);

    const redisUrl = redis.url;
    const seeded = await step('seeding demo data', async () => {
      const config = loadServerConfigSubset(STORE_KEYS, { ...options.env, REDIS_URL: redisUrl });
      const redisClient = await connectCliRedis(redisUrl);
      try {
        const identity = await loadOrCreateIdentity(agentDir);
        const stores = createStores({ redis: redisClient, config, clock: options.clock });
        const result = await seedDemo({ ...stores, actor: options.actor }, identity);
        if (identity.agentId !== result.agent.id || identity.server !== url) saveEnrollment(agentDir, { agentId: result.agent.id, server: url });
        const client = await seedDemoClient({ clients: createClientStore({ redis: redisClient }), audit: stores.audit, actor: options.actor, clock: options.clock }, misUrl, join(stateDir, 'mis-client-secret'));
        return { ...result, changes: [...result.changes, ...client.changes], misSecret: client.secret };
      } finally {
        redisClient.disconnect();
      }
    });
    progress(`demo data    ${seeded.changes.length ? `created: ${seeded.changes.join(', ')}` : 'already there, reused'}`);

    const secret = sessionSecret(join(stateDir, 'session-secret'));
    // The OpenID provider's signing keys, made once (as `cardauth oidc keys init`), kept for the next run.
    const jwksFile = join(stateDir, 'oidc-jwks.json');
    if (!existsSync(jwksFile)) await step('OpenID signing keys', () => writeSigningJwks(jwksFile));
    // The audit checkpoints' signing key, made once (as `cardauth audit keys init`): the auditor's
    // integrity panel then shows signed checkpoints, and a cut tail is seen.
    const auditKeysFile = join(stateDir, 'audit-keys.json');
    if (!existsSync(auditKeysFile)) await step('audit checkpoint key', () => writeAuditKeys(auditKeysFile));
    const s = spawnChild({
      name: 'server',
      command: nodeBin,
      args: [devBin, 'serve'],
      env: {
        ...baseEnv(options.env),
        REDIS_URL: redisUrl,
        CARDAUTH_HOST: '127.0.0.1',
        CARDAUTH_PORT: String(options.port),
        CARDAUTH_PUBLIC_ORIGIN: url,
        CARDAUTH_SESSION_SECRET: secret,
        CARDAUTH_AGENT_URL: agentUrl,
        CARDAUTH_DEMO: 'true',
        CARDAUTH_DEMO_VPCD_DIR: stateDir,
        CARDAUTH_OIDC_JWKS_FILE: jwksFile,
        CARDAUTH_AUDIT_KEYS_FILE: auditKeysFile,
      },
      deathSignal: 'SIGTERM',
      log,
    });
    server = s;
    await step('server', () => s.waitForLine((l) => l.includes('"event":"listening"'), 20_000));
    progress(`server       ${url} (cardauth serve, pid ${s.proc.pid})`);

    const a = spawnChild({
      name: 'agent',
      command: nodeBin,
      args: [bin, 'agent', 'run'],
      env: {
        ...baseEnv(options.env),
        CARDAUTH_AGENT_DIR: agentDir,
        CARDAUTH_AGENT_HOST: '127.0.0.1',
        CARDAUTH_AGENT_PORT: String(options.agentPort),
        CARDAUTH_AGENT_ORIGINS: url,
        CARDAUTH_AGENT_SERVER: url,
        // The demo runs as root; the person trying it opens the page in a browser running as their own user.
        CARDAUTH_AGENT_SAME_USER: 'false',
        PCSCLITE_CSOCK_NAME: reader.clientSocket,
      },
      deathSignal: 'SIGTERM',
      log,
    });
    agent = a;
    await step('card agent', async () => {
      await a.waitForLine((l) => l.includes('"event":"agent_listening"'), 20_000);
      // The agent sees the virtual reader through real pcsclite: the whole PC/SC path works.
      await a.waitForLine((l) => l.includes('"event":"reader"') && l.includes(VPCD_READERS[0]) && l.includes('"added"'), 10_000);
    });
    progress(`card agent   ${agentUrl} (cardauth agent run, pid ${a.proc.pid}, agent ${seeded.agent.id}), sees "${VPCD_READERS[0]}"`);

    const m = spawnChild({
      name: 'mis',
      command: nodeBin,
      args: [MIS_SERVER],
      env: {
        ...baseEnv(options.env),
        MIS_CARDAUTH_ORIGIN: url,
        MIS_CLIENT_ID: DEMO_CLIENT.id,
        MIS_CLIENT_SECRET: seeded.misSecret,
        MIS_PORT: String(options.misPort),
        MIS_PUBLIC_ORIGIN: misUrl,
      },
      deathSignal: 'SIGTERM',
      log,
    });
    mis = m;
    await step('demo MIS', () => m.waitForLine((l) => l.includes('oidc-mis on http://'), 20_000));
    progress(`MIS          ${misUrl}/patients (examples/oidc-mis, OpenID client ${DEMO_CLIENT.id}, pid ${m.proc.pid})`);

    const r = reader;
    const died = new Promise<string>((report) => {
      // Only an end nobody asked for: after close() began, children ending is the plan.
      const ended = (why: string) => {
        if (closing) return;
        log.add(`[demo] ${why}`);
        report(why);
      };
      for (const c of [redis?.child, s, a, m]) void c?.exited.then((e) => ended(`${c.name} ${describeExit(e)}`));
      void r.died.then(ended);
    });
    return { url, misUrl, agentUrl, redisUrl, stateDir, logFile, agentId: seeded.agent.id, changes: seeded.changes, died, close };
  } catch (err) {
    await close();
    throw err;
  }
}
