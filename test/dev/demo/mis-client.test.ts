import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { systemClock } from '../../../src/clock';
import { loadServerConfigSubset, STORE_KEYS } from '../../../src/config';
import { seedDemoClient } from '../../../dev/demo/mis-client';
import { createClientStore, type ClientStore } from '../../../src/oidc/clients';
import { createStores } from '../../../src/services';
import { auditRecords } from '../../helpers/audit';
import { startRedis, type TestRedis } from '../../helpers/redis';

// The demo registers its MIS (examples/oidc-mis) with the OpenID provider, idempotently, with a
// secret kept for the next run; another --mis-port registers it anew; a lost secret is replaced.

let redis: TestRedis;
let client: Redis;
let dir: string;
let clients: ClientStore;
let seed: (origin: string) => ReturnType<typeof seedDemoClient>;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  dir = mkdtempSync(join(tmpdir(), 'cardauth-demo-client-'));
  clients = createClientStore({ redis: client });
  const { audit } = createStores({ redis: client, config: loadServerConfigSubset(STORE_KEYS, { REDIS_URL: redis.url }), clock: systemClock });
  seed = (origin) => seedDemoClient({ clients, audit, actor: 'os:test', clock: systemClock }, origin, join(dir, 'mis-client-secret'));
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const secretFile = () => join(dir, 'mis-client-secret');

describe('seedDemoClient', () => {
  it('registers demo-mis as a confidential client with its callback, post-logout and back-channel logout URIs, and keeps its secret 0600', async () => {
    const { secret, changes } = await seed('http://127.0.0.1:8081');
    expect(changes).toEqual(['client demo-mis']);
    expect(await clients.get('demo-mis')).toMatchObject({
      public: false,
      redirectUris: ['http://127.0.0.1:8081/callback'],
      postLogoutRedirectUris: ['http://127.0.0.1:8081/logged-out'],
      backchannelLogoutUri: 'http://127.0.0.1:8081/backchannel-logout',
    });
    expect(readFileSync(secretFile(), 'utf8')).toBe(`${secret}\n`);
    expect(statSync(secretFile()).mode & 0o777).toBe(0o600);
    expect((await auditRecords(client, 'oidc.client_added')).map((r) => r.details)).toEqual([expect.objectContaining({ clientId: 'demo-mis', via: 'demo' })]);
  });

  it('is idempotent: a second run changes nothing and answers the same secret', async () => {
    const before = await client.xlen('audit:log');
    const first = readFileSync(secretFile(), 'utf8').trim();
    expect(await seed('http://127.0.0.1:8081')).toEqual({ secret: first, changes: [] });
    expect(await client.xlen('audit:log')).toBe(before);
  });

  it('registers it anew for another MIS port, and replaces a lost secret', async () => {
    const moved = await seed('http://127.0.0.1:9081');
    expect(moved.changes).toEqual(['client demo-mis']);
    expect((await clients.get('demo-mis'))?.redirectUris).toEqual(['http://127.0.0.1:9081/callback']);
    expect((await auditRecords(client, 'oidc.client_removed')).map((r) => r.details.clientId)).toEqual(['demo-mis']);

    rmSync(secretFile());
    const again = await seed('http://127.0.0.1:9081');
    expect(again.changes).toEqual(['secret of demo-mis']);
    expect(again.secret).not.toBe(moved.secret);
    expect(readFileSync(secretFile(), 'utf8')).toBe(`${again.secret}\n`);
  });
});
