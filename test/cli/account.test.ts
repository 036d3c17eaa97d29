import { verify } from '@node-rs/argon2';
import type Redis from 'ioredis';
import { auditRecords, lastAudit } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, OS_ACTOR, oneErrorLine, runCli } from './support';

let redis: TestRedis;
let client: Redis;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  env = cliEnv({ REDIS_URL: redis.url });
});
afterAll(async () => {
  await redis.stop();
});

const create = (login: string, stdin: string, roles = ['clinician']) =>
  runCli(['account', 'create', '--login', login, '--name', `Д-р ${login}`, ...roles.flatMap((r) => ['--role', r]), '--password-stdin'], { env, stdin });

describe('account create success', () => {
  it('creates the account from the first line of stdin, prints the id last, and audits account.created as os:<user>', async () => {
    const r = await create('Иванова', 'Верный-пароль-2026!\nsecond line is not read\n', ['clinician', 'auditor']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const id = r.lines[r.lines.length - 1];
    expect(id).toMatch(/^acc_[0-9a-f]{16}$/);

    const stored = await client.hgetall(`acct:${id}`);
    expect(stored.roles).toBe('clinician,auditor');
    expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verify(stored.passwordHash as string, 'Верный-пароль-2026!')).toBe(true);

    const rec = await lastAudit(client, 'account.created');
    expect(rec).toMatchObject({ outcome: 'success', actor: OS_ACTOR, subject: { accountId: id, login: 'Иванова' }, details: { via: 'cli', roles: 'clinician,auditor' } });
    expect(JSON.stringify(rec)).not.toContain('Верный-пароль');
  });

  it('strips a trailing CRLF, and takes a last line without newline as is', async () => {
    const crlf = await create('crlf-user', 'Pass word with spaces 1 \r\n');
    expect(crlf.code).toBe(0);
    const a = await client.hgetall(`acct:${crlf.lines[crlf.lines.length - 1]}`);
    expect(await verify(a.passwordHash as string, 'Pass word with spaces 1 ')).toBe(true);

    const bare = await create('bare-user', 'No-newline-at-end-1');
    expect(bare.code).toBe(0);
    const b = await client.hgetall(`acct:${bare.lines[bare.lines.length - 1]}`);
    expect(await verify(b.passwordHash as string, 'No-newline-at-end-1')).toBe(true);
  });
});

describe('account create: password policy (ИАФ.3)', () => {
  it.each([
    ['too short', 'Коротк-1'],
    ['a small alphabet (Latin letters and digits only: 62)', 'abcdefGHIJKL123456'],
  ])('refuses %s with exit 1 and password_weak, and creates nothing', async (_why, password) => {
    const r = await create('weak-user', `${password}\n`);
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: password_weak: the password must be at least 12 characters/);
    expect(oneErrorLine(r)).not.toContain(password);
    expect(await client.hget('acct:by-login', 'weak-user')).toBeNull();
  });
});

describe('account list', () => {
  it('--json is an array of accounts without any password hash', async () => {
    const r = await runCli(['account', 'list', '--json'], { env });
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(list.map((a) => a.login)).toEqual(expect.arrayContaining(['Иванова', 'crlf-user', 'bare-user']));
    expect(list.find((a) => a.login === 'Иванова')).toMatchObject({ displayName: 'Д-р Иванова', roles: ['clinician', 'auditor'], status: 'active', lastLoginAt: null });
    for (const a of list) expect(Object.keys(a)).not.toContain('passwordHash');
    expect(r.stdout).not.toContain('$argon2');
  });

  it('prints an aligned table without hashes', async () => {
    const r = await runCli(['account', 'list'], { env });
    expect(r.code).toBe(0);
    const [head, ...rows] = r.lines;
    expect(head).toMatch(/^LOGIN\s+ID\s+NAME\s+ROLES\s+STATUS\s+CREATED\s+LAST LOGIN$/);
    const idColumn = (head as string).indexOf('ID');
    for (const row of rows) expect(row.slice(idColumn)).toMatch(/^acc_[0-9a-f]{16} /);
    expect(r.stdout).not.toContain('$argon2');
  });
});

describe('account create fail', () => {
  it('a login taken in another case: exit 1, login_taken, nothing audited', async () => {
    const before = (await auditRecords(client)).length;
    const r = await create('ИВАНОВА', 'Another-password-2\n');
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^cardauth: login_taken: /);
    expect(r.stdout).toBe('');
    expect(await auditRecords(client)).toHaveLength(before);
  });

  it('an empty first line is refused with exit 2 and no account', async () => {
    for (const stdin of ['', '\n', '\r\nsecond\n']) {
      const r = await create('empty-password', stdin);
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(/^cardauth: account create: --password-stdin: /);
    }
    expect(await client.hget('acct:by-login', 'empty-password')).toBeNull();
  });

  it('a password over 1024 characters is refused (the login form would never accept it)', async () => {
    const r = await create('long-password', `${'x'.repeat(1025)}\n`);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/--password-stdin: .*1024/);
  });

  it('without --password-stdin, or with a bad role or login: exit 2 naming the argument', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--login', 'x', '--name', 'X', '--role', 'clinician'], /--password-stdin: required/],
      [['--login', 'x', '--name', 'X', '--role', 'doctor', '--password-stdin'], /--role: "doctor" is not a role/],
      [['--login', 'x', '--name', 'X', '--password-stdin'], /--role: required/],
      [['--login', 'a\u200bb', '--name', 'X', '--role', 'clinician', '--password-stdin'], /--login: /],
      [['--name', 'X', '--role', 'clinician', '--password-stdin'], /--login: required/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['account', 'create', ...args], { env, stdin: 'pw\n' });
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(message);
    }
  });
});

describe('account create error', () => {
  it('the audit cannot be written: exit 1, and the message says the account was created anyway', async () => {
    await client.rename('audit:log', 'audit:log:saved');
    await client.set('audit:log', 'not a stream');
    try {
      const r = await create('unaudited', 'Some-password-3\n');
      expect(r.code).toBe(1);
      const line = oneErrorLine(r);
      expect(line).toMatch(/^cardauth: audit_unavailable: account acc_[0-9a-f]{16} \(unaudited\) was created, but its audit record \(account\.created\) could not be written/);
      expect(await client.hget('acct:by-login', 'unaudited')).toMatch(/^acc_/);
    } finally {
      await client.del('audit:log');
      await client.rename('audit:log:saved', 'audit:log');
    }
  });
});
