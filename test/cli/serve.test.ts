import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicAuditJwks, writeAuditKeys } from '../../src/audit/keys';
import { verifyAuditChain } from '../../src/audit/verify';
import { writeSigningJwks } from '../../src/oidc/keys';
import { lastAudit } from '../helpers/audit';
import { freePort, startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, runCli, spawnCli } from './support';

const SECRET = 'serve-test-session-secret-0123456789abcdef';

interface Served {
  child: ChildProcessWithoutNullStreams;
  /** JSON log lines seen so far. */
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the first log line of this event. */
  event(name: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function serve(env: Record<string, string>): Served {
  const child = spawnCli(['serve'], env);
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      logs.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
      buffer = buffer.slice(nl + 1);
      for (const w of waiters) w();
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    event: (name, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find((l) => l.event === name);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => reject(new Error(`no "${name}" log line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push(check);
        check();
      }),
  };
}

async function envFor(redisUrl: string) {
  const port = await freePort();
  return cliEnv({
    REDIS_URL: redisUrl,
    CARDAUTH_PORT: String(port),
    CARDAUTH_PUBLIC_ORIGIN: `http://127.0.0.1:${port}`,
    CARDAUTH_SESSION_SECRET: SECRET,
  });
}

let redis: TestRedis;
let running: Served | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(() => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  running = undefined;
});
afterAll(async () => {
  await redis.stop();
});

describe('cardauth serve', () => {
  it('logs {event:"listening", url}, answers /healthz and /readyz, and exits 0 on SIGTERM', async () => {
    const env = await envFor(redis.url);
    running = serve(env);
    const listening = await running.event('listening');
    expect(listening).toMatchObject({ level: 'info', url: `http://127.0.0.1:${env.CARDAUTH_PORT}` });
    const url = listening.url as string;

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    running.child.kill('SIGTERM');
    const started = Date.now();
    expect(await running.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(running.logs.map((l) => l.event)).toEqual(['listening', 'stopping', 'stopped']);
    expect(running.logs[1]).toMatchObject({ signal: 'SIGTERM' });
    expect(running.stderr()).toBe('');
  });

  it('puts the cards bound before the card index existed (an upgrade) into it, once, in the background', async () => {
    const own = await startRedis();
    try {
      const cli = cliEnv({ REDIS_URL: own.url });
      expect((await runCli(['account', 'create', '--login', 'petrova', '--name', 'Петрова', '--role', 'clinician', '--password-stdin'], { env: cli, stdin: 'Пароль-Петровой-2026\n' })).code).toBe(0);
      expect((await runCli(['card', 'bind', '--login', 'petrova', '--uid', '04A22BB25C6180'], { env: cli })).code).toBe(0);
      const client = own.client();
      await client.del('card:ix'); // as a server before the index left it
      running = serve(await envFor(own.url));
      expect(await running.event('card_index_built')).toMatchObject({ level: 'info', added: 1 });
      expect(await client.zrange('card:ix', '0', '-1')).toEqual(['petrova\u0000' + '04A22BB25C6180']);
      expect(await client.exists('card:ix:built')).toBe(1);
      client.disconnect();
    } finally {
      running?.child.kill('SIGKILL');
      await own.stop();
    }
  });

  it('SIGINT stops it too', async () => {
    running = serve(await envFor(redis.url));
    await running.event('listening');
    running.child.kill('SIGINT');
    expect(await running.exited).toEqual({ code: 0, signal: null });
  });

  it('with Redis down it listens anyway after the wait, /readyz is 503 until Redis is back, and it does not crash', async () => {
    const down = await startRedis();
    await down.kill();
    try {
      running = serve(await envFor(down.url));
      const listening = await running.event('listening');
      expect(running.logs.map((l) => l.event)).toEqual(expect.arrayContaining(['redis_error', 'redis_not_ready']));
      const url = listening.url as string;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ error: { code: 'unavailable', message: 'not ready' } });

      await down.start();
      await running.event('redis_ready');
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      // The start's policy record could not be written before; it is once Redis is back.
      expect(running.logs.map((l) => l.event)).toContain('policy_unrecorded');
      const client = down.client();
      for (let i = 0; i < 100 && !(await lastAudit(client, 'policy.applied')); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await lastAudit(client, 'policy.applied')).toMatchObject({ outcome: 'success', details: { profile: 'fstec-2026' } });

      running.child.kill('SIGTERM');
      expect(await running.exited).toEqual({ code: 0, signal: null });
    } finally {
      await down.stop();
    }
  });

  it('a port in use: one line, exit 1', async () => {
    const first = serve(await envFor(redis.url));
    running = first;
    const listening = await first.event('listening');
    const port = new URL(listening.url as string).port;
    const second = serve({ ...(await envFor(redis.url)), CARDAUTH_PORT: port });
    const exit = await second.exited;
    expect(exit.code).toBe(1);
    expect(second.stderr()).toMatch(/^cardauth: unavailable: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)[^\n]*\n$/);
    first.child.kill('SIGTERM');
    await first.exited;
  });

  it('a signing keys file others can read: one line naming the key and the file, exit 2, never listening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardauth-serve-oidc-'));
    try {
      const file = join(dir, 'jwks.json');
      await writeSigningJwks(file);
      chmodSync(file, 0o640);
      const served = serve({ ...(await envFor(redis.url)), CARDAUTH_OIDC_JWKS_FILE: file });
      running = served;
      const exit = await served.exited;
      expect(exit.code).toBe(2);
      expect(served.stderr()).toBe(`cardauth: config_invalid: CARDAUTH_OIDC_JWKS_FILE: ${file}: the private keys must be readable by their owner only (chmod 600)\n`);
      expect(served.logs.filter((l) => l.event === 'listening')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('audit checkpoints (CARDAUTH_AUDIT_KEYS_FILE)', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'cardauth-serve-audit-keys-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a key file others can read: one line naming the key and the file, exit 2, never listening', async () => {
      const file = join(dir, 'loose.json');
      await writeAuditKeys(file);
      chmodSync(file, 0o640);
      const served = serve({ ...(await envFor(redis.url)), CARDAUTH_AUDIT_KEYS_FILE: file });
      running = served;
      expect((await served.exited).code).toBe(2);
      expect(served.stderr()).toBe(`cardauth: config_invalid: CARDAUTH_AUDIT_KEYS_FILE: ${file}: the private keys must be readable by their owner only (chmod 600)\n`);
      expect(served.logs.filter((l) => l.event === 'listening')).toEqual([]);
    });

    it('the server signs a checkpoint of the head when it starts (its start records), which verifies with the public key', async () => {
      const file = join(dir, 'keys.json');
      const jwks = await writeAuditKeys(file);
      const client = redis.client();
      await client.del('audit:checkpoints');
      running = serve({ ...(await envFor(redis.url)), CARDAUTH_AUDIT_KEYS_FILE: file });
      await running.event('listening');
      for (let i = 0; i < 100 && (await client.xlen('audit:checkpoints')) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const head = (await client.xrevrange('audit:log', '+', '-', 'COUNT', 1))[0] as [string, string[]];
      // The start's last record: its config change (the key file is new), after its policy record.
      expect(JSON.parse(head[1][1] as string)).toMatchObject({ type: 'config.changed' });
      const result = await verifyAuditChain({ redis: client, checkpointKeys: publicAuditJwks(jwks).keys });
      expect(result).toMatchObject({ ok: true, checkpoints: { count: 1, last: { kid: jwks.keys[0]?.kid }, unprotected: 0 } });
      running.child.kill('SIGTERM');
      expect(await running.exited).toEqual({ code: 0, signal: null });
    });
  });

  describe('the policy profile', () => {
    it('a start whose config step failed records the policy once: the retry when Redis is back does the config step alone', async () => {
      const client = redis.client();
      // An unreadable last config (a list where a string belongs): the config step fails after the policy is recorded.
      await client.del('cardauth:config:last');
      await client.rpush('cardauth:config:last', 'x');
      const policies = async () => (await client.xrange('audit:log', '-', '+')).filter(([, f]) => (JSON.parse(f[1] as string) as { type: string }).type === 'policy.applied').length;
      const before = await policies();
      running = serve(await envFor(redis.url));
      await running.event('policy_unrecorded');
      await running.event('listening');
      expect(await policies()).toBe(before + 1);
      // Put right, and the server's connection dropped: it reconnects, and its 'ready' retries.
      await client.del('cardauth:config:last');
      await client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      for (let i = 0; i < 100 && (await client.get('cardauth:config:last')) === null; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await client.get('cardauth:config:last')).not.toBeNull();
      expect(await policies()).toBe(before + 1);
    });

    it('the start is audited with the profile, every value and where it came from', async () => {
      const env = { ...(await envFor(redis.url)), CARDAUTH_LOCKOUT_ATTEMPTS: '3' };
      running = serve(env);
      await running.event('listening');
      const record = await lastAudit(redis.client(), 'policy.applied');
      expect(record).toMatchObject({ outcome: 'success' });
      expect(record?.reason).toBeUndefined();
      expect(record?.details).toEqual({
        profile: 'fstec-2026',
        profileFrom: 'default',
        allowBelowProfile: false,
        minLength: 12,
        minLengthFrom: 'profile',
        minAlphabet: 70,
        minAlphabetFrom: 'profile',
        maxAgeDays: 90,
        maxAgeDaysFrom: 'profile',
        history: 24,
        historyFrom: 'profile',
        lockoutAttempts: 3,
        lockoutAttemptsFrom: 'env',
        lockoutWindowSec: 900,
        lockoutWindowSecFrom: 'profile',
        lockoutDurationSec: 900,
        lockoutDurationSecFrom: 'profile',
      });
      running.child.kill('SIGTERM');
      await running.exited;
    });

    it('a config weaker than the profile refuses to start: one line per key, exit 2, never listening', async () => {
      const served = serve({ ...(await envFor(redis.url)), CARDAUTH_LOCKOUT_ATTEMPTS: '20', CARDAUTH_PASSWORD_MIN_LENGTH: '8' });
      running = served;
      expect((await served.exited).code).toBe(2);
      const lines = served.stderr().trimEnd().split('\n');
      expect(lines.map((l) => l.split(':').slice(0, 3).join(':'))).toEqual(['cardauth: config_invalid: CARDAUTH_PASSWORD_MIN_LENGTH', 'cardauth: config_invalid: CARDAUTH_LOCKOUT_ATTEMPTS']);
      expect(served.logs.filter((l) => l.event === 'listening')).toEqual([]);
    });

    it('with CARDAUTH_ALLOW_BELOW_PROFILE it starts, and the start is audited as below_profile naming the keys', async () => {
      running = serve({ ...(await envFor(redis.url)), CARDAUTH_LOCKOUT_ATTEMPTS: '20', CARDAUTH_ALLOW_BELOW_PROFILE: 'true' });
      await running.event('listening');
      const record = await lastAudit(redis.client(), 'policy.applied');
      expect(record).toMatchObject({ outcome: 'success', reason: 'below_profile', details: { allowBelowProfile: true, lockoutAttempts: 20, belowProfile: 'CARDAUTH_LOCKOUT_ATTEMPTS' } });
      running.child.kill('SIGTERM');
      await running.exited;
    });
  });

  describe("the audit's durability (a Redis that fsyncs every write)", () => {
    let lazy: TestRedis;
    beforeAll(async () => {
      lazy = await startRedis({ appendfsync: 'everysec' });
    });
    afterAll(() => lazy.stop());

    it('a Redis with appendfsync everysec refuses the start: one line, exit 2, never listening, nothing audited', async () => {
      const served = serve(await envFor(lazy.url));
      running = served;
      expect((await served.exited).code).toBe(2);
      expect(served.stderr()).toMatch(/^cardauth: config_invalid: Redis persists with appendonly yes, appendfsync everysec: a crash can lose acknowledged audit records; [^\n]*CARDAUTH_AUDIT_REQUIRE_FSYNC=false[^\n]*\n$/);
      expect(served.logs.filter((l) => l.event === 'listening')).toEqual([]);
      expect(await lazy.client().xlen('audit:log')).toBe(0);
    });

    it('with CARDAUTH_AUDIT_REQUIRE_FSYNC=false it starts and warns', async () => {
      running = serve({ ...(await envFor(lazy.url)), CARDAUTH_AUDIT_REQUIRE_FSYNC: 'false' });
      await running.event('listening');
      expect(running.logs.find((l) => l.event === 'audit_fsync_unsafe')).toMatchObject({ level: 'warn', appendonly: 'yes', appendfsync: 'everysec' });
      running.child.kill('SIGTERM');
      await running.exited;
    });

    it('a Redis with appendfsync always starts without a word about it', async () => {
      running = serve(await envFor(redis.url));
      await running.event('listening');
      expect(running.logs.map((l) => l.event).filter((e) => String(e).startsWith('audit_fsync'))).toEqual([]);
      running.child.kill('SIGTERM');
      await running.exited;
    });
  });
});
