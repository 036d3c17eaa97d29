import type Redis from 'ioredis';
import { createSessionLocks, UNRECORDED_TTL_SEC } from '../../src/store/session-locks';
import { suiteRedis } from '../helpers/redis';
import { codeOf, unreachableRedis } from './support';

// Session locks on a real Redis, against session JSON as connect-redis writes it.
describe('session locks', () => {
  const redis = suiteRedis();
  let client: Redis;
  beforeEach(() => {
    client = redis();
  });
  const UID = '04A1A1A1A1A1A1';
  const json = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ cookie: { originalMaxAge: 600_000 }, passport: { user: { accountId: 'acc_1', login: 'ivanova', roles: [], big: 12345678901234567 } }, ...extra });
  const open = async (sid: string, extra: Record<string, unknown> = {}) => {
    await client.set(`sess:${sid}`, json(extra), 'EX', 600);
    await createSessionLocks({ redis: client }).bind(sid, 'ag_1', UID, 600);
  };

  it('locks the card\'s sessions in place: the lock is added, the rest of the JSON and the TTL stay as they were', async () => {
    await open('s1');
    await open('s2', { locked: { reason: 'idle', at: 5 } }); // already locked: left alone
    await client.set('sess:pre', JSON.stringify({ cookie: {}, preauthAt: 1 }));
    await createSessionLocks({ redis: client }).bind('pre', 'ag_1', UID, 600);
    const { locked, unrecorded } = await createSessionLocks({ redis: client }).lockCard('ag_1', UID, { reason: 'tapout', at: 1764126274123 });
    expect(locked).toEqual(['s1']);
    expect(unrecorded).toEqual([{ sessionId: 's1', reason: 'tapout', at: 1764126274123 }]);
    const raw = (await client.get('sess:s1'))!;
    expect(raw.startsWith(`${json().slice(0, -1)},"locked":`)).toBe(true); // [] and the long number untouched
    expect(JSON.parse(raw)).toEqual({ ...JSON.parse(json()), locked: { reason: 'tapout', at: 1764126274123 } });
    expect(await client.ttl('sess:s1')).toBeGreaterThan(590);
    expect(JSON.parse((await client.get('sess:s2'))!)).toMatchObject({ locked: { reason: 'idle', at: 5 } });
    expect(JSON.parse((await client.get('sess:pre'))!)).not.toHaveProperty('locked');
  });

  it('a lock stays noted until recorded: a later call answers it again with its own time, then not after recorded()', async () => {
    const locks = createSessionLocks({ redis: client });
    await open('s1');
    await locks.lockCard('ag_1', UID, { reason: 'tapout', at: 1000 });
    const ttl = await client.ttl(`sesslocks-unrecorded:ag_1:${UID}`);
    expect(ttl).toBeGreaterThan(UNRECORDED_TTL_SEC - 10);
    await open('s3');
    const second = await locks.lockCard('ag_1', UID, { reason: 'switch', at: 2000 });
    expect(second.locked).toEqual(['s3']);
    expect(second.unrecorded).toEqual([
      { sessionId: 's1', reason: 'tapout', at: 1000 },
      { sessionId: 's3', reason: 'switch', at: 2000 },
    ]);
    await locks.recorded('ag_1', UID, 's1');
    await locks.recorded('ag_1', UID, 's3');
    expect(await locks.lockCard('ag_1', UID, { reason: 'tapout', at: 3000 })).toEqual({ locked: [], unrecorded: [] });
  });

  it('an indexed session that was never saved (its login failed at the audit) locks nothing and leaves the index at the next tap-out', async () => {
    const locks = createSessionLocks({ redis: client });
    await locks.bind('never-saved', 'ag_1', UID, 600);
    expect(await locks.lockCard('ag_1', UID, { reason: 'tapout', at: 1000 })).toEqual({ locked: [], unrecorded: [] });
    expect(await client.smembers(`sessidx:ag_1:${UID}`)).toEqual([]);
  });

  it('Redis unreachable: unavailable', async () => {
    const down = await unreachableRedis();
    try {
      expect(await codeOf(createSessionLocks({ redis: down }).lockCard('ag_1', UID, { reason: 'tapout', at: 1 }))).toBe('unavailable');
    } finally {
      down.disconnect();
    }
  });
});
