import type Redis from 'ioredis';
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

  it('a write Redis refuses rejects the upsert, not a silent half-save: the record is not written', async () => {
    await redis().set('oidc:grant:g-broken', 'not a list'); // RPUSH onto it answers WRONGTYPE
    const tokens = adapterFor('AccessToken');
    await expect(tokens.upsert('t1', { grantId: 'g-broken' }, 60)).rejects.toMatchObject({ code: 'unavailable' });
    expect(await tokens.find('t1')).toBeUndefined();
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

  // Every model oidc-provider 9 stores, and whether it belongs to a grant (revokeByGrantId).
  const MODELS: Array<[string, boolean]> = [
    ['Session', false], ['Interaction', false], ['Grant', false], ['Client', false], ['PushedAuthorizationRequest', false], ['ReplayDetection', false],
    ['RegistrationAccessToken', false], ['InitialAccessToken', false], ['ClientCredentials', false],
    ['AccessToken', true], ['AuthorizationCode', true], ['RefreshToken', true], ['DeviceCode', true], ['BackchannelAuthenticationRequest', true], ['PreAuthorizedCode', true],
  ];

  it.each(MODELS)('%s: kept with its TTL, replaced whole by an upsert, consumed once across nodes, destroyed; revoked with its grant: %s', async (model, grantable) => {
    const mine = adapterFor(model);
    const other = redis().duplicate();
    try {
      const theirs = createRedisAdapter(other, { alreadyConsumed: () => new AlreadyUsed() })(model);
      await mine.upsert('r1', { grantId: 'g1', accountId: 'acc_1' }, 120);
      expect(await theirs.find('r1')).toEqual({ grantId: 'g1', accountId: 'acc_1' });
      const ttl = await redis().ttl(oidcKey(model, 'r1'));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120);
      // Consumed once, by one of two nodes; a new upsert of the id is a new record, unconsumed.
      const consumed = await Promise.allSettled([mine.consume('r1'), theirs.consume('r1')]);
      expect(consumed.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((await mine.find('r1'))?.consumed).toEqual(expect.any(Number));
      await mine.upsert('r1', { grantId: 'g1' }, 60);
      expect(await mine.find('r1')).toEqual({ grantId: 'g1' });
      await mine.upsert('r2', { grantId: 'g1' }, 60);
      await mine.revokeByGrantId('g1');
      expect(await mine.find('r1')).toEqual(grantable ? undefined : { grantId: 'g1' });
      expect(await redis().exists('oidc:grant:g1')).toBe(0);
      await mine.destroy('r2');
      expect(await theirs.find('r2')).toBeUndefined();
    } finally {
      other.disconnect();
    }
  });

  it('a session is found by its uid under its current id; the uid index lives as long as the session, and a destroyed session is not found', async () => {
    const sessions = adapterFor('Session');
    await sessions.upsert('s1', { uid: 'u1', accountId: 'acc_1' }, 90);
    // The provider gives a session a new id at login; its uid stays.
    await sessions.destroy('s1');
    await sessions.upsert('s2', { uid: 'u1', accountId: 'acc_1', loginTs: 1 }, 90);
    expect(await sessions.findByUid('u1')).toEqual({ uid: 'u1', accountId: 'acc_1', loginTs: 1 });
    const ttl = await redis().ttl('oidc:uid:u1');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(90);
    await sessions.destroy('s2');
    expect(await sessions.findByUid('u1')).toBeUndefined();
    expect(await sessions.findByUid('nope')).toBeUndefined();
    // Only sessions are looked up by uid.
    await adapterFor('Interaction').upsert('i1', { uid: 'i1' }, 60);
    expect(await redis().exists('oidc:uid:i1')).toBe(0);
  });

  /** The commands a client sends for `op` (MONITOR; a script call counts one, not the commands it runs). */
  async function commandsSent(client: Redis, op: () => Promise<unknown>): Promise<string[]> {
    const monitor = await redis().monitor();
    const seen: string[] = [];
    let marked: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (marked = resolve));
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[0]?.toLowerCase() === 'echo' && args[1] === 'end-of-op') marked();
      else if (source !== 'lua') seen.push(String(args[0]).toUpperCase());
    });
    try {
      await op();
      await client.echo('end-of-op');
      await done;
      return seen;
    } finally {
      monitor.disconnect();
    }
  }

  it('each operation is one Redis command: the provider saves and reads several records a request', async () => {
    const client = redis().duplicate();
    try {
      const adapter = createRedisAdapter(client);
      // Each script is loaded once per connection first (EVALSHA, then EVAL on NOSCRIPT).
      await adapter('Session').upsert('warm', { uid: 'warm' }, 60);
      await adapter('Session').findByUid('warm');
      await adapter('AuthorizationCode').upsert('warm', { grantId: 'warm' }, 60);
      await adapter('AuthorizationCode').consume('warm');
      await adapter('AccessToken').revokeByGrantId('warm');
      expect(await commandsSent(client, () => adapter('Session').upsert('s1', { uid: 'u1', accountId: 'acc_1' }, 60))).toEqual(['EVALSHA']);
      expect(await commandsSent(client, () => adapter('Session').findByUid('u1'))).toEqual(['EVALSHA']);
      expect(await commandsSent(client, () => adapter('Interaction').upsert('i1', { returnTo: '/x' }, 60))).toEqual(['EVALSHA']);
      expect(await commandsSent(client, () => adapter('AuthorizationCode').upsert('c1', { grantId: 'g1' }, 60))).toEqual(['EVALSHA']);
      expect(await commandsSent(client, () => adapter('AuthorizationCode').find('c1'))).toEqual(['HGETALL']);
      expect(await commandsSent(client, () => adapter('AuthorizationCode').consume('c1'))).toEqual(['EVALSHA']);
      expect(await commandsSent(client, () => adapter('AccessToken').revokeByGrantId('g1'))).toEqual(['EVALSHA']);
    } finally {
      client.disconnect();
    }
  });
});
