import type Redis from 'ioredis';
import { startRedis, type TestRedis } from '../helpers/redis';
import { createAccountStore, type AccountStore } from '../../src/store/accounts';
import { createEnrollmentStore, type EnrollmentStore } from '../../src/store/card-enrollments';
import { createCardStore, type CardStore } from '../../src/store/cards';
import { codeOf, frozenClock, outcomes, PHC } from './support';

describe('pending enrollment store', () => {
  let redis: TestRedis;
  let node1: Redis;
  let node2: Redis;
  const clock = frozenClock();
  let accounts: AccountStore;
  let cards: CardStore;
  let pending: EnrollmentStore;
  let pending2: EnrollmentStore;
  let n = 0;
  const at = { agentId: 'ag_0123456789abcdef', workstation: 'РМ-1', reader: 'ACR122U' };

  beforeAll(async () => {
    redis = await startRedis();
    node1 = redis.client();
    node2 = redis.client();
    accounts = createAccountStore({ redis: node1, clock });
    cards = createCardStore({ redis: node1, clock, maxActivePerAccount: 1 });
    pending = createEnrollmentStore({ redis: node1, clock, pendingDays: 7, maxActivePerAccount: 1 });
    pending2 = createEnrollmentStore({ redis: node2, clock, pendingDays: 7, maxActivePerAccount: 1 });
  });
  afterAll(() => redis.stop());
  beforeEach(() => node1.flushall());

  const account = async () => (await accounts.create({ login: `vrach${++n}`, displayName: 'Врач', roles: ['clinician'], passwordHash: PHC })).id;
  const uid = () => `04${(++n).toString(16).toUpperCase().padStart(12, '0')}`;

  it('request.fail: a card with any binding (active or revoked), an account with an active card, an unknown account', async () => {
    const [acc, holder] = [await account(), await account()];
    const bound = uid();
    await cards.bind({ uid: bound, accountId: holder, by: 'os:t' });
    expect(await pending.request({ uid: bound, accountId: acc, ...at })).toEqual({ refused: 'card_bound' });
    await cards.revoke({ uid: bound, reason: 'lost', by: 'os:t' });
    expect(await pending.request({ uid: bound, accountId: acc, ...at })).toEqual({ refused: 'card_bound' });
    const other = await account();
    await cards.bind({ uid: uid(), accountId: other, by: 'os:t' });
    expect(await pending.request({ uid: uid(), accountId: other, ...at })).toEqual({ refused: 'has_card' });
    expect(await pending.request({ uid: uid(), accountId: 'acc_0000000000000000', ...at })).toEqual({ refused: 'account_not_found' });
    expect(await pending.list()).toEqual([]);
  });

  it("request.success: an account's new request replaces its earlier one, whose card is free again", async () => {
    const acc = await account();
    const [first, second] = [uid(), uid()];
    await pending.request({ uid: first, accountId: acc, ...at });
    await pending.request({ uid: second, accountId: acc, ...at });
    expect((await pending.list()).map((p) => p.uid)).toEqual([second]);
    expect(await pending.get(first)).toBeNull();
    expect('pending' in (await pending.request({ uid: first, accountId: await account(), ...at }))).toBe(true);
  });

  it('request.race: two accounts asking for one card at once on two nodes: one request, the other card_pending', async () => {
    const card = uid();
    const [a, b] = [await account(), await account()];
    const made = await Promise.all([pending.request({ uid: card, accountId: a, ...at }), pending2.request({ uid: card, accountId: b, ...at })]);
    expect(made.filter((m) => 'pending' in m)).toHaveLength(1);
    expect(made.filter((m) => 'refused' in m)).toEqual([{ refused: 'card_pending' }]);
  });

  it('approve.race: approve and reject at once: exactly one wins, the other enrollment_not_found', async () => {
    const card = uid();
    await pending.request({ uid: card, accountId: await account(), ...at });
    const r = await outcomes([pending.approve({ uid: card, by: 'os:t' }), pending2.reject(card)]);
    expect(r).toEqual({ won: 1, codes: ['enrollment_not_found'] });
    expect(await node1.zcard('card:pend')).toBe(0);
  });

  it('approve.fail: card_limit when the account got a card meanwhile; the request stays', async () => {
    const acc = await account();
    const card = uid();
    await pending.request({ uid: card, accountId: acc, ...at });
    await cards.bind({ uid: uid(), accountId: acc, by: 'os:t' });
    expect(await codeOf(pending.approve({ uid: card, by: 'os:t' }))).toBe('card_limit');
    expect(await pending.get(card)).not.toBeNull();
  });

  it('expiry: past pendingDays a request is gone for get, list, approve and reject, by the injected clock', async () => {
    const card = uid();
    await pending.request({ uid: card, accountId: await account(), ...at });
    clock.advance(7 * 86_400_000 - 1);
    expect(await pending.get(card)).not.toBeNull();
    clock.advance(1);
    expect(await pending.get(card)).toBeNull();
    expect(await pending.list()).toEqual([]);
    expect(await codeOf(pending.approve({ uid: card, by: 'os:t' }))).toBe('enrollment_not_found');
    expect(await codeOf(pending.reject(card))).toBe('enrollment_not_found');
  });
});
