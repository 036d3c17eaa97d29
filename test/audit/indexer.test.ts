import type Redis from 'ioredis';
import type { AuditEventType } from '../../src/audit/events';
import { auditReasons } from '../../src/audit/events';
import { createAuditIndexer } from '../../src/audit/indexer';
import { createAuditQueryService } from '../../src/audit/query-service';
import { readAudit, type AuditFilter } from '../../src/audit/query';
import { GENESIS_PREV, parseAuditInput, sealRecordFields, type AuditEventInput } from '../../src/audit/record';
import { sentCommands } from '../helpers/redis-trips';
import { seededRandom } from '../../dev/seeded-random';
import { suiteRedis } from '../helpers/redis';

jest.setTimeout(60_000);

// The index streams behind the audit query service, on a real Redis: every answer equals the
// scan's (readAudit + matchesAudit), indexed, half-indexed or not at all.
describe('the audit index', () => {
  const redis = suiteRedis();
  const T0 = Date.parse('2026-11-20T00:00:00.000Z');
  const DAY = 86_400_000;
  const TYPES: AuditEventType[] = ['card.presented', 'password.checked', 'session.created', 'session.logout', 'account.locked', 'card.locked', 'login.refused', 'card.bound'];

  const seeded = { seq: 0, prev: GENESIS_PREV, lastId: 0, t: T0 };
  beforeEach(() => Object.assign(seeded, { seq: 0, prev: GENESIS_PREV, lastId: 0, t: T0 }));

  /**
   * `n` varied records over about `days` days after the last, chained, written straight into the
   * stream with ids near their `ts` (a few seconds either way, as the clocks of several nodes).
   */
  async function seed(n: number, { accounts = 20, days = 10, seedNo = 1 } = {}) {
    const r = seededRandom(seedNo);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    const pipe = redis().pipeline();
    for (let i = 0; i < n; i++) {
      seeded.t += Math.floor(r() * ((2 * days * DAY) / n));
      const type = pick(TYPES);
      const outcome = r() < 0.3 ? 'failure' : 'success';
      const a = Math.floor(r() * accounts);
      const input: AuditEventInput = {
        type,
        outcome,
        ...(outcome === 'failure' ? { reason: auditReasons(type)?.[0] ?? 'refused' } : {}),
        subject: r() < 0.1 ? { login: pick(['Ghost', 'ГОСТЬ', 'ghost']) } : { accountId: `acc_${a}`, ...(r() < 0.7 ? { login: a % 2 ? `user${a}` : `USER${a}` } : {}) },
        ...(r() < 0.8 ? { source: { agentId: `ag_${a % 5}`, workstation: `РМ-${a % 7}`, ip: `10.0.0.${a % 9}` } } : { source: { ip: `10.9.9.${a % 3}` } }),
        ...(r() < 0.6 ? { cardUid: `04A2${(a % 11).toString(16).toUpperCase()}B` } : {}),
      };
      const { record, fields } = sealRecordFields(parseAuditInput(input), { seq: ++seeded.seq, prev: seeded.prev, ts: new Date(seeded.t).toISOString() });
      seeded.prev = record.hash;
      seeded.lastId = Math.max(seeded.lastId + 1, seeded.t + Math.floor(r() * 6000) - 3000);
      pipe.xadd('audit:log', `${seeded.lastId}-0`, ...fields);
    }
    await pipe.exec();
  }

  async function indexAll(client: Redis = redis()) {
    const indexer = createAuditIndexer({ redis: client });
    let n = 0;
    for (let k; (k = await indexer.step()) > 0; ) n += k;
    return n;
  }

  const FILTERS: AuditFilter[] = [
    {},
    { accountId: 'acc_3' },
    { accountId: 'acc_3', since: T0 + 4 * DAY, until: T0 + 5 * DAY },
    { login: 'user7' },
    { login: 'ghost', outcome: 'failure' },
    { cardUid: '04:a2:3b' },
    { agentId: 'ag_2', types: ['session.created'] },
    { workstation: 'РМ-4', since: T0 + 2 * DAY },
    { ip: '10.9.9.1' },
    { ip: '10.0.0.5', until: T0 + 3 * DAY },
    { types: ['account.locked'] },
    { types: ['card.presented', 'password.checked', 'login.refused'], outcome: 'failure', since: T0 + DAY, until: T0 + 6 * DAY },
    { types: [] },
    { outcome: 'failure' },
    { outcome: 'success', since: T0 + 7 * DAY, until: T0 + 8 * DAY },
    { since: T0 + 3 * DAY + 3_600_000, until: T0 + 3 * DAY + 7_200_000 },
    { accountId: 'acc_1', login: 'user2' },
  ];

  /** Each filter, newest first and oldest first: the service's ids equal the scan's. */
  async function expectSameAsScan() {
    const q = createAuditQueryService({ redis: redis() });
    for (const filter of FILTERS) {
      for (const newestFirst of [true, false]) {
        const scanned: string[] = [];
        for await (const e of readAudit(redis(), { filter, newestFirst })) scanned.push(e.id);
        const answered: string[] = [];
        for await (const e of q.read(filter, { newestFirst })) answered.push(e.id);
        expect({ filter, newestFirst, ids: answered }).toEqual({ filter, newestFirst, ids: scanned });
      }
    }
  }

  it('answers every filter as the scan does, fully indexed', async () => {
    await seed(3000);
    expect(await indexAll()).toBe(3000);
    await expectSameAsScan();
    // Every index stream is listed once, for retention (whose Redis user may not SCAN).
    const listed = (await redis().xrange('audit:ix:keys', '-', '+')).map(([, f]) => f[1]);
    const streams = (await redis().keys('audit:ix:*')).filter((k) => k !== 'audit:ix:cursor' && k !== 'audit:ix:keys');
    expect(listed.sort()).toEqual(streams.sort());
  });

  it('answers as the scan does half indexed, and records appended after the cursor show at once', async () => {
    await seed(2000);
    const indexer = createAuditIndexer({ redis: redis(), batch: 300 });
    for (let i = 0; i < 3; i++) expect(await indexer.step()).toBe(300);
    await expectSameAsScan();
    await indexAll();
    await seed(500, { seedNo: 2 }); // not indexed yet
    await expectSameAsScan();
    const q = createAuditQueryService({ redis: redis() });
    const [newest] = await redis().xrevrange('audit:log', '+', '-', 'COUNT', 1);
    expect((await q.page({}, { limit: 1 })).entries[0]!.id).toBe(newest![0]);
  });

  it("answers as the scan does when nodes' clocks were days off their records' stream ids", async () => {
    await seed(800);
    // A node whose clock is 3 days behind, then one 2 days ahead: stream ids near now.
    for (const skew of [-3 * DAY, 2 * DAY]) {
      seeded.t = seeded.lastId + skew;
      await seed(200, { days: 1, seedNo: skew > 0 ? 3 : 4 });
      seeded.lastId = Math.max(seeded.lastId, seeded.t - skew);
    }
    await indexAll();
    await expectSameAsScan();
  });

  it('pages newest first through an index with a cursor, every match once', async () => {
    await seed(1500);
    await indexAll();
    const q = createAuditQueryService({ redis: redis() });
    const filter: AuditFilter = { accountId: 'acc_5', since: T0 + DAY };
    const all: string[] = [];
    for await (const e of readAudit(redis(), { filter, newestFirst: true })) all.push(e.id);
    expect(all.length).toBeGreaterThan(20);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await q.page(filter, { limit: 7, ...(cursor ? { cursor } : {}) });
      paged.push(...p.entries.map((e) => e.id));
      cursor = p.next ?? undefined;
    } while (cursor);
    expect(paged).toEqual(all);
  });

  it("an index entry naming another account's record adds nothing", async () => {
    await seed(300);
    await indexAll();
    const q = createAuditQueryService({ redis: redis() });
    const mine = (await q.page({ accountId: 'acc_4' }, { limit: 500 })).entries.map((e) => e.id);
    // Forge: every record of acc_9 named in acc_4's index (an id already there is refused; the others go in).
    const theirs = (await q.page({ accountId: 'acc_9' }, { limit: 500 })).entries.map((e) => e.id);
    const [[, cursor]] = (await redis().xrevrange('audit:ix:cursor', '+', '-', 'COUNT', 1)) as [[string, string[]]];
    expect(cursor).toBeDefined();
    await redis().del('audit:ix:acct:acc_4');
    for (const id of [...mine, ...theirs].sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]))) await redis().xadd('audit:ix:acct:acc_4', id, 'x', '');
    const answered = (await q.page({ accountId: 'acc_4' }, { limit: 500 })).entries;
    expect(answered.map((e) => e.id)).toEqual(mine);
    expect(answered.every((e) => e.record.subject?.accountId === 'acc_4')).toBe(true);
  });

  it('a one-day, one-account query reads its index, not the stream: a few round trips over 10,000 records', async () => {
    await seed(10_000, { accounts: 100 });
    await indexAll();
    const q = createAuditQueryService({ redis: redis() });
    const filter: AuditFilter = { accountId: 'acc_42', since: T0 + 5 * DAY, until: T0 + 6 * DAY };
    let got = 0;
    const sent = await sentCommands(redis(), async () => {
      got = (await q.page(filter, { limit: 50 })).entries.length;
    });
    const scanned: string[] = [];
    for await (const e of readAudit(redis(), { filter })) scanned.push(e.id);
    expect(got).toBe(scanned.length);
    expect(got).toBeGreaterThan(0);
    expect(sent.roundTrips).toBeLessThanOrEqual(5);
  });

  it("counts the chart's days as the scan does, from the indexer's totals and the records after its cursor", async () => {
    await seed(2000);
    const days = (q: ReturnType<typeof createAuditQueryService>) => q.days(T0 - DAY, T0 + 12 * DAY);
    const scanned = await days(createAuditQueryService({ redis: redis() })); // nothing indexed: all counted from the stream
    expect(scanned.reduce((n, d) => n + d.logins + d.failures + d.lockouts, 0)).toBeGreaterThan(100);
    const indexer = createAuditIndexer({ redis: redis(), batch: 700 });
    await indexer.step();
    expect(await days(createAuditQueryService({ redis: redis() }))).toEqual(scanned);
    await indexAll();
    expect(await days(createAuditQueryService({ redis: redis() }))).toEqual(scanned);
    expect((await redis().xrange('audit:ix:day:2026-11-22', '-', '+')).length).toBeGreaterThan(0);
  });

  it("counts a batch the indexer adds while the chart reads once, not from both its totals and the stream", async () => {
    await seed(2000);
    const days = (q: ReturnType<typeof createAuditQueryService>) => q.days(T0 - DAY, T0 + 12 * DAY);
    const expected = await days(createAuditQueryService({ redis: redis() }));
    const indexer = createAuditIndexer({ redis: redis(), batch: 700 });
    await indexer.step();
    // The next batch lands right after the chart has read the cursor.
    const c = redis();
    let landed = false;
    const racing = new Proxy(c, {
      get(target, prop) {
        if (prop === 'xrevrange') {
          return async (...args: Parameters<Redis['xrevrange']>) => {
            const r = await target.xrevrange(...args);
            if (args[0] === 'audit:ix:cursor' && !landed) {
              landed = true;
              expect(await indexer.step()).toBe(700);
            }
            return r;
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    expect(await days(createAuditQueryService({ redis: racing }))).toEqual(expected);
    expect(landed).toBe(true);
  });

  it('two indexers at once index and count each record once (the cursor refuses the batch of the slower)', async () => {
    await seed(2000);
    const expected = await createAuditQueryService({ redis: redis() }).days(T0, T0 + 12 * DAY);
    const a = createAuditIndexer({ redis: redis(), batch: 250 });
    const other = redis().duplicate();
    const b = createAuditIndexer({ redis: other, batch: 250 });
    let total = 0;
    try {
      for (let round = 0; round < 50; round++) {
        const [x, y] = await Promise.all([a.step(), b.step()]);
        total += x + y;
        if (x === 0 && y === 0) break;
      }
    } finally {
      other.disconnect();
    }
    expect(total).toBe(2000);
    expect(await createAuditQueryService({ redis: redis() }).days(T0, T0 + 12 * DAY)).toEqual(expected);
    await expectSameAsScan();
  });
});
