import type Redis from 'ioredis';
import { startRedis, type TestRedis } from '../helpers/redis';
import { createAccountStore, normaliseLogin, ROLES, type AccountStore } from '../../src/store/accounts';
import { codeOf, frozenClock, outcomes, PHC, unreachableRedis } from './support';

const codeOfSync = (f: () => unknown) => codeOf(Promise.resolve().then(f));

describe('normaliseLogin', () => {
  it('folds case, width and compatibility forms onto one key', () => {
    expect(normaliseLogin('Иванов')).toBe('иванов');
    expect(normaliseLogin('  ИВАНОВ ')).toBe('иванов');
    expect(normaliseLogin('Ｐｅｔｒｏｖ')).toBe('petrov'); // fullwidth
    expect(normaliseLogin('ｉｖａｎｏｖ')).toBe('ivanov');
    expect(normaliseLogin('Straße')).toBe(normaliseLogin('STRASSE'));
    expect(normaliseLogin('ﬁlatov')).toBe('filatov'); // ligature
    expect(normaliseLogin('Ё.Сидоров')).toBe('ё.сидоров');
  });
  it('accepts 64 characters and refuses 65 with bad_request', async () => {
    expect(normaliseLogin('я'.repeat(64))).toBe('я'.repeat(64));
    expect(await codeOfSync(() => normaliseLogin('я'.repeat(65)))).toBe('bad_request');
    expect(await codeOfSync(() => normaliseLogin('a'.repeat(10_000)))).toBe('bad_request');
  });
  it('refuses empty, control and invisible characters with bad_request', async () => {
    for (const bad of ['', '   ', 'ivan\u0000ov', 'ivan\nov', 'iva\u200bnov', 'ivan\u202eov', 42 as unknown as string]) {
      expect(await codeOfSync(() => normaliseLogin(bad))).toBe('bad_request');
    }
  });
});

describe('account store', () => {
  let redis: TestRedis;
  let node1: Redis;
  let node2: Redis;
  const clock = frozenClock();
  let accounts: AccountStore;
  let accounts2: AccountStore;

  beforeAll(async () => {
    redis = await startRedis();
    node1 = redis.client();
    node2 = redis.client();
    accounts = createAccountStore({ redis: node1, clock });
    accounts2 = createAccountStore({ redis: node2, clock });
  });
  afterAll(() => redis.stop());
  beforeEach(() => node1.flushall());

  const newAccount = (login: string, roles = ['clinician' as const]) => ({ login, displayName: `Д-р ${login}`, roles: [...roles], passwordHash: PHC });

  it('create.success: answers the account with an immutable id and stores it', async () => {
    const a = await accounts.create({ login: ' Иванов ', displayName: 'Иванов И. И.', roles: ['auditor', 'clinician', 'auditor'], passwordHash: PHC });
    expect(a).toEqual({
      id: expect.stringMatching(/^acc_[0-9a-f]{16}$/),
      login: 'Иванов',
      displayName: 'Иванов И. И.',
      roles: ['clinician', 'auditor'],
      status: 'active',
      passwordHash: PHC,
      passwordChangedAt: clock.now(),
      passwordTemporary: false,
      createdAt: clock.now(),
    });
    expect(await accounts2.get(a.id)).toEqual(a);
  });

  it('create.fail: login_taken for the same login in another case or width', async () => {
    await accounts.create(newAccount('Иванов'));
    expect(await codeOf(accounts.create(newAccount('иванов')))).toBe('login_taken');
    expect(await codeOf(accounts.create(newAccount('ИВАНОВ')))).toBe('login_taken');
    await accounts.create(newAccount('petrov'));
    expect(await codeOf(accounts.create(newAccount('Ｐｅｔｒｏｖ')))).toBe('login_taken');
    await accounts.create(newAccount('Straße'));
    expect(await codeOf(accounts2.create(newAccount('STRASSE')))).toBe('login_taken');
  });

  it('create.race: two nodes creating one login in different cases, exactly one wins (20 runs)', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await outcomes([accounts.create(newAccount(`Врач${i}`)), accounts2.create(newAccount(`вРАЧ${i}`))]);
      expect(r).toEqual({ won: 1, codes: ['login_taken'] });
    }
    expect(await accounts.list()).toHaveLength(20);
  });

  it('create.fail: bad_request for an invalid login, display name or roles', async () => {
    expect(await codeOf(accounts.create(newAccount('')))).toBe('bad_request');
    expect(await codeOf(accounts.create(newAccount('x'.repeat(65))))).toBe('bad_request');
    expect(await codeOf(accounts.create({ ...newAccount('a'), displayName: '' }))).toBe('bad_request');
    expect(await codeOf(accounts.create({ ...newAccount('a'), displayName: 'a\u0007' }))).toBe('bad_request');
    expect(await codeOf(accounts.create({ ...newAccount('a'), roles: [] }))).toBe('bad_request');
    expect(await codeOf(accounts.create({ ...newAccount('a'), roles: ['root' as never] }))).toBe('bad_request');
    expect(await accounts.list()).toEqual([]);
  });

  it('create.error: TypeError when given something other than a PHC hash (a password, say)', async () => {
    expect(await codeOf(accounts.create({ ...newAccount('a'), passwordHash: 'correct horse battery staple' }))).toBe('TypeError');
    expect(await codeOf(accounts.create({ ...newAccount('a'), passwordHash: '' }))).toBe('TypeError');
    expect(await accounts.list()).toEqual([]);
  });

  it('create.success: a colliding random id is retried, never overwriting an account', async () => {
    const seq = [Buffer.alloc(8, 1), Buffer.alloc(8, 1), Buffer.alloc(8, 2)];
    const store = createAccountStore({ redis: node1, clock, randomBytes: () => seq.shift() as Buffer });
    const a = await store.create(newAccount('first'));
    const b = await store.create(newAccount('second'));
    expect(a.id).toBe('acc_0101010101010101');
    expect(b.id).toBe('acc_0202020202020202');
    expect((await store.get(a.id))?.login).toBe('first');
  });

  it('findByLogin.success: finds the account by any case or width of its login', async () => {
    const a = await accounts.create(newAccount('Иванов'));
    const b = await accounts.create(newAccount('petrov'));
    expect((await accounts2.findByLogin('ИВАНОВ'))?.id).toBe(a.id);
    expect((await accounts2.findByLogin('Ｐｅｔｒｏｖ'))?.id).toBe(b.id);
  });

  it('findByLogin.fail: null for an unknown login and for one no account could have', async () => {
    await accounts.create(newAccount('Иванов'));
    expect(await accounts.findByLogin('сидоров')).toBeNull();
    expect(await accounts.findByLogin('x'.repeat(65))).toBeNull();
    expect(await accounts.findByLogin('')).toBeNull();
  });

  it('findByLogin.fail: null when the index names no account or a malformed id (never another key)', async () => {
    await node1.hset('acct:by-login', 'ghost', 'acc_0000000000000001', 'odd', 'by-login', 'short', 'acc_01');
    await node1.hset('acct:by-login', 'wrong', 'acc_0000000000000002');
    await node1.hset('acct:acc_0000000000000002', 'id', 'acc_0000000000000003', 'login', 'wrong');
    for (const login of ['ghost', 'odd', 'short', 'wrong']) expect(await accounts.findByLogin(login)).toBeNull();
  });

  it('get.fail: null for an unknown or malformed id (never another key)', async () => {
    await accounts.create(newAccount('Иванов'));
    expect(await accounts.get('acc_0000000000000000')).toBeNull();
    expect(await accounts.get('by-login')).toBeNull();
    expect(await accounts.get('')).toBeNull();
  });

  it('list.success: every account, sorted by normalised login', async () => {
    for (const login of ['Сидоров', 'ivanov', 'Abramov', 'андреев']) await accounts.create(newAccount(login));
    expect((await accounts2.list()).map((a) => a.login)).toEqual(['Abramov', 'ivanov', 'андреев', 'Сидоров']);
  });

  it('recordLogin.success: answers null the first time, then the previous login', async () => {
    const a = await accounts.create(newAccount('Иванов'));
    const t1 = clock.now();
    expect((await accounts.recordLogin(a.id, { at: t1, workstation: 'Кабинет 12' })).previous).toBeNull();
    expect((await accounts2.recordLogin(a.id, { at: t1 + 60_000, workstation: 'Регистратура' })).previous).toEqual({ at: t1, workstation: 'Кабинет 12' });
    expect((await accounts.get(a.id))?.lastLogin).toEqual({ at: t1 + 60_000, workstation: 'Регистратура' });
  });

  it('recordLogin.race: concurrent logins from two nodes each see a distinct previous login', async () => {
    const a = await accounts.create(newAccount('Иванов'));
    const logins = Array.from({ length: 20 }, (_, i) => ({ at: 1_000 + i, workstation: `ws-${i}` }));
    const prevs = await Promise.all(logins.map(async (l, i) => (await (i % 2 ? accounts : accounts2).recordLogin(a.id, l)).previous));
    const last = (await accounts.get(a.id))?.lastLogin;
    // Atomic get-and-set forms one chain: every login is someone's "previous" exactly once, except the last.
    const seen = [...prevs.filter((p) => p !== null), last].map((p) => p?.at).sort((x, y) => Number(x) - Number(y));
    expect(prevs.filter((p) => p === null)).toHaveLength(1);
    expect(seen).toEqual(logins.map((l) => l.at));
  });

  it('recordLogin.fail: account_not_found for an unknown or malformed id; bad_request for a bad record', async () => {
    expect(await codeOf(accounts.recordLogin('acc_0000000000000000', { at: 1, workstation: 'w' }))).toBe('account_not_found');
    expect(await codeOf(accounts.recordLogin('by-login', { at: 1, workstation: 'w' }))).toBe('account_not_found');
    const a = await accounts.create(newAccount('Иванов'));
    expect(await codeOf(accounts.recordLogin(a.id, { at: Number.NaN, workstation: 'w' }))).toBe('bad_request');
    expect(await codeOf(accounts.recordLogin(a.id, { at: 1, workstation: '' }))).toBe('bad_request');
    expect(await accounts.get('acc_0000000000000000')).toBeNull();
  });

  it('setStatus.success: blocks and unblocks an account', async () => {
    const a = await accounts.create(newAccount('Иванов'));
    expect((await accounts.setStatus(a.id, 'blocked')).status).toBe('blocked');
    expect((await accounts2.get(a.id))?.status).toBe('blocked');
    expect((await accounts2.setStatus(a.id, 'active')).status).toBe('active');
  });

  it('setStatus.fail: account_not_found for an unknown id, bad_request for an unknown status', async () => {
    expect(await codeOf(accounts.setStatus('acc_0000000000000000', 'blocked'))).toBe('account_not_found');
    expect(await accounts.get('acc_0000000000000000')).toBeNull();
    const a = await accounts.create(newAccount('Иванов'));
    expect(await codeOf(accounts.setStatus(a.id, 'deleted' as never))).toBe('bad_request');
  });

  it('setRoles: replaces the roles (stored in role order) if they are still the expected ones; roles_changed otherwise, nothing changed', async () => {
    const a = await accounts.create(newAccount('Иванов'));
    expect((await accounts.setRoles(a.id, ['chief_admin', 'clinician'], ['clinician'])).roles).toEqual(['clinician', 'chief_admin']);
    expect((await accounts2.get(a.id))?.roles).toEqual(['clinician', 'chief_admin']);
    // Read before another change: refused, so a change checked against old roles cannot overwrite a newer one.
    expect(await codeOf(accounts.setRoles(a.id, ['auditor'], ['clinician']))).toBe('roles_changed');
    expect((await accounts.get(a.id))?.roles).toEqual(['clinician', 'chief_admin']);
  });

  it('setRoles.fail: an empty list or an unknown role is bad_request, an unknown id account_not_found', async () => {
    const a = await accounts.create(newAccount('Иванов'));
    expect(await codeOf(accounts.setRoles(a.id, [], ['clinician']))).toBe('bad_request');
    expect(await codeOf(accounts.setRoles(a.id, ['root' as never], ['clinician']))).toBe('bad_request');
    expect(await codeOf(accounts.setRoles('acc_0000000000000000', ['clinician'], ['clinician']))).toBe('account_not_found');
    expect(await accounts.get('acc_0000000000000000')).toBeNull();
  });

  it('setPasswordHash.success: replaces the hash and moves passwordChangedAt to now', async () => {
    const a = await accounts.create(newAccount('Иванов'));
    clock.advance(86_400_000);
    const newHash = PHC.replace('t=2', 't=3');
    const b = await accounts.setPasswordHash(a.id, newHash);
    expect(b).toEqual({ ...a, passwordHash: newHash, passwordChangedAt: a.createdAt + 86_400_000 });
  });

  it('setPasswordHash.success: a temporary one is marked; the hash it replaces joins the history, newest first, which keeps keepHistory', async () => {
    const a = await accounts.create({ ...newAccount('Иванов'), passwordTemporary: true });
    expect(a.passwordTemporary).toBe(true);
    const hashes = ['t=3', 't=4', 't=5'].map((t) => PHC.replace('t=2', t));
    const b = await accounts.setPasswordHash(a.id, hashes[0]!, { keepHistory: 2 });
    expect(b.passwordTemporary).toBe(false);
    await accounts.setPasswordHash(a.id, hashes[1]!, { keepHistory: 2 });
    const d = await accounts2.setPasswordHash(a.id, hashes[2]!, { temporary: true, keepHistory: 2 });
    expect([d.passwordHash, d.passwordTemporary]).toEqual([hashes[2], true]);
    expect(await accounts.passwordHistory(a.id)).toEqual([hashes[1], hashes[0]]);
    await accounts.setPasswordHash(a.id, PHC, { keepHistory: 0 });
    expect(await accounts.passwordHistory(a.id)).toEqual([]);
  });

  it('setPasswordHash.fail: account_not_found for an unknown id; TypeError for a non-PHC value', async () => {
    expect(await codeOf(accounts.setPasswordHash('acc_0000000000000000', PHC))).toBe('account_not_found');
    const a = await accounts.create(newAccount('Иванов'));
    expect(await codeOf(accounts.setPasswordHash(a.id, 'Пароль123456!'))).toBe('TypeError');
    expect((await accounts.get(a.id))?.passwordHash).toBe(PHC);
  });

  it('error: unavailable when Redis cannot be reached', async () => {
    const dead = await unreachableRedis();
    const store = createAccountStore({ redis: dead, clock });
    expect(await codeOf(store.create(newAccount('Иванов')))).toBe('unavailable');
    expect(await codeOf(store.get('acc_0000000000000000'))).toBe('unavailable');
    expect(await codeOf(store.findByLogin('иванов'))).toBe('unavailable');
    expect(await codeOf(store.list())).toBe('unavailable');
    expect(await codeOf(store.recordLogin('acc_0000000000000000', { at: 1, workstation: 'w' }))).toBe('unavailable');
    dead.disconnect();
  });

  it('exports every role', () => {
    expect(ROLES).toEqual(['clinician', 'security_officer', 'auditor', 'chief_admin']);
  });

  it('construction: TypeError without redis or clock', () => {
    expect(() => createAccountStore({ redis: node1, clock: undefined as never })).toThrow(TypeError);
    expect(() => createAccountStore({ redis: undefined as never, clock: frozenClock(0) })).toThrow(TypeError);
  });
});

describe('account store: the officer\'s list (page)', () => {
  let redis: TestRedis;
  let node: Redis;
  const clock = frozenClock();
  let accounts: AccountStore;
  beforeAll(async () => {
    redis = await startRedis();
    node = redis.client();
  });
  afterAll(() => redis.stop());
  beforeEach(async () => {
    await node.flushall();
    accounts = createAccountStore({ redis: node, clock });
  });

  const SURNAMES = ['Иванова', 'Иванов', 'Петров', 'Сидорова', 'Abramov', 'ivanchenko', 'Ёлкин', 'Straße'];
  /** A few hundred accounts: logins and names that share prefixes, every role, some blocked. */
  const seed = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const surname = SURNAMES[i % SURNAMES.length]!;
      const login = i % 3 === 0 ? `${surname.toLowerCase()}${i}` : `u${String(i).padStart(4, '0')}`;
      const a = await accounts.create({ login, displayName: `${surname} ${i}`, roles: [ROLES[i % ROLES.length]!], passwordHash: PHC });
      if (i % 5 === 0) await accounts.setStatus(a.id, 'blocked');
    }
  };
  const fold = (s: string) => normaliseLogin(s);
  /** What the list must answer, worked out from every account: who matches, in the index's byte order. */
  const expected = async (q: { prefix?: string; role?: string; status?: string }) => {
    const p = q.prefix ? fold(q.prefix) : '';
    return (await accounts.list())
      .filter((a) => (fold(a.login).startsWith(p) || fold(a.displayName).startsWith(p)) && (!q.role || a.roles.includes(q.role as never)) && (!q.status || a.status === q.status))
      .map((a) => ({ id: a.id, key: Buffer.from(`${fold(a.login).startsWith(p) ? fold(a.login) : fold(a.displayName)}\0${a.id}`) }))
      .sort((x, y) => Buffer.compare(x.key, y.key))
      .map((x) => x.id);
  };
  const walk = async (q: { prefix?: string; role?: any; status?: any }, limit: number) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<AccountStore['page']>> = await accounts.page({ ...q, limit, ...(cursor ? { cursor } : {}) });
      expect(page.accounts.length).toBeLessThanOrEqual(limit);
      ids.push(...page.accounts.map((a) => a.id));
      cursor = page.cursor;
    } while (cursor);
    return ids;
  };

  it('page.success: every filter (a login or name prefix in any case, role, status), paged at any size, answers each match once, in order, and nothing else', async () => {
    await seed(240);
    const queries = [{}, { prefix: 'иван' }, { prefix: 'ИВАНОВА' }, { prefix: 'u00' }, { prefix: 'STRASSE' }, { prefix: 'ё' }, { prefix: 'zzz' }, { role: 'auditor' }, { status: 'blocked' }, { prefix: 'и', role: 'chief_admin', status: 'active' }];
    for (const q of queries) {
      const want = await expected(q);
      for (const limit of [1, 7, 50, 500]) expect([q, limit, await walk(q, limit)]).toEqual([q, limit, want]);
    }
    expect((await expected({ prefix: 'иван' })).length).toBeGreaterThan(50);
    // A page is full while there are more: the last page alone is short.
    const first = await accounts.page({ prefix: 'иван', limit: 10 });
    expect(first.accounts).toHaveLength(10);
    expect(first.cursor).not.toBeNull();
  });

  it('page.success: an account whose login and name both match is listed once; with no prefix every account is listed by login', async () => {
    await accounts.create({ login: 'ivanova', displayName: 'Иванова Анна', roles: ['clinician'], passwordHash: PHC });
    await accounts.create({ login: 'anna', displayName: 'Ivanova Anna', roles: ['clinician'], passwordHash: PHC });
    expect((await walk({ prefix: 'iv' }, 1)).length).toBe(2);
    // ivanova at her login (`ivanova`), anna at her name (`ivanova anna`): in the index's order.
    expect((await accounts.page({ prefix: 'IVANOVA', limit: 10 })).accounts.map((a) => a.login)).toEqual(['ivanova', 'anna']);
    expect((await accounts.page({ limit: 10 })).accounts.map((a) => a.login)).toEqual(['anna', 'ivanova']);
  });

  it('page.success: accounts stored before the index are indexed on first use, once', async () => {
    await seed(30);
    await node.del('acct:by-name', 'acct:by-name:built');
    for (const id of Object.values(await node.hgetall('acct:by-login'))) await node.hdel(`acct:${id}`, 'nameKey');
    const fresh = createAccountStore({ redis: node, clock });
    expect((await fresh.page({ prefix: 'Петров', limit: 100 })).accounts.map((a) => a.displayName).sort()).toEqual(['Петров 10', 'Петров 18', 'Петров 2', 'Петров 26']);
    expect(await node.get('acct:by-name:built')).toBe('1');
    expect(await node.zcard('acct:by-name')).toBe(60);
  });

  it('page.fail: an unknown role is bad_request; Redis down is unavailable', async () => {
    expect(await codeOf(accounts.page({ role: 'root' as never, limit: 10 }))).toBe('bad_request');
    expect(await codeOf(createAccountStore({ redis: await unreachableRedis(), clock }).page({ limit: 10 }))).toBe('unavailable');
  });
});
