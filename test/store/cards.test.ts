import type Redis from 'ioredis';
import { startRedis, type TestRedis } from '../helpers/redis';
import { createAccountStore, type AccountStore } from '../../src/store/accounts';
import { createCardStore, REVOKE_REASONS, type CardStore } from '../../src/store/cards';
import { sentCommands } from '../helpers/redis-trips';
import { codeOf, frozenClock, outcomes, PHC, unreachableRedis } from './support';

describe('card store', () => {
  let redis: TestRedis;
  let node1: Redis;
  let node2: Redis;
  const clock = frozenClock();
  let accounts: AccountStore;
  let cards: CardStore;
  let cards2: CardStore;
  let n = 0;
  const officer = 'acc_00000000000000ff';

  beforeAll(async () => {
    redis = await startRedis();
    node1 = redis.client();
    node2 = redis.client();
    accounts = createAccountStore({ redis: node1, clock });
    cards = createCardStore({ redis: node1, clock, maxActivePerAccount: 2 });
    cards2 = createCardStore({ redis: node2, clock, maxActivePerAccount: 2 });
  });
  afterAll(() => redis.stop());
  beforeEach(() => node1.flushall());

  const account = async () => (await accounts.create({ login: `врач${++n}`, displayName: 'Врач', roles: ['clinician'], passwordHash: PHC })).id;
  /** A distinct 7-byte UID for each call. */
  const uid = () => `04${(++n).toString(16).toUpperCase().padStart(12, '0')}`;

  it('bind.success: normalises the UID and stores the binding', async () => {
    const acc = await account();
    const b = await cards.bind({ uid: '04:a2:2b:b2:5c:61:80', accountId: acc, label: 'ЕКП', by: officer });
    expect(b).toEqual({ uid: '04A22BB25C6180', accountId: acc, label: 'ЕКП', status: 'active', boundAt: clock.now(), boundBy: officer });
    expect(await cards2.get('04 A2 2B B2 5C 61 80')).toEqual(b);
    expect(await cards2.listForAccount(acc)).toEqual([b]);
  });

  it('bind.success: the label defaults to empty', async () => {
    const acc = await account();
    expect((await cards.bind({ uid: uid(), accountId: acc, by: officer })).label).toBe('');
  });

  it('bind.fail: uid_random, uid_length and uid_malformed for UIDs that cannot identify a card', async () => {
    const acc = await account();
    expect(await codeOf(cards.bind({ uid: '08123456', accountId: acc, by: officer }))).toBe('uid_random');
    expect(await codeOf(cards.bind({ uid: '0412', accountId: acc, by: officer }))).toBe('uid_length');
    expect(await codeOf(cards.bind({ uid: 'zz112233', accountId: acc, by: officer }))).toBe('uid_malformed');
    expect(await cards.listForAccount(acc)).toEqual([]);
  });

  it('bind.fail: account_not_found for an unknown or malformed account id', async () => {
    const u = uid();
    expect(await codeOf(cards.bind({ uid: u, accountId: 'acc_0000000000000000', by: officer }))).toBe('account_not_found');
    // a crafted id must not name another key (acct:by-login exists once an account does)
    await account();
    expect(await codeOf(cards.bind({ uid: u, accountId: 'by-login', by: officer }))).toBe('account_not_found');
    expect(await cards.get(u)).toBeNull();
  });

  it('bind.fail: card_bound when the UID is active on this or another account', async () => {
    const [a, b] = [await account(), await account()];
    const u = uid();
    await cards.bind({ uid: u, accountId: a, by: officer });
    expect(await codeOf(cards.bind({ uid: u, accountId: a, by: officer }))).toBe('card_bound');
    expect(await codeOf(cards2.bind({ uid: u, accountId: b, by: officer }))).toBe('card_bound');
    expect(await codeOf(cards2.bind({ uid: u, accountId: b, by: officer, reissueReason: 'found' }))).toBe('card_bound');
    expect((await cards.get(u))?.accountId).toBe(a);
    expect(await cards.listForAccount(b)).toEqual([]);
  });

  it('bind.fail: card_limit at maxActivePerAccount; a revoked card frees a place', async () => {
    const a = await account();
    const [u1, u2, u3] = [uid(), uid(), uid()];
    await cards.bind({ uid: u1, accountId: a, by: officer });
    await cards.bind({ uid: u2, accountId: a, by: officer });
    expect(await codeOf(cards.bind({ uid: u3, accountId: a, by: officer }))).toBe('card_limit');
    expect(await cards.get(u3)).toBeNull();
    await cards.revoke({ uid: u1, reason: 'lost', by: officer });
    await cards.bind({ uid: u3, accountId: a, by: officer });
    expect((await cards.activeForAccount(a)).map((c) => c.uid)).toEqual([u2, u3]);
  });

  it('bind.fail: card_revoked for a revoked UID without a reissue reason', async () => {
    const [a, b] = [await account(), await account()];
    const u = uid();
    await cards.bind({ uid: u, accountId: a, by: officer });
    await cards.revoke({ uid: u, reason: 'stolen', by: officer });
    expect(await codeOf(cards.bind({ uid: u, accountId: a, by: officer }))).toBe('card_revoked');
    expect(await codeOf(cards2.bind({ uid: u, accountId: b, by: officer }))).toBe('card_revoked');
    expect(await codeOf(cards2.bind({ uid: u, accountId: b, by: officer, reissueReason: '  ' }))).toBe('bad_request');
    expect((await cards.get(u))?.status).toBe('revoked');
  });

  it('bind.fail: bad_request for a bad label or actor', async () => {
    const a = await account();
    expect(await codeOf(cards.bind({ uid: uid(), accountId: a, by: officer, label: 'x'.repeat(65) }))).toBe('bad_request');
    expect(await codeOf(cards.bind({ uid: uid(), accountId: a, by: officer, label: 'a\u0000b' }))).toBe('bad_request');
    expect(await codeOf(cards.bind({ uid: uid(), accountId: a, by: '' }))).toBe('bad_request');
    expect(await cards.listForAccount(a)).toEqual([]);
  });

  it('reissue.success: a revoked UID with a reason moves to another account', async () => {
    const [a, b] = [await account(), await account()];
    const u = uid();
    await cards.bind({ uid: u, accountId: a, by: officer });
    clock.advance(1000);
    await cards.revoke({ uid: u, reason: 'left', by: officer });
    clock.advance(1000);
    const r = await cards2.bind({ uid: u, accountId: b, label: 'ЕКП', by: 'acc_1111111111111111', reissueReason: 'карта передана новому сотруднику' });
    expect(r).toEqual({
      uid: u, accountId: b, label: 'ЕКП', status: 'active', boundAt: clock.now(), boundBy: 'acc_1111111111111111',
      reissueReason: 'карта передана новому сотруднику',
    });
    expect(await cards.get(u)).toEqual(r);
    expect(await cards.listForAccount(a)).toEqual([]);
    expect(await cards.listForAccount(b)).toEqual([r]);
  });

  it('reissue.success: a revoked UID with a reason returns to the same account', async () => {
    const a = await account();
    const u = uid();
    await cards.bind({ uid: u, accountId: a, by: officer });
    await cards.revoke({ uid: u, reason: 'lost', by: officer });
    const r = await cards.bind({ uid: u, accountId: a, by: officer, reissueReason: 'карта нашлась' });
    expect(r.status).toBe('active');
    expect(r.revokedAt).toBeUndefined();
    expect(await cards.listForAccount(a)).toEqual([r]);
  });

  it('reissue.fail: card_limit still applies to a re-issued UID', async () => {
    const [a, b] = [await account(), await account()];
    const u = uid();
    await cards.bind({ uid: u, accountId: a, by: officer });
    await cards.revoke({ uid: u, reason: 'replaced', by: officer });
    await cards.bind({ uid: uid(), accountId: b, by: officer });
    await cards.bind({ uid: uid(), accountId: b, by: officer });
    expect(await codeOf(cards.bind({ uid: u, accountId: b, by: officer, reissueReason: 'x' }))).toBe('card_limit');
    expect((await cards.get(u))?.accountId).toBe(a);
    expect((await cards.listForAccount(a)).map((c) => c.status)).toEqual(['revoked']);
  });

  it('revoke.success: marks the card revoked with who, when and why; it stays listed', async () => {
    const a = await account();
    const u = uid();
    const bound = await cards.bind({ uid: u, accountId: a, by: officer });
    clock.advance(5000);
    const r = await cards2.revoke({ uid: u.toLowerCase(), reason: 'lost', by: 'acc_2222222222222222' });
    expect(r).toEqual({ ...bound, status: 'revoked', revokedAt: clock.now(), revokedBy: 'acc_2222222222222222', revokeReason: 'lost' });
    expect(await cards.listForAccount(a)).toEqual([r]);
    expect(await cards.activeForAccount(a)).toEqual([]);
  });

  it('revoke.fail: card_not_found for a UID never bound or already revoked', async () => {
    const a = await account();
    const u = uid();
    expect(await codeOf(cards.revoke({ uid: u, reason: 'lost', by: officer }))).toBe('card_not_found');
    await cards.bind({ uid: u, accountId: a, by: officer });
    await cards.revoke({ uid: u, reason: 'lost', by: officer });
    expect(await codeOf(cards.revoke({ uid: u, reason: 'stolen', by: officer }))).toBe('card_not_found');
    expect((await cards.get(u))?.revokeReason).toBe('lost');
  });

  it('revoke.fail: bad_request for an unknown reason; uid_* for a bad UID', async () => {
    const a = await account();
    const u = uid();
    await cards.bind({ uid: u, accountId: a, by: officer });
    expect(await codeOf(cards.revoke({ uid: u, reason: 'bored' as never, by: officer }))).toBe('bad_request');
    expect(await codeOf(cards.revoke({ uid: '08AABBCC', reason: 'lost', by: officer }))).toBe('uid_random');
    expect((await cards.get(u))?.status).toBe('active');
  });

  it('get.fail: null for a UID never bound; uid_malformed for garbage', async () => {
    expect(await cards.get(uid())).toBeNull();
    expect(await codeOf(cards.get('not a uid'))).toBe('uid_malformed');
  });

  it('listForAccount: empty for an unknown or malformed account', async () => {
    expect(await cards.listForAccount('acc_0000000000000000')).toEqual([]);
    expect(await cards.activeForAccount('../etc')).toEqual([]);
  });

  it('bind.race: two nodes binding one UID to different accounts, exactly one wins (20 runs)', async () => {
    for (let i = 0; i < 20; i++) {
      const [a, b] = [await account(), await account()];
      const u = uid();
      const r = await outcomes([cards.bind({ uid: u, accountId: a, by: officer }), cards2.bind({ uid: u, accountId: b, by: officer })]);
      expect(r).toEqual({ won: 1, codes: ['card_bound'] });
      const owner = (await cards.get(u))?.accountId;
      const lists = [...(await cards.listForAccount(a)), ...(await cards.listForAccount(b))];
      expect(lists.map((c) => [c.uid, c.accountId])).toEqual([[u, owner]]);
    }
  });

  it('bind.race: two nodes binding a 2nd and 3rd card at the limit, exactly one wins (20 runs)', async () => {
    for (let i = 0; i < 20; i++) {
      const a = await account();
      await cards.bind({ uid: uid(), accountId: a, by: officer });
      const r = await outcomes([cards.bind({ uid: uid(), accountId: a, by: officer }), cards2.bind({ uid: uid(), accountId: a, by: officer })]);
      expect(r).toEqual({ won: 1, codes: ['card_limit'] });
      expect(await cards.activeForAccount(a)).toHaveLength(2);
    }
  });

  it('bind.race: many concurrent binds to one account stop at the limit', async () => {
    const a = await account();
    const r = await outcomes(Array.from({ length: 10 }, (_, i) => (i % 2 ? cards : cards2).bind({ uid: uid(), accountId: a, by: officer })));
    expect(r.won).toBe(2);
    expect(r.codes).toEqual(Array(8).fill('card_limit'));
    expect(await cards.activeForAccount(a)).toHaveLength(2);
  });

  it('reissue.race: two nodes re-issuing one revoked UID to different accounts, exactly one wins (20 runs)', async () => {
    for (let i = 0; i < 20; i++) {
      const [a, b, c] = [await account(), await account(), await account()];
      const u = uid();
      await cards.bind({ uid: u, accountId: a, by: officer });
      await cards.revoke({ uid: u, reason: 'left', by: officer });
      const r = await outcomes([
        cards.bind({ uid: u, accountId: b, by: officer, reissueReason: 'new staff' }),
        cards2.bind({ uid: u, accountId: c, by: officer, reissueReason: 'new staff' }),
      ]);
      expect(r).toEqual({ won: 1, codes: ['card_bound'] });
      const owner = (await cards.get(u))?.accountId;
      expect([b, c]).toContain(owner);
      const all = [...(await cards.listForAccount(a)), ...(await cards.listForAccount(b)), ...(await cards.listForAccount(c))];
      expect(all.map((x) => x.accountId)).toEqual([owner]);
    }
  });

  it('revoke.race: two officers revoking one card, exactly one wins (20 runs)', async () => {
    for (let i = 0; i < 20; i++) {
      const a = await account();
      const u = uid();
      await cards.bind({ uid: u, accountId: a, by: officer });
      const r = await outcomes([cards.revoke({ uid: u, reason: 'lost', by: officer }), cards2.revoke({ uid: u, reason: 'stolen', by: officer })]);
      expect(r).toEqual({ won: 1, codes: ['card_not_found'] });
    }
  });

  it('expiry: a binding with expiresAt is active until then and expired from then on (read on any node); revoke still works', async () => {
    const acc = await account();
    const u = uid();
    const expiresAt = clock.now() + 60_000;
    expect(await cards.bind({ uid: u, accountId: acc, by: officer, expiresAt })).toMatchObject({ status: 'active', expiresAt });
    clock.advance(59_999);
    expect(await cards2.get(u)).toMatchObject({ status: 'active' });
    clock.advance(1);
    expect(await cards2.get(u)).toMatchObject({ status: 'expired', expiresAt });
    expect(await cards.activeForAccount(acc)).toEqual([]);
    // Still bound: it counts for the limit and cannot be bound again, only revoked or replaced.
    expect(await codeOf(cards.bind({ uid: u, accountId: acc, by: officer }))).toBe('card_bound');
    expect(await cards.revoke({ uid: u, reason: 'other', by: officer })).toMatchObject({ status: 'revoked' });
  });

  it('expiry.fail: bad_request for an expiry that is not in the future', async () => {
    const acc = await account();
    for (const expiresAt of [clock.now(), clock.now() - 1, Number.NaN, 1.5]) {
      expect(await codeOf(cards.bind({ uid: uid(), accountId: acc, by: officer, expiresAt }))).toBe('bad_request');
    }
    expect(await cards.listForAccount(acc)).toEqual([]);
  });

  it('replace.success: the old card revoked (replaced) and the new one bound to the same account, at the card limit', async () => {
    const acc = await account();
    const [a, b, c] = [uid(), uid(), uid()];
    await cards.bind({ uid: a, accountId: acc, by: officer });
    await cards.bind({ uid: b, accountId: acc, by: officer });
    const expiresAt = clock.now() + 86_400_000;
    const r = await cards2.replace({ oldUid: a, uid: c, label: 'новая', by: officer, expiresAt });
    expect(r.old).toMatchObject({ uid: a, status: 'revoked', revokeReason: 'replaced', revokedBy: officer, replacedBy: c });
    expect(r.binding).toMatchObject({ uid: c, accountId: acc, status: 'active', label: 'новая', replaces: a, expiresAt });
    expect((await cards.listForAccount(acc)).map((x) => [x.uid, x.status])).toEqual([[a, 'revoked'], [b, 'active'], [c, 'active']]);
  });

  it('replace.success: an expired card is replaced; a revoked new card needs a reissue reason and moves from its old account', async () => {
    const [acc, other] = [await account(), await account()];
    const [a, n] = [uid(), uid()];
    await cards.bind({ uid: a, accountId: acc, by: officer, expiresAt: clock.now() + 1000 });
    await cards.bind({ uid: n, accountId: other, by: officer });
    await cards.revoke({ uid: n, reason: 'left', by: officer });
    clock.advance(1000);
    expect(await codeOf(cards.replace({ oldUid: a, uid: n, by: officer }))).toBe('card_revoked');
    const r = await cards.replace({ oldUid: a, uid: n, by: officer, reissueReason: 'передана' });
    expect(r.binding).toMatchObject({ uid: n, accountId: acc, status: 'active', reissueReason: 'передана' });
    expect(await cards.listForAccount(other)).toEqual([]);
  });

  it('replace.fail: card_not_found for an old card never bound or revoked, card_bound for a new card bound anywhere, bad_request for the same card; nothing changes', async () => {
    const [acc, other] = [await account(), await account()];
    const [a, b, gone] = [uid(), uid(), uid()];
    await cards.bind({ uid: a, accountId: acc, by: officer });
    await cards.bind({ uid: b, accountId: other, by: officer });
    await cards.bind({ uid: gone, accountId: acc, by: officer });
    await cards.revoke({ uid: gone, reason: 'lost', by: officer });
    const before = [await cards.listForAccount(acc), await cards.listForAccount(other)];
    expect(await codeOf(cards.replace({ oldUid: uid(), uid: uid(), by: officer }))).toBe('card_not_found');
    expect(await codeOf(cards.replace({ oldUid: gone, uid: uid(), by: officer }))).toBe('card_not_found');
    expect(await codeOf(cards.replace({ oldUid: a, uid: b, by: officer }))).toBe('card_bound');
    expect(await codeOf(cards.replace({ oldUid: a, uid: a, by: officer }))).toBe('bad_request');
    expect(await codeOf(cards.replace({ oldUid: a, uid: uid(), by: officer, expiresAt: clock.now() }))).toBe('bad_request');
    expect([await cards.listForAccount(acc), await cards.listForAccount(other)]).toEqual(before);
  });

  it('replace.race: replace against a bind of the new card elsewhere, and two replaces of one old card: never both or neither active (20 runs)', async () => {
    for (let i = 0; i < 20; i++) {
      const [acc, other] = [await account(), await account()];
      const [old, fresh, fresh2] = [uid(), uid(), uid()];
      await cards.bind({ uid: old, accountId: acc, by: officer });
      const r = await outcomes([cards.replace({ oldUid: old, uid: fresh, by: officer }), cards2.bind({ uid: fresh, accountId: other, by: officer })]);
      expect(r.won).toBe(1);
      const [o, f] = [await cards.get(old), await cards.get(fresh)];
      // Either the replace won (old revoked, new on acc) or the bind did (old still active, new on other).
      if (f?.accountId === acc) expect(o?.status).toBe('revoked');
      else expect([o?.status, f?.accountId]).toEqual(['active', other]);

      const current = o?.status === 'active' ? old : fresh;
      const two = await outcomes([cards.replace({ oldUid: current, uid: fresh2, by: officer }), cards2.replace({ oldUid: current, uid: uid(), by: officer })]);
      expect(two).toEqual({ won: 1, codes: ['card_not_found'] });
      expect(await cards.activeForAccount(acc)).toHaveLength(1);
    }
  });

  describe('list: the index kept by every write script', () => {
    const named = async (login: string) => (await accounts.create({ login, displayName: 'Врач', roles: ['clinician'], passwordHash: PHC })).id;
    const all = async (q: Omit<Parameters<CardStore['list']>[0], 'limit'> & { limit?: number }) => {
      const out: Array<[string, string]> = [];
      let cursor: string | undefined;
      do {
        const page = await cards2.list({ limit: 2, ...q, ...(cursor ? { cursor } : {}) });
        out.push(...page.cards.map((c): [string, string] => [c.uid, c.status]));
        cursor = page.cursor ?? undefined;
      } while (cursor);
      return out;
    };

    it('pages every card by login then UID, filtered by a login prefix (folded, Cyrillic too) and by status as read now', async () => {
      const [iv, ivs, pe] = [await named('Иванова'), await named('ИВАНОВ-С'), await named('petrov')];
      await cards.bind({ uid: '04000000000003', accountId: iv, by: officer });
      await cards.bind({ uid: '04000000000001', accountId: iv, by: officer, expiresAt: clock.now() + 1000 });
      await cards.bind({ uid: '04000000000002', accountId: ivs, by: officer });
      await cards.bind({ uid: '04000000000004', accountId: pe, by: officer });
      await cards.revoke({ uid: '04000000000002', reason: 'lost', by: officer });
      clock.advance(1000);
      // By bytes: Latin before Cyrillic, and ivanov-s before ivanova ('-' < 'а').
      expect(await all({})).toEqual([['04000000000004', 'active'], ['04000000000002', 'revoked'], ['04000000000001', 'expired'], ['04000000000003', 'active']]);
      expect(await all({ login: 'ИВАН' })).toEqual([['04000000000002', 'revoked'], ['04000000000001', 'expired'], ['04000000000003', 'active']]);
      expect(await all({ login: 'иванова' })).toEqual([['04000000000001', 'expired'], ['04000000000003', 'active']]);
      expect(await all({ login: 'иванова', status: 'active' })).toEqual([['04000000000003', 'active']]);
      expect(await all({ status: 'revoked' })).toEqual([['04000000000002', 'revoked']]);
      expect(await all({ status: 'expired' })).toEqual([['04000000000001', 'expired']]);
      expect(await all({ login: 'nobody' })).toEqual([]);
      expect((await cards.list({ limit: 4 })).cursor).toBeNull();
      expect(await codeOf(cards.list({ limit: 2, cursor: 'bm90LWEtY3Vyc29y' }))).toBe('bad_request');
    });

    it('a re-issue moves the card to its new owner, a replace and an import are listed, and the revoked index follows', async () => {
      const [a, b] = [await named('aaa'), await named('bbb')];
      await cards.bind({ uid: '04000000000011', accountId: a, by: officer });
      await cards.revoke({ uid: '04000000000011', reason: 'left', by: officer });
      expect(await all({ status: 'revoked' })).toEqual([['04000000000011', 'revoked']]);
      await cards.bind({ uid: '04000000000011', accountId: b, by: officer, reissueReason: 'передана' });
      expect(await all({ login: 'aaa' })).toEqual([]);
      expect(await all({ login: 'bbb' })).toEqual([['04000000000011', 'active']]);
      expect(await all({ status: 'revoked' })).toEqual([]);
      await cards.replace({ oldUid: '04000000000011', uid: '04000000000012', by: officer });
      await cards.bindMany([{ uid: '04000000000013' as never, accountId: a, label: '' }], { by: officer, commit: true });
      expect(await all({})).toEqual([['04000000000013', 'active'], ['04000000000011', 'revoked'], ['04000000000012', 'active']]);
      expect(await all({ status: 'revoked' })).toEqual([['04000000000011', 'revoked']]);
      expect(await node1.zcard('card:ix')).toBe(3);
    });

    it('indexExisting: cards bound before the index existed (an upgrade) are put into it once, then it is marked and does nothing', async () => {
      const [a, b] = [await named('old-a'), await named('old-b')];
      await cards.bind({ uid: '04000000000021', accountId: a, by: officer });
      await cards.bind({ uid: '04000000000022', accountId: b, by: officer });
      await cards.revoke({ uid: '04000000000022', reason: 'left', by: officer });
      await node1.del('card:ix', 'card:ix:revoked'); // as a server before the index left them
      expect(await all({})).toEqual([]);
      expect(await cards2.indexExisting()).toBe(2);
      expect(await all({})).toEqual([['04000000000021', 'active'], ['04000000000022', 'revoked']]);
      expect(await all({ status: 'revoked' })).toEqual([['04000000000022', 'revoked']]);
      expect(await node1.zcard('card:ix')).toBe(2);
      await node1.del('card:ix');
      expect(await cards.indexExisting()).toBe(0); // marked: once only
    });

    it('stays a page at a time with 40,000 cards: a page reads about its own entries, not every card', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 1000; i++) ids.push(await named(`врач-${String(i).padStart(4, '0')}`));
      const many = createCardStore({ redis: node1, clock, maxActivePerAccount: 100 });
      for (let k = 0; k < 40; k++) {
        const batch = ids.map((accountId, i) => ({ uid: `04${(k * 1000 + i + 1).toString(16).toUpperCase().padStart(12, '0')}` as never, accountId, label: '' }));
        await many.bindMany(batch, { by: officer, commit: true });
      }
      expect(await node1.zcard('card:ix')).toBe(40_000);
      let page: Awaited<ReturnType<CardStore['list']>> | undefined;
      const sent = await sentCommands(node2, async () => {
        page = await cards2.list({ limit: 50, login: 'врач-0123' });
      });
      expect(page!.cards).toHaveLength(40);
      expect(page!.cards.every((c) => c.accountId === ids[123])).toBe(true);
      expect(page!.cursor).toBeNull();
      expect(sent.names.filter((n) => n === 'hgetall')).toHaveLength(40);
      const first = await cards2.list({ limit: 50 });
      expect([first.cards.length, first.cursor === null]).toEqual([50, false]);
      const second = await cards2.list({ limit: 50, cursor: first.cursor! });
      expect(second.cards[0]!.uid).not.toBe(first.cards[49]!.uid);
    });
  });

  it('error: unavailable when Redis cannot be reached', async () => {
    const dead = await unreachableRedis();
    const store = createCardStore({ redis: dead, clock, maxActivePerAccount: 2 });
    expect(await codeOf(store.bind({ uid: uid(), accountId: 'acc_0000000000000000', by: officer }))).toBe('unavailable');
    expect(await codeOf(store.revoke({ uid: uid(), reason: 'lost', by: officer }))).toBe('unavailable');
    expect(await codeOf(store.get(uid()))).toBe('unavailable');
    expect(await codeOf(store.listForAccount('acc_0000000000000000'))).toBe('unavailable');
    dead.disconnect();
  });

  it('construction: TypeError for a missing or non-positive card limit', () => {
    expect(() => createCardStore({ redis: node1, clock, maxActivePerAccount: 0 })).toThrow(TypeError);
    expect(() => createCardStore({ redis: node1, clock, maxActivePerAccount: 1.5 })).toThrow(TypeError);
    expect(() => createCardStore({ redis: node1, clock } as never)).toThrow(TypeError);
  });

  it('exports every revoke reason', () => {
    expect(REVOKE_REASONS).toEqual(['lost', 'stolen', 'replaced', 'left', 'other']);
  });
});
