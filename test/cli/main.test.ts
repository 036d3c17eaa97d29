import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configTable } from '../../src/config';
import { freePort, startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, oneErrorLine, runCli } from './support';

/** Nothing listens here: a command that reaches for Redis fails, one that checks its arguments first does not get that far. */
let deadEnv: Record<string, string>;
let dir: string;
beforeAll(async () => {
  deadEnv = cliEnv({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  dir = mkdtempSync(join(tmpdir(), 'cardauth-cli-main-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('help', () => {
  it('--help lists every command and exits 0', async () => {
    const r = await runCli(['--help'], { env: deadEnv });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const c of ['account create', 'account unlock', 'account list', 'card bind', 'card revoke', 'card list', 'agent register', 'agent approve', 'agent revoke', 'agent list', 'audit verify', 'serve', 'config table']) {
      expect(r.stdout).toContain(`cardauth ${c}`);
    }
  });

  it.each([[['card', '--help']], [['card', 'bind', '--help']], [['--help', 'card', 'bind']], [['agent', 'register', '-h']], [['serve', '--help']], [['--help', 'serve']]])('%j exits 0 with usage on stdout', async (args) => {
    const r = await runCli(args, { env: deadEnv });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage:/);
    expect(r.stderr).toBe('');
  });
});

describe('bad arguments: exit 2, one line naming what is wrong, no stack trace', () => {
  it.each<[string[], RegExp]>([
    [[], /^cardauth: missing command/],
    [['frobnicate'], /^cardauth: unknown command "frobnicate"/],
    [['card'], /^cardauth: card: missing command, one of bind, replace, revoke, lost, import, list/],
    [['card', 'bnd'], /^cardauth: card: unknown command "bnd"/],
    [['card', 'list', '--login', 'x', '--colour'], /^cardauth: card list: unknown option --colour$/],
    [['--verbose', 'card', 'list'], /^cardauth: unknown option --verbose before the command/],
    [['card', 'bind', '--uid', '04112233'], /^cardauth: card bind: --login: required$/],
    [['card', 'bind', '--login', 'x'], /^cardauth: card bind: --uid: required$/],
    [['card', 'bind', '--login', '--uid', '04112233'], /^cardauth: card bind: --login needs a value/],
    [['card', 'bind', '--login', 'x', '--uid', '08A1B2C3'], /^cardauth: card bind: --uid: uid_random: /],
    [['card', 'revoke', '--uid', '04112233', '--reason', 'bored'], /^cardauth: card revoke: --reason: "bored" is not a reason/],
    [['card', 'list', '--login', 'x', '--json=yes'], /^cardauth: card list: --json takes no value$/],
    [['account', 'list', 'extra'], /^cardauth: account list: unexpected argument "extra"$/],
    [['account', 'create', '--login', 'x', '--name', 'X', '--role', 'admin', '--password-stdin'], /^cardauth: account create: --role: "admin" is not a role/],
    [['agent', 'approve', 'not-an-id'], /^cardauth: agent approve: ID: "not-an-id" is not an agent id/],
    [['agent', 'register', '--name', 'X'], /^cardauth: agent register: --public-key: required$/],
    [['--config'], /^cardauth: --config needs a value/],
    [['agent', 'list', '--config='], /^cardauth: agent list: --config needs a value/],
    [['card', 'bind', '--login', 'ivanova', '--login', 'nobody', '--uid', '04112233'], /^cardauth: card bind: --login given twice \(give it once\)$/],
    [['card', 'bind', '--login=ivanova', '--uid', '04112233', '--login', 'nobody'], /^cardauth: card bind: --login given twice/],
    [['card', 'list', '--login', 'x', '--json', '--json'], /^cardauth: card list: --json given twice/],
    [['agent', 'list', '--config', 'a.json', '--config=b.json'], /^cardauth: agent list: --config given twice/],
    [['--config', 'a.json', '--config', 'b.json', 'agent', 'list'], /^cardauth: --config given twice \(give it once\)$/],
    [['--config=a.json', 'agent', 'list', '--config', 'b.json'], /^cardauth: agent list: --config given twice/],
  ])('%j', async (args, message) => {
    const r = await runCli(args, { env: deadEnv });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(message);
    expect(r.stdout).toBe('');
  });
});

describe('configuration errors: exit 2 naming the key', () => {
  it('REDIS_URL missing or malformed', async () => {
    const missing = await runCli(['account', 'list'], { env: cliEnv() });
    expect(missing.code).toBe(2);
    expect(oneErrorLine(missing)).toBe('cardauth: config_invalid: REDIS_URL: required, not set (set it in the environment or in --config FILE; see `cardauth config table`)');
    const bad = await runCli(['account', 'list'], { env: cliEnv({ REDIS_URL: 'http://127.0.0.1:6379' }) });
    expect(bad.code).toBe(2);
    expect(oneErrorLine(bad)).toMatch(/^cardauth: config_invalid: REDIS_URL: /);
  });

  it('an exported but empty variable is refused, not taken as a value', async () => {
    const r = await runCli(['card', 'list', '--login', 'x'], { env: { ...deadEnv, CARDAUTH_MAX_CARDS_PER_ACCOUNT: '' } });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe('cardauth: config_invalid: CARDAUTH_MAX_CARDS_PER_ACCOUNT: is set but empty in the environment; unset it or give it a value');
  });

  it('every bad key at once, one line each, so one pass fixes the config', async () => {
    const r = await runCli(['card', 'list', '--login', 'x'], { env: { ...deadEnv, CARDAUTH_MAX_CARDS_PER_ACCOUNT: '0', CARDAUTH_LOCKOUT_ATTEMPTS: 'many' } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      'cardauth: config_invalid: CARDAUTH_LOCKOUT_ATTEMPTS: must be a whole number from 1 to 100 (got "many")',
      'cardauth: config_invalid: CARDAUTH_MAX_CARDS_PER_ACCOUNT: must be a whole number from 1 to 20 (got "0")',
    ]);
  });

  it('a config file that is not JSON: the position, never the text (which may hold a secret)', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{\n  "REDIS_URL": redis://:hunter2-secret@127.0.0.1:6379\n}\n');
    const r = await runCli(['--config', file, 'account', 'list'], { env: cliEnv() });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toBe(`cardauth: config_invalid: config file ${file}: not valid JSON`);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('a bad value of a key the command uses', async () => {
    const r = await runCli(['card', 'list', '--login', 'x'], { env: { ...deadEnv, CARDAUTH_MAX_CARDS_PER_ACCOUNT: 'many' } });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/^cardauth: config_invalid: CARDAUTH_MAX_CARDS_PER_ACCOUNT: /);
  });

  it('--config FILE with an unknown key, or unreadable', async () => {
    const file = join(dir, 'typo.json');
    writeFileSync(file, JSON.stringify({ REDIS_URL: 'redis://127.0.0.1:1', CARDAUTH_MAX_CARD: 3 }));
    const typo = await runCli(['--config', file, 'account', 'list'], { env: cliEnv() });
    expect(typo.code).toBe(2);
    expect(oneErrorLine(typo)).toMatch(/^cardauth: config_invalid: CARDAUTH_MAX_CARD: unknown key in /);
    const missing = await runCli(['account', 'list', '--config', join(dir, 'nope.json')], { env: cliEnv() });
    expect(missing.code).toBe(2);
    expect(oneErrorLine(missing)).toMatch(/^cardauth: config_invalid: config file /);
  });

  it('serve needs the session secret and public origin; the other commands do not', async () => {
    // Neither set: both are named, one line each.
    const neither = await runCli(['serve'], { env: deadEnv });
    expect(neither.code).toBe(2);
    expect(neither.stderr.split('\n').filter(Boolean)).toEqual([
      'cardauth: config_invalid: CARDAUTH_PUBLIC_ORIGIN: required, not set (set it in the environment or in --config FILE; see `cardauth config table`)',
      'cardauth: config_invalid: CARDAUTH_SESSION_SECRET: required, not set (set it in the environment or in --config FILE; see `cardauth config table`)',
    ]);
    expect(neither.stdout).toBe('');
    const noSecret = await runCli(['serve'], { env: { ...deadEnv, CARDAUTH_PUBLIC_ORIGIN: 'https://mis.example.ru' } });
    expect(noSecret.code).toBe(2);
    expect(oneErrorLine(noSecret)).toBe('cardauth: config_invalid: CARDAUTH_SESSION_SECRET: required, not set (set it in the environment or in --config FILE; see `cardauth config table`)');
    expect(noSecret.stdout).toBe('');
    // Neither key set: another command passes its configuration and gets as far as Redis.
    const other = await runCli(['agent', 'list'], { env: deadEnv });
    expect(other.code).toBe(1);
    expect(oneErrorLine(other)).toMatch(/^cardauth: unavailable: cannot reach Redis /);
  });
});

describe('Redis unreachable', () => {
  it('one line, exit 1, promptly', async () => {
    const r = await runCli(['account', 'list'], { env: deadEnv });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: unavailable: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(r.ms).toBeLessThan(5000);
  });

  it('a change fails at the connect, before the audit check: unavailable, not audit_unavailable', async () => {
    const r = await runCli(['card', 'revoke', '--uid', '04112233', '--reason', 'lost'], { env: deadEnv });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: unavailable: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: /);
    expect(r.stdout).toBe('');
  });

  it('never prints the Redis password', async () => {
    const port = await freePort();
    const r = await runCli(['agent', 'list'], { env: cliEnv({ REDIS_URL: `redis://app:hunter2-secret@127.0.0.1:${port}` }) });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(new RegExp(`^cardauth: unavailable: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: `));
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stdout).not.toContain('hunter2');
    // Nor when the URL is refused as malformed.
    const bad = await runCli(['agent', 'list'], { env: cliEnv({ REDIS_URL: `http://app:hunter2-secret@127.0.0.1:${port}` }) });
    expect(bad.code).toBe(2);
    expect(oneErrorLine(bad)).toMatch(/^cardauth: config_invalid: REDIS_URL: /);
    expect(bad.stderr).not.toContain('hunter2');
    expect(bad.stdout).not.toContain('hunter2');
  });
});

describe('a config file works instead of the environment', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('--config FILE before or after the command; the file may hold server-only keys', async () => {
    const file = join(dir, 'cardauth.json');
    writeFileSync(file, JSON.stringify({ REDIS_URL: redis.url, CARDAUTH_PUBLIC_ORIGIN: 'https://mis.example.ru', CARDAUTH_PORT: 8080 }));
    for (const args of [['--config', file, 'agent', 'list'], ['agent', 'list', `--config=${file}`]]) {
      const r = await runCli(args, { env: cliEnv() });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('no agents\n');
    }
  });
});

describe('config table', () => {
  it('prints the markdown table of keys, without Redis', async () => {
    const r = await runCli(['config', 'table'], { env: cliEnv() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${configTable()}\n`);
  });
});
