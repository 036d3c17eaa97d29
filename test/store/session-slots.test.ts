import type Redis from 'ioredis';
import { defineSessionEnd } from '../../src/store/session-store';
import { createSessionSlots, type TakeSlot } from '../../src/store/session-slots';
import { suiteRedis } from '../helpers/redis';

describe('session slots', () => {
  const redis = suiteRedis();
  let client: Redis;
  beforeEach(() => {
    client = redis();
  });

  const NOW = 1_800_000_000_000;
  const slot = (sessionId: string, over: Partial<TakeSlot> = {}): TakeSlot => ({
    accountId: 'acc_1',
    sessionId,
    replacing: 'pre',
    agentId: 'ag_1',
    uid: '04A1A1A1A1A1A1',
    now: NOW,
    expiresAt: NOW + 3_600_000,
    limit: 1,
    cardIndexTtlSec: 3600,
    ...over,
  });
  /** What connect-redis stores once the login's session is written. */
  const stored = (sid: string, accountId = 'acc_1', extra: Record<string, unknown> = {}) =>
    client.set(`sess:${sid}`, JSON.stringify({ cookie: {}, passport: { user: { accountId, login: 'ivanova', workstation: 'РМ-1', ip: '10.0.0.5', authTime: NOW } }, ...extra }));

  it('atomic: of many takes at once for the last slot, exactly one gets it', async () => {
    const slots = createSessionSlots({ redis: client });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => slots.take(slot(`s${i}`))));
    expect(answers.filter((a) => a.ok)).toHaveLength(1);
  });

  it('full: answers the other live sessions with what the user sees; indexes the new one by card for tap-out', async () => {
    const slots = createSessionSlots({ redis: client });
    expect(await slots.take(slot('s1'))).toEqual({ ok: true });
    expect(await client.smembers('sessidx:ag_1:04A1A1A1A1A1A1')).toEqual(['s1']);
    await stored('s1', 'acc_1', { locked: { reason: 'idle', at: NOW } });
    expect(await slots.take(slot('s2'))).toEqual({ ok: false, live: [expect.objectContaining({ sessionId: 's1', workstation: 'РМ-1', ip: '10.0.0.5', authTime: NOW, locked: { reason: 'idle', at: NOW } })] });
  });

  it('frees the slot of a session that ended, expired (its role lifetime), was given back, or never got written', async () => {
    const slots = createSessionSlots({ redis: client });
    const end = defineSessionEnd(client, 3600);
    expect((await slots.take(slot('ended'))).ok).toBe(true);
    await stored('ended');
    await end(['ended']);
    expect((await slots.take(slot('short', { expiresAt: NOW + 1000 }))).ok).toBe(true);
    await stored('short');
    expect((await slots.take(slot('later', { now: NOW + 1001 }))).ok).toBe(true); // 'short' expired by its lifetime
    await slots.release('acc_1', 'later');
    expect((await slots.take(slot('crashed', { now: NOW + 1001 }))).ok).toBe(true);
    await client.del('sesspending:crashed'); // its login died before writing it: the pending key ran out
    expect((await slots.take(slot('next', { now: NOW + 1001 }))).ok).toBe(true);
  });

  it('does not count the session the login replaces (an unlock), nor another account\'s session under its id', async () => {
    const slots = createSessionSlots({ redis: client });
    expect((await slots.take(slot('locked'))).ok).toBe(true);
    await stored('locked');
    expect((await slots.take(slot('unlocked', { replacing: 'locked' }))).ok).toBe(true);
    await stored('unlocked', 'acc_other');
    expect((await slots.take(slot('third', { replacing: 'x' }))).ok).toBe(false); // 'locked' still counts for others
  });
});
