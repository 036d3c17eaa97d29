import type Redis from 'ioredis';
import { createSessionSweep } from '../../src/store/session-sweep';
import { suiteRedis } from '../helpers/redis';
import { codeOf, unreachableRedis } from './support';

describe('session sweep', () => {
  const redis = suiteRedis();
  let client: Redis;
  beforeEach(() => {
    client = redis();
  });

  /** A session as connect-redis stores it, logged in with this card at this agent. */
  const loggedIn = (sid: string, login: string, cardUid: string, agentId: string) =>
    client.set(`sess:${sid}`, JSON.stringify({ cookie: {}, passport: { user: { accountId: `acc_${login}`, login, cardUid, agentId } } }), 'EX', 600);

  it('ends every session opened with the card, on whatever agent, and nothing else', async () => {
    await loggedIn('s1', 'ivanova', '04A1A1A1A1A1A1', 'ag_1');
    await loggedIn('s2', 'ivanova', '04A1A1A1A1A1A1', 'ag_2');
    await loggedIn('s3', 'ivanova', '04B2B2B2B2B2B2', 'ag_1');
    await loggedIn('s4', 'petrov', '04C3C3C3C3C3C3', 'ag_1');
    await client.set('sess:pre', JSON.stringify({ cookie: {}, preauthAt: 1 }));
    await client.set('sess:junk', 'not json');
    await client.set('acct:x', JSON.stringify({ passport: { user: { accountId: 'a', login: 'x', cardUid: '04A1A1A1A1A1A1' } } }));

    const ended = await createSessionSweep({ redis: client, sessionMaxSec: 3600 }).end({ cardUid: '04A1A1A1A1A1A1' });

    expect(ended.sort((a, b) => a.sessionId.localeCompare(b.sessionId))).toEqual([
      { sessionId: 's1', accountId: 'acc_ivanova', login: 'ivanova' },
      { sessionId: 's2', accountId: 'acc_ivanova', login: 'ivanova' },
    ]);
    expect((await client.keys('*')).sort()).toEqual(['acct:x', 'sess:junk', 'sess:pre', 'sess:s3', 'sess:s4', 'sessended:s1', 'sessended:s2']); // ended, and marked so
  });

  it('ends every session opened through the agent', async () => {
    await loggedIn('s1', 'ivanova', '04A1A1A1A1A1A1', 'ag_1');
    await loggedIn('s2', 'petrov', '04C3C3C3C3C3C3', 'ag_1');
    await loggedIn('s3', 'ivanova', '04A1A1A1A1A1A1', 'ag_2');
    const ended = await createSessionSweep({ redis: client, sessionMaxSec: 3600 }).end({ agentId: 'ag_1' });
    expect(ended.map((e) => e.sessionId).sort()).toEqual(['s1', 's2']);
    expect(await client.keys('sess:*')).toEqual(['sess:s3']);
  });

  it('finds sessions across many SCAN pages', async () => {
    for (let i = 0; i < 1200; i++) await client.set(`sess:other${i}`, JSON.stringify({ passport: { user: { accountId: 'a', login: 'x', cardUid: '04D4D4D4D4D4D4', agentId: 'ag_9' } } }));
    for (let i = 0; i < 3; i++) await loggedIn(`hit${i}`, 'ivanova', '04A1A1A1A1A1A1', 'ag_1');
    expect(await createSessionSweep({ redis: client, sessionMaxSec: 3600 }).end({ cardUid: '04A1A1A1A1A1A1' })).toHaveLength(3);
  });

  it('Redis down: unavailable, not an empty answer', async () => {
    const down = await unreachableRedis();
    try {
      expect(await codeOf(createSessionSweep({ redis: down, sessionMaxSec: 3600 }).end({ cardUid: '04A1A1A1A1A1A1' }))).toBe('unavailable');
    } finally {
      down.disconnect();
    }
  });
});
