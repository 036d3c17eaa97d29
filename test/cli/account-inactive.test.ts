import type Redis from 'ioredis';
import { auditRecords } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { cliEnv, OS_ACTOR, oneErrorLine, runCli } from './support';

const DAY = 86_400_000;
let redis: TestRedis;
let client: Redis;
let env: Record<string, string>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  env = cliEnv({ REDIS_URL: redis.url });
  for (const login of ['old', 'recent', 'returned']) {
    const r = await runCli(['account', 'create', '--login', login, '--name', login, '--role', 'clinician', '--password-stdin'], { env, stdin: 'Пароль-для-проверки-1\n' });
    expect(r.code).toBe(0);
    ids[login] = r.lines[r.lines.length - 1] as string;
  }
  // Created 100 days ago; `returned` logged in 10 days ago.
  for (const id of Object.values(ids)) await client.hset(`acct:${id}`, 'createdAt', Date.now() - 100 * DAY);
  await client.hset(`acct:${ids.recent}`, 'createdAt', Date.now() - 10 * DAY);
  await client.hset(`acct:${ids.returned}`, 'lastLoginAt', Date.now() - 10 * DAY, 'lastLoginWorkstation', 'РМ-101');
});
afterAll(async () => {
  await redis.stop();
});

describe('account block-inactive', () => {
  it('--dry-run lists the accounts unused for CARDAUTH_INACTIVE_BLOCK_DAYS and changes nothing', async () => {
    const r = await runCli(['account', 'block-inactive', '--dry-run'], { env });
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatch(/^LOGIN\s+ID\s+LAST ACTIVITY$/);
    expect(r.lines[1]).toMatch(new RegExp(`^old\\s+${ids.old}\\s+\\d{4}-`));
    expect(r.lines[2]).toBe('would block 1 account(s) unused for 90 days');
    expect(await client.hget(`acct:${ids.old}`, 'status')).toBe('active');
  });

  it('blocks them, audited account.blocked (reason inactive) as os:<user>; --days overrides the key', async () => {
    const r = await runCli(['account', 'block-inactive'], { env });
    expect(r.code).toBe(0);
    expect(r.lines[r.lines.length - 1]).toBe('blocked 1 account(s) unused for 90 days');
    expect(await client.hget(`acct:${ids.old}`, 'status')).toBe('blocked');
    expect((await auditRecords(client, 'account.blocked')).map((x) => [x.subject.login, x.reason, x.actor])).toEqual([['old', 'inactive', OS_ACTOR]]);

    const json = await runCli(['account', 'block-inactive', '--days', '7', '--json'], { env });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).map((a: { login: string }) => a.login).sort()).toEqual(['recent', 'returned']);
  });

  it('off with CARDAUTH_INACTIVE_BLOCK_DAYS=0; a bad key or --days: exit 2 naming it', async () => {
    const off = await runCli(['account', 'block-inactive'], { env: { ...env, CARDAUTH_INACTIVE_BLOCK_DAYS: '0' } });
    expect(off.code).toBe(0);
    expect(off.stdout).toMatch(/^CARDAUTH_INACTIVE_BLOCK_DAYS is 0: blocking unused accounts is off/);
    const key = await runCli(['account', 'block-inactive'], { env: { ...env, CARDAUTH_INACTIVE_BLOCK_DAYS: '3' } });
    expect(key.code).toBe(2);
    expect(oneErrorLine(key)).toMatch(/CARDAUTH_INACTIVE_BLOCK_DAYS: must be 0 \(off\) or a whole number of days from 7 to 3650/);
    const days = await runCli(['account', 'block-inactive', '--days', '3'], { env });
    expect(days.code).toBe(2);
    expect(oneErrorLine(days)).toMatch(/^cardauth: account block-inactive: --days: must be from 7 to 3650 days/);
  });
});
