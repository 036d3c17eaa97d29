import type Redis from 'ioredis';
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
afterAll(() => redis.stop());

/** What the provider reads for a client: oidc:Client:<id>, as the adapter stores it. */
const stored = async (id: string) => {
  const raw = await client.hget(`oidc:Client:${id}`, 'payload');
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
};
const list = async () => {
  const r = await runCli(['client', 'list', '--json'], { env });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
};

describe('client add, list, rotate-secret, remove', () => {
  let secret: string;

  it('adds a confidential client: its secret alone on the last line, stored for client_secret_basic; audited without it', async () => {
    const r = await runCli(['client', 'add', '--id', 'web-mis', '--name', 'МИС поликлиники', '--redirect-uri', 'https://mis.example.ru/cb', '--redirect-uri', 'https://mis.example.ru/cb2', '--post-logout-redirect-uri', 'https://mis.example.ru/'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    secret = r.lines[r.lines.length - 1]!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.lines[0]).toBe('added confidential client web-mis');
    expect(await stored('web-mis')).toMatchObject({
      client_id: 'web-mis',
      client_secret: secret,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['https://mis.example.ru/cb', 'https://mis.example.ru/cb2'],
      post_logout_redirect_uris: ['https://mis.example.ru/'],
      application_type: 'web',
      response_types: ['code'],
    });
    const rec = await lastAudit(client, 'oidc.client_added');
    expect(rec).toMatchObject({ outcome: 'success', actor: OS_ACTOR, details: { clientId: 'web-mis', name: 'МИС поликлиники', public: false, redirectUris: 'https://mis.example.ru/cb https://mis.example.ru/cb2', via: 'cli' } });
    expect(JSON.stringify(await auditRecords(client))).not.toContain(secret);
  });

  it('adds a public desktop client with a loopback redirect: no secret, a native app', async () => {
    const r = await runCli(['client', 'add', '--id', 'desktop-mis', '--name', 'МИС (рабочее место)', '--redirect-uri', 'http://127.0.0.1/callback', '--public'], { env });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(['added public client desktop-mis']);
    const m = await stored('desktop-mis');
    expect(m).toMatchObject({ token_endpoint_auth_method: 'none', application_type: 'native' });
    expect(m).not.toHaveProperty('client_secret');
  });

  it('lists the clients without their secrets', async () => {
    const clients = await list();
    expect(clients.map((c) => [c.id, c.public])).toEqual([
      ['desktop-mis', true],
      ['web-mis', false],
    ]);
    expect(JSON.stringify(clients)).not.toContain(secret);
    const text = await runCli(['client', 'list'], { env });
    expect(text.stdout).toContain('web-mis');
    expect(text.stdout).not.toContain(secret);
  });

  it('refuses an id that exists, an http redirect off loopback, a fragment, and a missing redirect', async () => {
    const again = await runCli(['client', 'add', '--id', 'web-mis', '--name', 'x', '--redirect-uri', 'https://other.example.ru/cb'], { env });
    expect(again.code).toBe(1);
    expect(oneErrorLine(again)).toBe('cardauth: client_exists: client web-mis exists already');
    expect((await stored('web-mis'))?.client_secret).toBe(secret);
    for (const uri of ['http://mis.example.ru/cb', 'https://mis.example.ru/cb#x', 'javascript:alert(1)', 'cb']) {
      const r = await runCli(['client', 'add', '--id', 'bad', '--name', 'x', '--redirect-uri', uri], { env });
      expect(r.code).toBe(2);
      expect(oneErrorLine(r)).toMatch(/^cardauth: client add: --redirect-uri: must be an absolute https URI/);
    }
    const none = await runCli(['client', 'add', '--id', 'bad', '--name', 'x'], { env });
    expect(oneErrorLine(none)).toBe('cardauth: client add: --redirect-uri: required');
    expect(await stored('bad')).toBeUndefined();
  });

  it('rotates a confidential secret: the new one alone on the last line replaces the old; audited without either', async () => {
    const r = await runCli(['client', 'rotate-secret', '--id', 'web-mis'], { env });
    expect(r.code).toBe(0);
    const fresh = r.lines[r.lines.length - 1]!;
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fresh).not.toBe(secret);
    expect((await stored('web-mis'))?.client_secret).toBe(fresh);
    expect(await lastAudit(client, 'oidc.client_secret_rotated')).toMatchObject({ outcome: 'success', details: { clientId: 'web-mis' } });
    expect(JSON.stringify(await auditRecords(client))).not.toContain(fresh);
    const pub = await runCli(['client', 'rotate-secret', '--id', 'desktop-mis'], { env });
    expect(oneErrorLine(pub)).toBe('cardauth: bad_request: client desktop-mis is public and has no secret');
  });

  it('changes nothing when the audit trail is unusable', async () => {
    const r = await withAuditUnusable(client, () => runCli(['client', 'remove', '--id', 'web-mis'], { env }));
    expectRefusedUnaudited(r);
    expect(await stored('web-mis')).toBeDefined();
  });

  it('removes a client: the provider no longer finds it; audited', async () => {
    const r = await runCli(['client', 'remove', '--id', 'web-mis'], { env });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(['removed client web-mis']);
    expect(await stored('web-mis')).toBeUndefined();
    expect((await list()).map((c) => c.id)).toEqual(['desktop-mis']);
    expect(await lastAudit(client, 'oidc.client_removed')).toMatchObject({ outcome: 'success', details: { clientId: 'web-mis' } });
    const gone = await runCli(['client', 'remove', '--id', 'web-mis'], { env });
    expect(oneErrorLine(gone)).toBe('cardauth: client_not_found: no client web-mis');
  });
});
