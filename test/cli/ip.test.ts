import type Redis from 'ioredis';
import { lastAudit, auditRecords } from '../helpers/audit';
import { startRedis, type TestRedis } from '../helpers/redis';
import { createIpLockAdmin } from '../../src/admin/ip-lock';
import { loadServerConfigSubset, STORE_KEYS } from '../../src/config';
import { createStores } from '../../src/services';
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

describe('ip unlock: the IP scope of the lockout', () => {
  it('--show prints the count and the lock; unlock clears it, audited ip.unlocked with the actor and before/after; an IPv6 address is its /64; nothing counted: nothing recorded', async () => {
    // As the attempts policy leaves an address that spent CARDAUTH_IP_ATTEMPTS (50).
    await client.set('rl:ip:192.0.2.7', '50', 'PX', 900_000);
    const shown = await runCli(['ip', 'unlock', '--ip', '192.0.2.7', '--show'], { env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^IP 192\.0\.2\.7: 50 refused logins counted, locked for \d+ s more\n$/);
    expect(await client.get('rl:ip:192.0.2.7')).toBe('50');

    const r = await runCli(['ip', 'unlock', '--ip', '192.0.2.7'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('unlocked IP 192.0.2.7: 50 refused logins cleared\n');
    expect(await client.exists('rl:ip:192.0.2.7')).toBe(0);
    expect(await lastAudit(client, 'ip.unlocked')).toMatchObject({ outcome: 'success', actor: OS_ACTOR, source: { ip: '192.0.2.7' }, details: expect.objectContaining({ failures: 50, before: 'locked', after: 'unlocked', via: 'cli' }) });

    await client.set('rl:ip:2001:db8:0:0::/64', '3', 'PX', 900_000);
    expect((await runCli(['ip', 'unlock', '--ip', '2001:db8::99'], { env })).stdout).toContain('3 refused logins cleared');
    expect(await client.exists('rl:ip:2001:db8:0:0::/64')).toBe(0);

    const records = (await auditRecords(client, 'ip.unlocked')).length;
    expect((await runCli(['ip', 'unlock', '--ip', '192.0.2.7'], { env })).stdout).toContain('nothing was changed');
    expect(await auditRecords(client, 'ip.unlocked')).toHaveLength(records);

    const bad = await runCli(['ip', 'unlock', '--ip', 'not-an-ip'], { env });
    expect(bad.code).not.toBe(0);
    expect(oneErrorLine(bad)).toMatch(/bad_request: not an IP address/);
  });

  it('an auditor may not unlock an IP: forbidden, audited read_only, the count kept', async () => {
    const config = loadServerConfigSubset(STORE_KEYS, { REDIS_URL: redis.url });
    const admin = createIpLockAdmin(createStores({ redis: client, config, clock: { now: () => Date.now() } }));
    await client.set('rl:ip:192.0.2.8', '5', 'PX', 900_000);
    const auditor = { actor: 'acct:acc_00000000000000aa', via: { via: 'web' }, principal: { accountId: 'acc_00000000000000aa', roles: ['auditor' as const] } };
    await expect(admin.unlock(auditor, '192.0.2.8')).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(client, 'ip.unlocked')).toMatchObject({ outcome: 'failure', reason: 'read_only', actor: auditor.actor });
    expect(await client.get('rl:ip:192.0.2.8')).toBe('5');
  });
});
