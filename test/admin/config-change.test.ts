import { startServer } from '../../src/server';
import { CONFIG_LAST_KEY, REDACTED_KEYS, configChangedRecords, configSnapshot } from '../../src/admin/config-change';
import { parseAuditInput } from '../../src/audit/record';
import { systemClock } from '../../src/clock';
import { loadServerConfig, SERVER_KEYS } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { auditRecords } from '../helpers/audit';
import { TEST_SECRET } from '../helpers/app';
import { freePort, startRedis, type TestRedis } from '../helpers/redis';

const OTHER_SECRET = 'another-session-secret-abcdef0123456789';

describe('config.changed at the server start', () => {
  let redis: TestRedis;
  let port: number;
  beforeAll(async () => {
    redis = await startRedis();
    port = await freePort();
  });
  afterAll(() => redis.stop());

  /** Starts and stops the real server (src/server.ts) with these keys over the base config, on the same port each time. */
  async function startOnce(env: Record<string, string> = {}): Promise<void> {
    const config = loadServerConfig({
      REDIS_URL: redis.url,
      CARDAUTH_PORT: String(port),
      CARDAUTH_PUBLIC_ORIGIN: `http://127.0.0.1:${port}`,
      CARDAUTH_SESSION_SECRET: TEST_SECRET,
      ...env,
    });
    const server = await startServer({ config, logger: silentLogger, clock: systemClock, shutdownGraceMs: 100 });
    await server.close();
  }

  it('the first start records the baseline; the same config again records nothing; a change records each key, a secret only as redacted', async () => {
    const client = redis.client();
    await startOnce();
    const first = await auditRecords(client, 'config.changed');
    // Every key that has a value (an unset optional one, such as CARDAUTH_AUDIT_RETENTION_DAYS, is absent).
    const kept = Object.keys((JSON.parse((await client.get(CONFIG_LAST_KEY))!) as { values: object }).values);
    expect(kept.length).toBeGreaterThan(Object.keys(SERVER_KEYS).length - 5);
    expect(first).toEqual([expect.objectContaining({ outcome: 'success', details: { baseline: true, keys: kept.length } })]);
    expect(await client.get(CONFIG_LAST_KEY)).not.toContain(TEST_SECRET);

    await startOnce();
    expect(await auditRecords(client, 'config.changed')).toHaveLength(1);

    await startOnce({ CARDAUTH_LOCKOUT_ATTEMPTS: '3', CARDAUTH_SESSION_SECRET: OTHER_SECRET, CARDAUTH_AGENT_PORTS: '47800-47831' });
    const all = await auditRecords(client);
    const changed = all.filter((r) => r.type === 'config.changed').slice(1);
    expect(changed.map((r) => r.details)).toEqual([
      { key: 'CARDAUTH_AGENT_PORTS', before: 'null', after: '{"from":47800,"to":47831}' },
      { key: 'CARDAUTH_LOCKOUT_ATTEMPTS', before: '5', after: '3' },
      { key: 'CARDAUTH_SESSION_SECRET', redacted: true },
    ]);
    // Written before serving, right after the start's policy record.
    const policy = all.filter((r) => r.type === 'policy.applied').at(-1)!;
    expect(changed.map((r) => r.seq)).toEqual([policy.seq + 1, policy.seq + 2, policy.seq + 3]);
    const stored = JSON.stringify(await client.xrange('audit:log', '-', '+')) + (await client.get(CONFIG_LAST_KEY));
    expect(stored).not.toContain(OTHER_SECRET);
    expect(stored).not.toContain(TEST_SECRET);
  });

  it('a removed or unreadable last config is a new baseline, not silence', async () => {
    const client = redis.client();
    await client.set(CONFIG_LAST_KEY, 'not json');
    const before = (await auditRecords(client, 'config.changed')).length;
    await startOnce();
    expect((await auditRecords(client, 'config.changed')).slice(before)).toEqual([expect.objectContaining({ details: expect.objectContaining({ baseline: true }) })]);
  });
});

describe('configChangedRecords', () => {
  const base = loadServerConfig({ REDIS_URL: 'redis://127.0.0.1:6379', CARDAUTH_PUBLIC_ORIGIN: 'http://127.0.0.1:8080', CARDAUTH_SESSION_SECRET: TEST_SECRET });
  it('redacts the secrets and the paths of private key files, and its records pass the audit schema', () => {
    expect(REDACTED_KEYS).toEqual(expect.arrayContaining(['REDIS_URL', 'CARDAUTH_SESSION_SECRET', 'CARDAUTH_OIDC_JWKS_FILE', 'CARDAUTH_AUDIT_KEYS_FILE']));
    const last = configSnapshot(base);
    const now = configSnapshot({ ...base, REDIS_URL: 'redis://:hunter2@10.0.0.5:6379', CARDAUTH_AUDIT_KEYS_FILE: '/etc/cardauth/audit-keys.json', CARDAUTH_HOST: '0.0.0.0' }, last.salt);
    const records = configChangedRecords(last, now);
    expect(records.map((r) => r.details)).toEqual([
      { key: 'CARDAUTH_AUDIT_KEYS_FILE', redacted: true },
      { key: 'CARDAUTH_HOST', before: '127.0.0.1', after: '0.0.0.0' },
      { key: 'REDIS_URL', redacted: true },
    ]);
    for (const r of records) parseAuditInput(r);
    expect(JSON.stringify(now)).not.toMatch(/hunter2|audit-keys/);
  });
  it('a key new since the last start has no before', () => {
    const salt = '00'.repeat(16);
    const { CARDAUTH_DEMO: _, ...older } = configSnapshot(base, salt).values;
    expect(configChangedRecords({ salt, values: older }, configSnapshot(base, salt))).toEqual([{ type: 'config.changed', outcome: 'success', details: { key: 'CARDAUTH_DEMO', before: undefined, after: 'false' } }]);
  });
});
