import { createCardImport } from '../../src/admin/card-import';
import { createCardAdmin } from '../../src/admin/cards';
import { auditRecords } from '../helpers/audit';
import { suiteServer, type TestServer } from '../helpers/app';
import { PHC } from '../store/support';
import { byOfficer, OFFICER } from './support';

const PW = 'Пароль-Импорта-2026';
const file = (...lines: string[]) => Buffer.from(['login;uid;label', ...lines].join('\n'), 'utf8');
const uidOf = (n: number) => `04${n.toString(16).toUpperCase().padStart(12, '0')}`;

describe('card import (CSV, all or nothing)', () => {
  let srv: TestServer;
  suiteServer({ env: { CARDAUTH_MAX_CARDS_PER_ACCOUNT: '2' } }, async (s) => {
    srv = s;
    await srv.account('ivanova', PW, '04A0A0A0A0A001');
    await srv.account('petrov', PW, '04B0B0B0B0B001');
    await srv.account('sidorov', PW, '04C0C0C0C0C001');
    await srv.account('full', PW, '04D0D0D0D0D001');
    await srv.services.cards.bind({ uid: '04D0D0D0D0D002', accountId: (await srv.services.accounts.findByLogin('full'))!.id, by: 'os:test' });
    await srv.services.cards.revoke({ uid: '04C0C0C0C0C001', reason: 'lost', by: 'os:test' });
  });
  const importCards = (bytes: Buffer, dryRun: boolean) => createCardImport(srv.services)(OFFICER, { file: '/tmp/cards.csv', bytes, dryRun });
  const cardKeys = async () => (await srv.redis.keys('card:*')).sort();

  it('a dry run reports every line’s fate and changes nothing, records nothing', async () => {
    const [keys, records] = [await cardKeys(), (await auditRecords(srv.redis)).length];
    const r = await importCards(
      file(
        'ivanova;04A0A0A0A0A002;запасная', // bind
        'petrov;04B0B0B0B0B001;', // already bound to him
        'nobody;04A0A0A0A0A003;', // unknown login
        'petrov;08A1B2C3;', // a random UID
        'petrov;04A0A0A0A0A002;', // the same card as line 2
        'petrov;04A0A0A0A0A001;', // bound to ivanova
        'petrov;04C0C0C0C0C001;', // revoked
        'full;04D0D0D0D0D003;', // over the limit of 2
        'petrov;04B0B0B0B0B002', // two cells
      ),
      true,
    );
    expect(r.committed).toBe(false);
    expect(r.lines.map((l) => [l.line, l.fate])).toEqual([
      [2, 'bind'],
      [3, 'already_bound'],
      [4, 'unknown_login'],
      [5, 'bad_uid'],
      [6, 'duplicate_in_file'],
      [7, 'bound_elsewhere'],
      [8, 'revoked_card'],
      [9, 'card_limit'],
      [10, 'bad_line'],
    ]);
    expect(r.counts).toEqual({ bind: 1, already_bound: 1, unknown_login: 1, bad_uid: 1, duplicate_in_file: 1, bound_elsewhere: 1, revoked_card: 1, card_limit: 1, bad_line: 1 });
    expect(await cardKeys()).toEqual(keys);
    expect(await auditRecords(srv.redis)).toHaveLength(records);
  });

  it('the card limit counts the cards earlier in the file: the third card of an account is card_limit', async () => {
    const r = await importCards(file('petrov;04B0B0B0B0B002;', 'petrov;04B0B0B0B0B003;'), true);
    expect(r.lines.map((l) => l.fate)).toEqual(['bind', 'card_limit']);
  });

  it('the real run with one bad line changes nothing', async () => {
    const [keys, records] = [await cardKeys(), (await auditRecords(srv.redis)).length];
    const r = await importCards(file('ivanova;04A0A0A0A0A002;', 'petrov;04B0B0B0B0B002;', 'nobody;04E0E0E0E0E001;'), false);
    expect(r.committed).toBe(false);
    expect(r.counts).toEqual({ bind: 2, unknown_login: 1 });
    expect(await cardKeys()).toEqual(keys);
    expect(await auditRecords(srv.redis)).toHaveLength(records);
  });

  it('a clean file binds every card, audited card.imported then one card.bound each; the same file again changes nothing', async () => {
    const bytes = file('ivanova;04A0A0A0A0A002;запасная', 'Petrov;04:b0:b0:b0:b0:b0:02;', 'ivanova;04A0A0A0A0A001;');
    const r = await importCards(bytes, false);
    expect(r).toMatchObject({ committed: true, counts: { bind: 2, already_bound: 1 } });
    expect(await srv.services.cards.get('04A0A0A0A0A002')).toMatchObject({ status: 'active', label: 'запасная', boundBy: OFFICER.actor });
    expect(await srv.services.cards.get('04B0B0B0B0B002')).toMatchObject({ status: 'active', label: '' });
    const records = await auditRecords(srv.redis);
    const i = records.findIndex((x) => x.type === 'card.imported');
    expect(records[i]).toMatchObject({ ...byOfficer, details: expect.objectContaining({ file: '/tmp/cards.csv', sha256: r.sha256, lines: 3, bound: 2, alreadyBound: 1 }) });
    expect(records.slice(i + 1)).toEqual([
      expect.objectContaining({ type: 'card.bound', ...byOfficer, cardUid: '04A0A0A0A0A002', subject: expect.objectContaining({ login: 'ivanova' }), details: expect.objectContaining({ label: 'запасная', import: r.sha256 }) }),
      expect.objectContaining({ type: 'card.bound', ...byOfficer, cardUid: '04B0B0B0B0B002', subject: expect.objectContaining({ login: 'petrov' }), details: expect.objectContaining({ import: r.sha256 }) }),
    ]);

    const again = await importCards(bytes, false);
    expect(again).toMatchObject({ committed: true, counts: { already_bound: 3 } });
    expect(await auditRecords(srv.redis)).toHaveLength(records.length);
  });

  it('against a concurrent bind of one of its cards elsewhere: the whole import or none of it (10 runs)', async () => {
    const admin = createCardAdmin(srv.services);
    for (let run = 0; run < 10; run++) {
      const logins = [`imp${run}a`, `imp${run}b`, `imp${run}c`];
      for (const login of logins) await srv.services.accounts.create({ login, displayName: login, roles: ['clinician'], passwordHash: PHC });
      const uids = [1, 2, 3].map((k) => uidOf(0xf00000 + run * 16 + k));
      const [imported, bound] = await Promise.allSettled([
        importCards(file(...logins.map((l, k) => `${l};${uids[k]};`)), false),
        admin.bind(OFFICER, { login: 'sidorov', uid: uids[1] as never }),
      ]);
      const owners = await Promise.all(uids.map(async (u) => (await srv.services.cards.get(u))?.accountId));
      if (imported.status === 'fulfilled' && imported.value.committed) {
        expect(bound.status).toBe('rejected');
        expect(owners.every((o) => o !== undefined)).toBe(true);
      } else {
        expect(bound.status).toBe('fulfilled');
        expect(imported.status === 'fulfilled' && imported.value.lines[1]?.fate).toBe('bound_elsewhere');
        expect([owners[0], owners[2]]).toEqual([undefined, undefined]);
      }
      await srv.services.cards.revoke({ uid: uids[1] as string, reason: 'other', by: 'os:test' });
    }
  });

  it('40,000 lines (20,000 accounts, 2 cards each) import in one step, one card.bound each', async () => {
    const n = 20_000;
    for (let i = 0; i < n; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, k) => srv.services.accounts.create({ login: `bulk${i + k}`, displayName: 'Bulk', roles: ['clinician'], passwordHash: PHC })));
    }
    const lines = Array.from({ length: 2 * n }, (_, k) => `bulk${k >> 1};${uidOf(0x100000 + k)};ЕКП`);
    const before = (await auditRecords(srv.redis, 'card.bound')).length;
    const dry = await importCards(file(...lines), true);
    expect(dry.counts).toEqual({ bind: 2 * n });
    const r = await importCards(file(...lines), false);
    expect(r).toMatchObject({ committed: true, counts: { bind: 2 * n } });
    expect(await srv.services.cards.get(uidOf(0x100000 + 2 * n - 1))).toMatchObject({ status: 'active' });
    expect((await auditRecords(srv.redis, 'card.bound')).length - before).toBe(2 * n);
  }, 180_000);
});
