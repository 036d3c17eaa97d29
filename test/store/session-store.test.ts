import type Redis from 'ioredis';
import type { SessionData } from 'express-session';
import { createSessionLocks } from '../../src/store/session-locks';
import { createSessionStore } from '../../src/store/session-store';
import { createSessionSweep } from '../../src/store/session-sweep';
import { suiteRedis } from '../helpers/redis';
import { codeOf, unreachableRedis } from './support';

// The express-session store, on a real Redis: connect-redis, except that a
// whole-session write never undoes a lock another request patched in.
describe('session store', () => {
  const redis = suiteRedis();
  let client: Redis;
  beforeEach(() => {
    client = redis();
  });

  const user = { accountId: 'acc_1', login: 'ivanova', cardUid: '04A1A1A1A1A1A1', agentId: 'ag_1', authTime: 1 };
  const session = (extra: Record<string, unknown> = {}) =>
    ({ cookie: { originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000), httpOnly: true, path: '/' }, passport: { user }, ...extra }) as unknown as SessionData;
  const stored = async (sid: string) => JSON.parse((await client.get(`sess:${sid}`))!) as Record<string, any>;

  it('a request that loaded the session before a tap-out locked it cannot unlock it by saving', async () => {
    const store = createSessionStore({ redis: client, ttlSec: 3600 });
    const locks = createSessionLocks({ redis: client });
    await store.set('s1', session({ lastSeen: 1 }));
    await locks.bind('s1', 'ag_1', user.cardUid, 3600);
    const loaded = (await store.get('s1')) as SessionData; // a request in flight on another node

    const { locked } = await locks.lockCard('ag_1', user.cardUid, { reason: 'tapout', at: 1234 });
    expect(locked).toEqual(['s1']);
    await store.set('s1', { ...loaded, lastSeen: 2 } as SessionData); // …writes its session back whole

    expect(await stored('s1')).toMatchObject({ locked: { reason: 'tapout', at: 1234 }, lastSeen: 2, passport: { user } });
  });

  it('otherwise writes the session as given, with the TTL of its cookie', async () => {
    const store = createSessionStore({ redis: client, ttlSec: 3600 });
    const given = session({ preauthAt: 5 });
    await store.set('s2', given);
    expect(await client.get('sess:s2')).toBe(JSON.stringify(given)); // byte for byte, as connect-redis writes it
    const ttl = await client.ttl('sess:s2');
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    await store.set('s2', session({ locked: { reason: 'idle', at: 7 } }));
    expect(await stored('s2')).toMatchObject({ locked: { reason: 'idle', at: 7 } });
  });

  it('a lock stays only on the same user: a session written for nobody (logout), or for someone else, is written as given', async () => {
    const store = createSessionStore({ redis: client, ttlSec: 3600 });
    await store.set('s3', session({ locked: { reason: 'tapout', at: 1 } }));
    await store.set('s3', { cookie: session().cookie, preauthAt: 9 } as unknown as SessionData);
    expect(await stored('s3')).not.toHaveProperty('locked');

    await store.set('s3', session({ locked: { reason: 'tapout', at: 1 } }));
    const someoneElse = { ...session(), passport: { user: { ...user, accountId: 'acc_2', login: 'petrov' } } } as unknown as SessionData;
    await store.set('s3', someoneElse);
    expect(await client.get('sess:s3')).toBe(JSON.stringify(someoneElse));
  });

  it('a kept lock leaves the rest of the JSON byte for byte (no re-encoding: empty arrays, long numbers)', async () => {
    const store = createSessionStore({ redis: client, ttlSec: 3600 });
    await store.set('s6', session({ locked: { reason: 'switch', at: 1764126274123 } }));
    const written = session({ lastSeen: 1764126274999, list: [], big: 12345678901234567, path: 'a/b' });
    await store.set('s6', written);
    const raw = (await client.get('sess:s6'))!;
    expect(raw.startsWith(JSON.stringify(written).slice(0, -1))).toBe(true);
    expect(JSON.parse(raw)).toEqual({ ...JSON.parse(JSON.stringify(written)), locked: { reason: 'switch', at: 1764126274123 } });
  });

  it('a damaged record under the key is replaced, even one that mentions a lock', async () => {
    const store = createSessionStore({ redis: client, ttlSec: 3600 });
    for (const damaged of ['not json', '{"locked": {"reason": "tapout"', '"locked":']) {
      await client.set('sess:s4', damaged);
      await store.set('s4', session());
      expect(await stored('s4')).toMatchObject({ passport: { user } });
      expect(await stored('s4')).not.toHaveProperty('locked');
    }
  });

  it('an ended session stays ended: a request still in flight cannot write it back', async () => {
    const store = createSessionStore({ redis: client, ttlSec: 3600 });
    await store.set('s7', session());
    const loaded = (await store.get('s7')) as SessionData; // a request in flight
    await store.destroy('s7'); // logout, or a failed unlock, on another request
    await store.set('s7', { ...loaded, lastSeen: 3 } as SessionData);
    expect(await client.get('sess:s7')).toBeNull();
    expect(await client.ttl('sessended:s7')).toBeGreaterThan(3590); // marked for the session lifetime

    await store.set('s8', session());
    await createSessionSweep({ redis: client, sessionMaxSec: 3600 }).end({ cardUid: user.cardUid }); // a revocation
    await store.set('s8', session({ lastSeen: 4 }));
    expect(await client.get('sess:s8')).toBeNull();

    await store.set('s9', session()); // other sessions are untouched
    expect(await stored('s9')).toMatchObject({ passport: { user } });
  });

  it('a session object saved again unchanged (a login: Passport saves it, then express-session) is written once', async () => {
    const store = createSessionStore({ redis: client, ttlSec: 3600 });
    const s = session({ lastSeen: 1 }) as SessionData & { lastSeen: number };
    await store.set('s10', s);
    await client.del('sess:s10'); // shows whether the next save writes
    await store.set('s10', s);
    expect(await client.get('sess:s10')).toBeNull();

    s.lastSeen = 2; // changed since: written
    await store.set('s10', s);
    expect(await stored('s10')).toMatchObject({ lastSeen: 2 });
    await store.set('s11', s); // under another id: written
    expect(await stored('s11')).toMatchObject({ lastSeen: 2 });
  });

  it('with Redis unreachable the write rejects, typed unavailable (express-session answers 503)', async () => {
    const down = await unreachableRedis();
    try {
      expect(await codeOf(createSessionStore({ redis: down, ttlSec: 3600 }).set('s5', session()))).toBe('unavailable');
    } finally {
      down.disconnect();
    }
  });
});
