import { verify } from '@node-rs/argon2';
import type Redis from 'ioredis';
import { loadServerConfig } from '../../src/config';
import type { Lockout } from '../../src/policy/lockout';
import { createServices } from '../../src/services';
import { failAttempt } from '../helpers/attempts';
import { auditRecords, lastAudit, withAuditUnusable } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, expectRefusedUnaudited, OS_ACTOR, oneErrorLine, runCli } from './support';

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
    // An officer set it: the user changes it at the first login.
    expect(stored.passwordTemporary).toBe('1');
  });

  it('refuses a password that contains the login or the name: exit 1, password_contains_name, nothing created', async () => {
    const r = await create('sidorenko', 'Весна-SIDORENKO-2026\n');
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toBe('cardauth: password_contains_name: the password must not contain your login or your name');
    expect(JSON.parse((await runCli(['account', 'list', '--json'], { env })).stdout).map((a: { login: string }) => a.login)).not.toContain('sidorenko');
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
  it('the audit trail is unusable: exit 1, the message says nothing was changed, and no account is created', async () => {
    const r = await withAuditUnusable(client, () => create('unaudited', 'Some-password-3\n'));
    expectRefusedUnaudited(r);
    expect(await client.hget('acct:by-login', 'unaudited')).toBeNull();
  });
});

describe('account unlock', () => {
  // The server's own wiring (createServices over loadServerConfig), so the account is locked as a login locks it;
  // a lockout key off its default, given to the server and the CLI alike.
  const lockoutEnv = { CARDAUTH_LOCKOUT_ATTEMPTS: '3' };
  const config = () =>
    loadServerConfig({ REDIS_URL: redis.url, CARDAUTH_PUBLIC_ORIGIN: 'http://127.0.0.1:8080', CARDAUTH_SESSION_SECRET: 'cli-test-session-secret-0123456789abcdef', ...lockoutEnv });
  const unlock = (args: string[]) => runCli(['account', 'unlock', ...args], { env: { ...env, ...lockoutEnv } });
  let lockout: Lockout;
  beforeAll(() => {
    lockout = createServices({ redis: client, config: config(), clock: { now: () => Date.now() } }).lockout;
  });

  const createdId = async (login: string) => {
    const r = await create(login, 'Lockout-test-password-5\n');
    expect(r.code).toBe(0);
    return r.lines[r.lines.length - 1] as string;
  };

  it('success: ends a lockout reached through failed attempts (at the configured count), audited account.unlocked as os:<user>', async () => {
    const id = await createdId('locked-out');
    const subject = { accountId: id, ip: '192.0.2.10' };
    expect(config().CARDAUTH_LOCKOUT_ATTEMPTS).toBe(3);
    for (let i = 1; i < config().CARDAUTH_LOCKOUT_ATTEMPTS; i++) expect(await failAttempt(lockout, subject)).toBe(false);
    expect(await failAttempt(lockout, subject)).toBe(true);
    expect(await lockout.accountCount(id)).toMatchObject({ failures: 3 });

    const r = await unlock(['--login', 'LOCKED-OUT']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`unlocked account locked-out (${id}): 3 failed attempts cleared\n`);
    expect(await lockout.accountCount(id)).toEqual({ failures: 0, msLeft: 0 });
    expect(await lastAudit(client, 'account.unlocked')).toMatchObject({
      outcome: 'success',
      actor: OS_ACTOR,
      subject: { accountId: id, login: 'locked-out' },
      details: { via: 'cli', failures: 3, remainingSec: expect.any(Number) },
    });
  });

  it('success: failed attempts short of a lock are cleared and audited; an account with none is left alone, unaudited', async () => {
    const id = await createdId('one-failure');
    await failAttempt(lockout, { accountId: id, ip: '192.0.2.11' });
    const r = await unlock(['--login', 'one-failure']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`unlocked account one-failure (${id}): 1 failed attempt cleared\n`);
    expect(await lockout.accountCount(id)).toEqual({ failures: 0, msLeft: 0 });
    expect(await lastAudit(client, 'account.unlocked')).toMatchObject({ actor: OS_ACTOR, subject: { accountId: id }, details: { failures: 1, remainingSec: expect.any(Number) } });

    const before = (await auditRecords(client)).length;
    const again = await unlock(['--login', 'one-failure']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('account one-failure has no failed attempts counted; nothing was changed\n');
    expect(await auditRecords(client)).toHaveLength(before);
  });

  it("success: a CLI configured unlike the server still ends the server's lock, and records the count as stored", async () => {
    const id = await createdId('locked-elsewhere');
    for (let i = 0; i < 3; i++) await failAttempt(lockout, { accountId: id, ip: '192.0.2.12' });
    expect(await lockout.accountCount(id)).toMatchObject({ failures: 3 });

    const r = await runCli(['account', 'unlock', '--login', 'locked-elsewhere'], { env }); // CARDAUTH_LOCKOUT_ATTEMPTS: the default 5
    expect(r.code).toBe(0);
    expect(await lockout.accountCount(id)).toEqual({ failures: 0, msLeft: 0 });
    const rec = await lastAudit(client, 'account.unlocked');
    expect(rec).toMatchObject({ subject: { accountId: id }, details: { failures: 3 } });
    expect(rec?.details?.remainingSec).toBeGreaterThan(800); // the server's 900 s lock, as Redis holds it
  });

  it('fail: an unknown login is exit 1, account_not_found, one line, nothing audited', async () => {
    const before = (await auditRecords(client)).length;
    const r = await unlock(['--login', 'nobody']);
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toBe('cardauth: account_not_found: no account with login "nobody"');
    expect(r.stdout).toBe('');
    expect(await auditRecords(client)).toHaveLength(before);
  });

  it('fail: bad arguments are exit 2, one line naming the argument', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^cardauth: account unlock: --login: required$/],
      [['--login'], /^cardauth: account unlock: --login needs a value/],
      [['--login', 'a\u200bb'], /^cardauth: account unlock: --login: /],
      [['--login', 'x', 'extra'], /^cardauth: account unlock: unexpected argument "extra"$/],
      [['--login', 'x', '--uid', '04112233'], /^cardauth: account unlock: unknown option --uid$/],
    ];
    for (const [args, message] of cases) {
      const r = await unlock(args);
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});

describe('account block and unblock', () => {
  const block = (...args: string[]) => runCli(['account', 'block', ...args], { env });
  const unblock = (...args: string[]) => runCli(['account', 'unblock', ...args], { env });
  /** A logged-in session as connect-redis stores it. */
  const session = (sid: string, accountId: string, login: string) =>
    client.set(`sess:${sid}`, JSON.stringify({ cookie: {}, passport: { user: { accountId, login, cardUid: '04A1A1A1A1A1A1', agentId: 'ag_1' } } }), 'EX', 600);

  it('blocks: the status changes, the open sessions end (and stay ended), each audited; a repeat only ends sessions', async () => {
    const made = await create('blocked-one', 'Block-test-password-7\n');
    const id = made.lines[made.lines.length - 1] as string;
    await session('sb1', id, 'blocked-one');
    await session('sb2', id, 'blocked-one');
    await session('other', 'acc_0000000000000000', 'someone');

    const r = await block('--login', 'BLOCKED-ONE', '--note', 'уволена 25.11');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`blocked account blocked-one (${id}); 2 open session(s) ended\n`);
    expect(JSON.parse((await runCli(['account', 'list', '--json'], { env })).stdout).find((a: { id: string }) => a.id === id).status).toBe('blocked');
    expect(await client.exists('sess:sb1', 'sess:sb2')).toBe(0);
    expect(await client.exists('sessended:sb1', 'sessended:sb2')).toBe(2);
    expect(await client.exists('sess:other')).toBe(1);
    expect(await lastAudit(client, 'account.blocked')).toMatchObject({ actor: OS_ACTOR, subject: { accountId: id, login: 'blocked-one' }, details: { note: 'уволена 25.11', via: 'cli' } });
    const ended = (await auditRecords(client, 'session.ended')).slice(-2);
    expect(ended).toEqual([expect.objectContaining({ reason: 'admin', subject: { accountId: id, login: 'blocked-one' }, details: expect.objectContaining({ cause: 'account_blocked' }) }), expect.anything()]);

    await session('sb3', id, 'blocked-one'); // e.g. a login that was already past its checks
    const blocks = (await auditRecords(client, 'account.blocked')).length;
    const again = await block('--login', 'blocked-one');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`account blocked-one (${id}) was already blocked; 1 open session(s) ended\n`);
    expect(await auditRecords(client, 'account.blocked')).toHaveLength(blocks);
  });

  it('unblocks, audited; unblocking an active account changes nothing', async () => {
    const made = await create('unblocked-one', 'Unblock-test-password-8\n');
    const id = made.lines[made.lines.length - 1] as string;
    expect((await block('--login', 'unblocked-one')).code).toBe(0);
    const r = await unblock('--login', 'unblocked-one', '--note', 'вернулась');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`unblocked account unblocked-one (${id})\n`);
    expect(await lastAudit(client, 'account.unblocked')).toMatchObject({ actor: OS_ACTOR, subject: { accountId: id }, details: { note: 'вернулась' } });
    const count = (await auditRecords(client, 'account.unblocked')).length;
    const again = await unblock('--login', 'unblocked-one');
    expect(again.stdout).toBe('account unblocked-one is not blocked; nothing was changed\n');
    expect(await auditRecords(client, 'account.unblocked')).toHaveLength(count);
  });

  it('refuses an unknown login (exit 1), bad arguments (exit 2), and an unusable trail (nothing changed)', async () => {
    const unknown = await block('--login', 'nobody-here');
    expect(unknown.code).toBe(1);
    expect(oneErrorLine(unknown)).toMatch(/^cardauth: account_not_found: /);
    const bad = await block();
    expect(bad.code).toBe(2);
    expect(oneErrorLine(bad)).toMatch(/account block: --login: required/);
    await create('kept-active', 'Still-here-password-9\n');
    expectRefusedUnaudited(await withAuditUnusable(client, () => block('--login', 'kept-active')));
    expect(JSON.parse((await runCli(['account', 'list', '--json'], { env })).stdout).find((a: { login: string }) => a.login === 'kept-active').status).toBe('active');
  });
});

describe('account reset-password', () => {
  const reset = (...args: string[]) => runCli(['account', 'reset-password', ...args], { env });

  it('prints a one-time password alone on the last line, stores only its hash as temporary, and audits password.reset without it', async () => {
    const made = await create('forgetful', 'Forgot-it-password-1\n');
    const id = made.lines[made.lines.length - 1] as string;
    const r = await reset('--login', 'FORGETFUL');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lines).toHaveLength(2);
    expect(r.lines[0]).toBe(`reset the password of account forgetful (${id}); 0 open session(s) ended; it must be changed at the next login. One-time password:`);
    const password = r.lines[1] as string;
    expect(password).toMatch(/^\S{16,}$/);
    const stored = await client.hgetall(`acct:${id}`);
    expect(await verify(stored.passwordHash as string, password)).toBe(true);
    expect(await verify(stored.passwordHash as string, 'Forgot-it-password-1')).toBe(false);
    expect(stored.passwordTemporary).toBe('1');
    expect(JSON.stringify(stored)).not.toContain(password);
    const rec = await lastAudit(client, 'password.reset');
    expect(rec).toMatchObject({ outcome: 'success', actor: OS_ACTOR, subject: { accountId: id, login: 'forgetful' }, details: { via: 'cli', temporary: true } });
    expect(JSON.stringify(await auditRecords(client))).not.toContain(password);
    // Each reset draws a new one.
    expect((await reset('--login', 'forgetful')).lines[1]).not.toBe(password);
  });

  it('refuses an unknown login (exit 1), a missing one (exit 2), and an unusable trail (nothing changed)', async () => {
    const unknown = await reset('--login', 'nobody-at-all');
    expect(unknown.code).toBe(1);
    expect(oneErrorLine(unknown)).toMatch(/^cardauth: account_not_found: /);
    const missing = await reset();
    expect(missing.code).toBe(2);
    expect(oneErrorLine(missing)).toMatch(/--login: required/);
    const made = await create('kept-password', 'Kept-secret-word-2\n');
    const id = made.lines[made.lines.length - 1] as string;
    const before = await client.hget(`acct:${id}`, 'passwordHash');
    expectRefusedUnaudited(await withAuditUnusable(client, () => reset('--login', 'kept-password')));
    expect(await client.hget(`acct:${id}`, 'passwordHash')).toBe(before);
  });
});

describe('account roles', () => {
  const roles = (...args: string[]) => runCli(['account', 'roles', ...args], { env });
  const rolesOf = async (login: string) => (await client.hget(`acct:${(await client.hget('acct:by-login', login)) as string}`, 'roles')) as string;

  it('--set replaces the roles, --add and --remove edit them; each change audited account.role_changed as os:<user> with before and after', async () => {
    expect((await create('roles-one', 'Верный-пароль-2026!')).code).toBe(0);
    const set = await roles('--login', 'roles-one', '--set', 'clinician,auditor');
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^changed the roles of account roles-one \(acc_[0-9a-f]{16}\): clinician -> clinician, auditor; no open session\n$/);
    expect(await rolesOf('roles-one')).toBe('clinician,auditor');
    expect(await lastAudit(client, 'account.role_changed')).toMatchObject({
      outcome: 'success',
      actor: OS_ACTOR,
      subject: { login: 'roles-one' },
      details: { before: 'clinician', after: 'clinician,auditor', via: 'cli' },
    });

    // The command line is the machine's administrator: it manages privileged roles too.
    expect((await roles('--login', 'roles-one', '--add', 'chief_admin', '--remove', 'auditor')).code).toBe(0);
    expect(await rolesOf('roles-one')).toBe('clinician,chief_admin');
    expect(await lastAudit(client, 'account.role_changed')).toMatchObject({ details: { before: 'clinician,auditor', after: 'clinician,chief_admin' } });
  });

  it('roles it already has: exit 0, nothing changed, nothing audited', async () => {
    const before = (await auditRecords(client)).length;
    const r = await roles('--login', 'roles-one', '--set', 'chief_admin,clinician');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('account roles-one already has the roles clinician, chief_admin; no open session\n');
    expect(await auditRecords(client)).toHaveLength(before);
  });

  it('refuses bad arguments (exit 2), no role left and an unknown login (exit 1), nothing audited', async () => {
    const before = (await auditRecords(client)).length;
    const usage: Array<[string[], RegExp]> = [
      [['--set', 'clinician'], /^cardauth: account roles: --login: required$/],
      [['--login', 'roles-one'], /^cardauth: account roles: give either --set, or --add and\/or --remove$/],
      [['--login', 'roles-one', '--set', 'clinician', '--add', 'auditor'], /^cardauth: account roles: give either --set/],
      [['--login', 'roles-one', '--set', 'root'], /^cardauth: account roles: --set: "root" is not a role/],
    ];
    for (const [args, message] of usage) {
      const r = await roles(...args);
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(message);
    }
    const none = await roles('--login', 'roles-one', '--remove', 'clinician,chief_admin');
    expect(none.code).toBe(1);
    expect(oneErrorLine(none)).toBe('cardauth: bad_request: an account keeps at least one role; block it instead');
    const unknown = await roles('--login', 'nobody', '--set', 'clinician');
    expect(unknown.code).toBe(1);
    expect(oneErrorLine(unknown)).toBe('cardauth: account_not_found: no account with login "nobody"');
    expect(await rolesOf('roles-one')).toBe('clinician,chief_admin');
    expect(await auditRecords(client)).toHaveLength(before);
  });
});
