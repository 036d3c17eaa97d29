import { createRedisAdapter, oidcKey } from '../../src/oidc/redis-adapter';
import { suiteRedis } from '../helpers/redis';

// oidc-provider's storage on real Redis; the provider itself runs in test/oidc/flow.test.ts.
const redis = suiteRedis();

class AlreadyUsed extends Error {}
const adapterFor = (model: string) => createRedisAdapter(redis(), { alreadyConsumed: () => new AlreadyUsed() })(model);

describe('redis adapter', () => {
  it('keeps a record under oidc:<model>:<id> with the TTL the provider gives, and finds it', async () => {
    const codes = adapterFor('AuthorizationCode');
    await codes.upsert('c1', { grantId: 'g1', accountId: 'acc_1', kind: 'AuthorizationCode' }, 60);
    expect(await codes.find('c1')).toEqual({ grantId: 'g1', accountId: 'acc_1', kind: 'AuthorizationCode' });
    const ttl = await redis().ttl(oidcKey('AuthorizationCode', 'c1'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await codes.find('nope')).toBeUndefined();
  });

  it('a write Redis refuses inside the MULTI rejects the upsert, not a silent half-save', async () => {
    await redis().set('oidc:grant:g-broken', 'not a list'); // RPUSH onto it answers WRONGTYPE inside the transaction
    const tokens = adapterFor('AccessToken');
    await expect(tokens.upsert('t1', { grantId: 'g-broken' }, 60)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('keeps a record without expiry (a client) for good, and destroys it', async () => {
    const clients = adapterFor('Client');
    await clients.upsert('mis', { client_id: 'mis' });
    expect(await redis().ttl(oidcKey('Client', 'mis'))).toBe(-1);
    await clients.destroy('mis');
    expect(await clients.find('mis')).toBeUndefined();
  });

  it('finds an interaction or session by uid and a device code by user code', async () => {
    const sessions = adapterFor('Session');
    await sessions.upsert('s1', { uid: 'u1', accountId: 'acc_1' }, 60);
    expect(await sessions.findByUid('u1')).toMatchObject({ accountId: 'acc_1' });
    const devices = adapterFor('DeviceCode');
    await devices.upsert('d1', { userCode: 'ABCD-EFGH', grantId: 'g' }, 60);
    expect(await devices.findByUserCode('ABCD-EFGH')).toMatchObject({ userCode: 'ABCD-EFGH' });
  });

  it('marks a code used once: the second consume fails and find shows it consumed', async () => {
    const codes = adapterFor('AuthorizationCode');
    await codes.upsert('c1', { grantId: 'g1' }, 60);
    await codes.consume('c1');
    expect((await codes.find('c1'))?.consumed).toEqual(expect.any(Number));
    await expect(codes.consume('c1')).rejects.toBeInstanceOf(AlreadyUsed);
  });

  it('lets exactly one of two nodes consume the same code at the same moment', async () => {
    await adapterFor('AuthorizationCode').upsert('c1', { grantId: 'g1' }, 60);
    // Two nodes: two clients, two adapters.
    const other = redis().duplicate();
    try {
      const results = await Promise.allSettled([adapterFor('AuthorizationCode').consume('c1'), createRedisAdapter(other, { alreadyConsumed: () => new AlreadyUsed() })('AuthorizationCode').consume('c1')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    } finally {
      other.disconnect();
    }
  });

  it('refuses to consume a code that is gone', async () => {
    await expect(adapterFor('AuthorizationCode').consume('gone')).rejects.toBeInstanceOf(AlreadyUsed);
  });

  it('revoking a grant deletes every token of it, and only those', async () => {
    await adapterFor('AccessToken').upsert('at1', { grantId: 'g1' }, 600);
    await adapterFor('RefreshToken').upsert('rt1', { grantId: 'g1' }, 3600);
    await adapterFor('AuthorizationCode').upsert('c1', { grantId: 'g1' }, 60);
    await adapterFor('AccessToken').upsert('at2', { grantId: 'g2' }, 600);
    expect(await redis().ttl('oidc:grant:g1')).toBeGreaterThan(600);
    await adapterFor('AccessToken').revokeByGrantId('g1');
    expect(await adapterFor('AccessToken').find('at1')).toBeUndefined();
    expect(await adapterFor('RefreshToken').find('rt1')).toBeUndefined();
    expect(await adapterFor('AuthorizationCode').find('c1')).toBeUndefined();
    expect(await adapterFor('AccessToken').find('at2')).toEqual({ grantId: 'g2' });
    expect(await redis().exists('oidc:grant:g1')).toBe(0);
  });
});
