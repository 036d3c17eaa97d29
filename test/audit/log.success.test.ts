import type { Clock } from '../../src/clock';
import { createAuditLog, type AuditBatchStats } from '../../src/audit/log';
import { canonicalJson, fromStreamFields, GENESIS_PREV, parseAuditInput, sealRecordFields, sha256Hex, type AuditRecord } from '../../src/audit/record';
import { verifyAuditChain } from '../../src/audit/verify';
import Redis from 'ioredis';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startAclRedis } from '../helpers/redis-acl';

const T0 = Date.parse('2026-03-01T08:00:00.000Z');

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('audit log append', () => {
  it('builds a chain: seq 1..n, each prev the previous hash, ts from the injected clock', async () => {
    const client = redis.client();
    let now = T0;
    const clock: Clock = { now: () => now };
    const log = createAuditLog({ redis: client, clock, key: 'audit:chain' });
    expect(await log.head()).toBeNull();

    const records: AuditRecord[] = [];
    for (let i = 0; i < 5; i++) {
      records.push(await log.append({ type: 'card.presented', outcome: 'success', cardUid: '04A22BB25C6180', source: { agentId: 'ag1', reader: 'ACS ACR122U' } }));
      now += 1500;
    }
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(records[0]?.prev).toBe(GENESIS_PREV);
    for (let i = 1; i < records.length; i++) expect(records[i]?.prev).toBe(records[i - 1]?.hash);
    expect(records.map((r) => r.ts)).toEqual([
      '2026-03-01T08:00:00.000Z',
      '2026-03-01T08:00:01.500Z',
      '2026-03-01T08:00:03.000Z',
      '2026-03-01T08:00:04.500Z',
      '2026-03-01T08:00:06.000Z',
    ]);
    expect(await log.head()).toEqual({ seq: 5, hash: records[4]?.hash });

    // one entry per record: r is the record without its hash, h the hash
    const entries = await client.xrange('audit:chain', '-', '+');
    expect(entries).toHaveLength(5);
    entries.forEach(([, fields], i) => {
      const { hash, ...body } = records[i] as AuditRecord;
      expect(fields).toHaveLength(4);
      expect(fields[0]).toBe('r');
      expect(JSON.parse(fields[1] as string)).toEqual(body);
      expect(fields.slice(2)).toEqual(['h', hash]);
    });
    expect(await verifyAuditChain({ redis: client, key: 'audit:chain' })).toEqual({ ok: true, count: 5, head: { seq: 5, hash: records[4]?.hash } });
  });

  it('stores the session id hashed, never raw', async () => {
    const client = redis.client();
    const log = createAuditLog({ redis: client, clock: { now: () => T0 }, key: 'audit:session' });
    const sid = 's%3AQm9ndXNTZXNzaW9uSWQ.raw';
    const record = await log.append({ type: 'session.created', outcome: 'success', subject: { accountId: 'acc-1' }, sessionId: sid });
    expect(record.sessionIdHash).toBe(sha256Hex(sid));
    expect(record).not.toHaveProperty('sessionId');
    const [[, fields]] = (await client.xrange('audit:session', '-', '+')) as [[string, string[]]];
    expect(fields.join(' ')).not.toContain(sid);
    expect(fields.join(' ')).toContain(sha256Hex(sid));
  });

  it('continues an existing chain from a new log instance (a restarted node)', async () => {
    const client = redis.client();
    const first = createAuditLog({ redis: client, clock: { now: () => T0 }, key: 'audit:restart' });
    const a = await first.append({ type: 'config.changed', outcome: 'success', actor: 'os:root', details: { key: 'CARDAUTH_LOCKOUT_ATTEMPTS', from: 5, to: 3 } });
    const second = createAuditLog({ redis: redis.client(), clock: { now: () => T0 + 1 }, key: 'audit:restart' });
    const b = await second.append({ type: 'audit.verified', outcome: 'success', actor: 'os:root' });
    expect(b).toMatchObject({ seq: 2, prev: a.hash });
    // the first log learns the new head from its compare-and-append
    const c = await first.append({ type: 'audit.viewed', outcome: 'success', actor: 'acc-admin' });
    expect(c).toMatchObject({ seq: 3, prev: b.hash });
  });

  it('keeps one unbroken chain when 3 nodes append 100 records each at once', async () => {
    const nodes = [redis.client(), redis.client(), redis.client()].map((client, n) =>
      createAuditLog({ redis: client, clock: { now: () => T0 + n }, key: 'audit:concurrent' }),
    );
    const perNode = await Promise.all(
      nodes.map((log, n) =>
        Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            log.append({ type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: { login: `user${n}-${i}` } }),
          ),
        ),
      ),
    );
    const seqs = perNode.flat().map((r) => r.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    // each node's records keep the order it appended them in
    for (const records of perNode) for (let i = 1; i < records.length; i++) expect(records[i]!.seq).toBeGreaterThan(records[i - 1]!.seq);
    const result = await verifyAuditChain({ redis: redis.client(), key: 'audit:concurrent' });
    expect(result).toMatchObject({ ok: true, count: 300, head: { seq: 300 } });
    expect(await redis.client().xlen('audit:concurrent')).toBe(300);
  });

  it('keeps every node progressing when 3 nodes append back to back, each awaiting its last append', async () => {
    const nodes = [redis.client(), redis.client(), redis.client()].map((client) =>
      createAuditLog({ redis: client, clock: { now: () => T0 }, key: 'audit:busy' }),
    );
    await Promise.all(
      nodes.map(async (log) => {
        for (let i = 0; i < 100; i++) await log.append({ type: 'session.logout', outcome: 'success' });
      }),
    );
    expect(await verifyAuditChain({ redis: redis.client(), key: 'audit:busy' })).toMatchObject({ ok: true, count: 300 });
  });
});

describe('audit log append from several nodes (the intake)', () => {
  it('an uncontended append is one script call and leaves the intake empty', async () => {
    const client = redis.client();
    const batches: AuditBatchStats[] = [];
    const log = createAuditLog({ redis: client, clock: { now: () => T0 }, key: 'audit:fast', onBatch: (b) => batches.push(b) });
    await log.append({ type: 'session.logout', outcome: 'success' });
    for (let i = 0; i < 5; i++) await log.append({ type: 'session.logout', outcome: 'success' });
    await Promise.all([1, 2, 3].map(() => log.append({ type: 'session.logout', outcome: 'success' })));
    expect(batches).toEqual([...Array.from({ length: 6 }, () => ({ records: 1, calls: 1, rounds: 0 })), { records: 3, calls: 1, rounds: 0 }]);
    expect(await client.exists('audit:fast:intake')).toBe(0);
    const records = (await client.xrange('audit:fast', '-', '+')).map(([, f]) => JSON.parse(f[1] as string) as Record<string, unknown>);
    expect(records.every((r) => !('intake' in r))).toBe(true);
  });

  it('an append whose head another node moved lands in two script calls, sealed anew on the new head, writing nothing to the intake', async () => {
    const key = 'audit:moved';
    const batches: AuditBatchStats[] = [];
    const a = createAuditLog({ redis: redis.client(), clock: { now: () => T0 }, key, onBatch: (b) => batches.push(b) });
    const b = createAuditLog({ redis: redis.client(), clock: { now: () => T0 }, key });
    const a1 = await a.append({ type: 'session.logout', outcome: 'success', subject: { login: 'a1' } });
    const b1 = await b.append({ type: 'session.logout', outcome: 'success', subject: { login: 'b1' } });
    const a2 = await a.append({ type: 'session.logout', outcome: 'success', subject: { login: 'a2' } });
    expect(batches).toEqual([{ records: 1, calls: 1, rounds: 0 }, { records: 1, calls: 2, rounds: 0 }]);
    expect([a1.seq, b1.seq, a2.seq]).toEqual([1, 2, 3]);
    expect(a2.prev).toBe(b1.hash);
    expect(await redis.client().exists(`${key}:intake`)).toBe(0);
    expect(await verifyAuditChain({ redis: redis.client(), key })).toMatchObject({ ok: true, count: 3 });
  });

  it.each([2, 3, 4, 6, 8])('%i nodes appending at once: one chain, every record once, every intake entry chained once, at most 2 compare rounds a batch', async (n) => {
    const key = `audit:nodes${n}`;
    const batches: AuditBatchStats[] = [];
    const logs = Array.from({ length: n }, (_, i) =>
      createAuditLog({ redis: redis.client(), clock: { now: () => T0 + i }, key, onBatch: (b) => batches.push(b) }),
    );
    // back to back, a few in flight each: every node contends for the head all the time
    const perNode = await Promise.all(
      logs.map(async (log, node) => {
        const out: AuditRecord[] = [];
        for (let round = 0; round < 12; round++) {
          out.push(...(await Promise.all(Array.from({ length: 4 }, (_, i) => log.append({ type: 'session.logout', outcome: 'success', subject: { login: `n${node}-${round}-${i}` } })))));
        }
        return out;
      }),
    );
    const total = n * 48;
    const client = redis.client();
    expect(await verifyAuditChain({ redis: client, key })).toMatchObject({ ok: true, count: total });

    const chain = (await client.xrange(key, '-', '+')).map(([, fields]) => {
      const d = fromStreamFields(fields);
      if (!d.ok) throw new Error('unreadable record');
      return d.record;
    });
    // each append resolved with its own record, as stored, and no two with the same one
    const returned = perNode.flat();
    expect(new Set(returned.map((r) => r.hash)).size).toBe(total);
    for (const r of returned) expect(chain[r.seq - 1]).toEqual(r);
    for (const records of perNode) for (let i = 1; i < records.length; i++) expect(records[i]!.seq).toBeGreaterThan(records[i - 1]!.seq);

    // the cursor moves entry by entry through the intake, in its order: each entry chained once
    const intake = (await client.xrange(`${key}:intake`, '-', '+')).map(([id]) => id);
    const moves = chain.filter((r, i) => r.intake !== undefined && r.intake !== chain[i - 1]?.intake).map((r) => r.intake);
    expect(moves).toEqual(intake);

    expect(batches.reduce((a, b) => a + b.records, 0)).toBe(total);
    expect(Math.max(...batches.map((b) => b.rounds))).toBeLessThanOrEqual(2);
    expect(batches.some((b) => b.calls > 1)).toBe(true); // the nodes did contend: a head moved under a batch
  });

  it("keeps each node's order when its batches overlap (one chained while the next goes into the intake)", async () => {
    const key = 'audit:overlap';
    const batches: AuditBatchStats[] = [];
    const logs = [0, 1, 2].map(() => createAuditLog({ redis: redis.client(), clock: { now: () => T0 }, key, onBatch: (b) => batches.push(b) }));
    const perNode = await Promise.all(
      logs.map((log, n) => Promise.all(Array.from({ length: 250 }, (_, i) => log.append({ type: 'session.logout', outcome: 'success', subject: { login: `n${n}-${i}` } })))),
    );
    for (const [n, records] of perNode.entries()) {
      expect(records.map((r) => r.subject?.login)).toEqual(Array.from({ length: 250 }, (_, i) => `n${n}-${i}`));
      for (let i = 1; i < records.length; i++) expect(records[i]!.seq).toBeGreaterThan(records[i - 1]!.seq);
    }
    expect(new Set(perNode.flat().map((r) => r.seq)).size).toBe(750);
    expect(await verifyAuditChain({ redis: redis.client(), key })).toMatchObject({ ok: true, count: 750 });
    expect(Math.max(...batches.map((b) => b.rounds))).toBeLessThanOrEqual(2);
  });

  it('chains the entries it saw waiting in the intake ahead of its next batch, in the same call', async () => {
    const client = redis.client();
    const key = 'audit:waiting';
    const batches: AuditBatchStats[] = [];
    const log = createAuditLog({ redis: client, clock: { now: () => T0 }, key, onBatch: (b) => batches.push(b) });
    const other = (login: string) => client.xadd(`${key}:intake`, '*', 'r', JSON.stringify({ outcome: 'success', subject: { login }, type: 'session.logout', ts: '2026-03-01T07:59:00.000Z' }));
    await log.append({ type: 'session.logout', outcome: 'success', subject: { login: 'a1' } });
    await other('f1');
    // a2's try is refused (f1 waits); another event arrives before its seal, which is refused too, so a2
    // goes through the intake; another arrives while it chains: the chain's reply says that one is waiting
    const command = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const script = command.cardauthAuditAppend!;
    command.cardauthAuditAppend = async (...args: unknown[]) => {
      if (args[4] === 'seal') await other('f1b');
      if (args[4] === 'chain') await other('f2');
      return script.apply(client, args);
    };
    await log.append({ type: 'session.logout', outcome: 'success', subject: { login: 'a2' } });
    command.cardauthAuditAppend = script;
    const a3 = await log.append({ type: 'session.logout', outcome: 'success', subject: { login: 'a3' } });
    expect(batches.map((b) => [b.calls, b.rounds])).toEqual([[1, 0], [3, 1], [1, 0]]);
    const chain = (await client.xrange(key, '-', '+')).map(([, f]) => JSON.parse(f[1] as string) as AuditRecord);
    const intake = (await client.xrange(`${key}:intake`, '-', '+')).map(([id]) => id);
    expect(chain.map((r) => r.subject?.login)).toEqual(['a1', 'f1', 'f1b', 'a2', 'f2', 'a3']);
    expect(chain.map((r) => r.intake)).toEqual([undefined, intake[0], intake[1], intake[2], intake[3], intake[3]]);
    expect(a3).toMatchObject({ seq: 6, intake: intake[3] });
    expect(await verifyAuditChain({ redis: client, key })).toMatchObject({ ok: true, count: 6 });
  });

  it("chains another node's record left in the intake (sealed on a head that moved) with its event and time, sealed anew", async () => {
    const client = redis.client();
    const key = 'audit:stale';
    const log = createAuditLog({ redis: client, clock: { now: () => T0 }, key });
    const a1 = await log.append({ type: 'session.logout', outcome: 'success', subject: { login: 'a1' } });
    // what a node whose fast path was refused leaves: its record as sealed on the head it knew
    const event = parseAuditInput({ type: 'session.created', outcome: 'success', subject: { login: 'f1' }, sessionId: 'sid-f1' });
    const stale = sealRecordFields(event, { seq: 1, prev: GENESIS_PREV, ts: '2026-03-01T07:59:00.000Z', intake: '1-0' }).fields;
    const entry = await client.xadd(`${key}:intake`, '*', stale[0], stale[1]);
    const a2 = await log.append({ type: 'session.logout', outcome: 'success', subject: { login: 'a2' } });
    const chain = (await client.xrange(key, '-', '+')).map(([, f]) => {
      const d = fromStreamFields(f);
      if (!d.ok) throw new Error('unreadable record');
      return d.record;
    });
    expect(chain).toHaveLength(3);
    const { hash, ...f1 } = chain[1]!;
    expect(f1).toEqual({ ...event, v: 1, seq: 2, prev: a1.hash, ts: '2026-03-01T07:59:00.000Z', intake: entry });
    expect(hash).not.toBe(stale[3]);
    // a2's try was refused (f1 waiting): sealed anew after f1, it landed without passing through the intake
    expect(a2).toMatchObject({ seq: 3, prev: hash, intake: entry });
    expect((await client.xrange(`${key}:intake`, '-', '+')).map(([id]) => id)).toEqual([entry]);
    expect(await verifyAuditChain({ redis: client, key })).toMatchObject({ ok: true, count: 3 });
  });

  it.each([
    ['a record that is not JSON', ['r', '{not json']],
    ['a record without a ts', ['r', JSON.stringify({ outcome: 'success', type: 'session.logout', v: 1 })]],
    ['a record that is not an object', ['r', '[1]']],
    ['an entry of unknown fields', ['x', '{}']],
    ['an entry whose id, set by hand, is past any date', ['x', '{}'], '9000000000000000-0'],
    ['a record with a key no event has', ['r', JSON.stringify({ outcome: 'success', type: 'session.logout', ts: '2026-03-01T07:59:00.000Z', password: 'x' })]],
    ['a record of an unknown type', ['r', JSON.stringify({ outcome: 'success', type: 'session.hijacked', ts: '2026-03-01T07:59:00.000Z' })]],
    ['a record with an unlisted reason', ['r', JSON.stringify({ outcome: 'failure', reason: 'made_up', type: 'password.checked', ts: '2026-03-01T07:59:00.000Z' })]],
    ['a record whose text a node would have cleaned', ['r', JSON.stringify({ outcome: 'success', type: 'session.logout', subject: { login: 'a\u0000b' }, ts: '2026-03-01T07:59:00.000Z' })]],
    ['a record with a raw session id', ['r', JSON.stringify({ outcome: 'success', type: 'session.logout', sessionId: 'sid', ts: '2026-03-01T07:59:00.000Z' })]],
    ['a record with a time that is no date', ['r', JSON.stringify({ outcome: 'success', type: 'session.logout', ts: '2026-02-31T07:59:00.000Z' })]],
  ])('chains an intake entry that is not an event (%s) as audit.intake_rejected, at its id\'s time, and appends go on', async (_what, fields, id = '*') => {
    const client = redis.client();
    const key = `audit:badintake:${_what}`;
    const a1 = await createAuditLog({ redis: client, clock: { now: () => T0 }, key }).append({ type: 'session.logout', outcome: 'success' });
    const entry = (await client.xadd(`${key}:intake`, id, ...fields)) as string;
    const at = new Date(Number(entry.split('-')[0]));
    const a2 = await createAuditLog({ redis: redis.client(), clock: { now: () => T0 }, key }).append({ type: 'session.logout', outcome: 'success' });
    const chain = (await client.xrange(key, '-', '+')).map(([, f]) => JSON.parse(f[1] as string) as Record<string, unknown>);
    expect(chain[1]).toEqual({
      type: 'audit.intake_rejected',
      outcome: 'failure',
      reason: 'unreadable_entry',
      details: { entry, sha256: sha256Hex(canonicalJson(fields)) },
      v: 1,
      seq: 2,
      prev: a1.hash,
      ts: Number.isNaN(at.getTime()) ? '1970-01-01T00:00:00.000Z' : at.toISOString(),
      intake: entry,
    });
    expect(a2).toMatchObject({ seq: 3 });
    expect(await verifyAuditChain({ redis: client, key })).toMatchObject({ ok: true, count: 3 });
    expect((await client.xrange(`${key}:intake`, '-', '+'))[0]).toEqual([entry, fields]);
  });

  it('chains what appends that failed left in the intake, beyond one read of 500 entries, before its own', async () => {
    const client = redis.client();
    const key = 'audit:backlog';
    const log = createAuditLog({ redis: client, clock: { now: () => T0 }, key });
    const first = await log.append({ type: 'session.logout', outcome: 'success' });
    const left = Array.from({ length: 620 }, (_, i) => ({ type: 'session.logout', outcome: 'success', subject: { login: `left${i}` } }));
    for (const event of left) await client.xadd(`${key}:intake`, '*', 'r', JSON.stringify({ ...event, ts: '2026-03-01T07:59:00.000Z' }));
    const batches: AuditBatchStats[] = [];
    const other = createAuditLog({ redis: redis.client(), clock: { now: () => T0 }, key, onBatch: (b) => batches.push(b) });
    const mine = await other.append({ type: 'session.created', outcome: 'success', subject: { login: 'mine' } });
    expect(mine).toMatchObject({ seq: 622, subject: { login: 'mine' } });
    // try refused (500 shown waiting), sealed after them but refused (120 more wait), 500 chained (its reply lists the rest), the last 120 and ours chained
    expect(batches).toEqual([{ records: 1, calls: 4, rounds: 2 }]);
    const chain = await client.xrange(key, '-', '+');
    expect(chain.slice(1, 621).map(([, f]) => (JSON.parse(f[1] as string) as { subject: { login: string } }).subject.login)).toEqual(left.map((e) => e.subject.login));
    expect(await verifyAuditChain({ redis: client, key })).toMatchObject({ ok: true, count: 622 });
    // the first node's head is stale: its try is refused and it lands sealed anew on the head, not through the intake; the next is direct; both carry the cursor
    expect(first.intake).toBeUndefined();
    const next = await log.append({ type: 'session.logout', outcome: 'success' });
    expect(next).toMatchObject({ seq: 623, prev: mine.hash });
    expect(await log.append({ type: 'session.logout', outcome: 'success' })).toMatchObject({ seq: 624, prev: next.hash, intake: next.intake });
    expect(next.intake).toBe(mine.intake);
    expect(await client.xlen(`${key}:intake`)).toBe(621);
  });
});

describe('audit log append as the app Redis user (docs/redis-acl.conf)', () => {
  it('4 nodes contend through audit:intake with append and read only', async () => {
    const acl = await startAclRedis();
    const clients = Array.from({ length: 4 }, () => new Redis(acl.urlAs('cardauth'), { maxRetriesPerRequest: 1 }));
    try {
      const batches: AuditBatchStats[] = [];
      const logs = clients.map((client) => createAuditLog({ redis: client, clock: { now: () => T0 }, onBatch: (b) => batches.push(b) }));
      await Promise.all(logs.map(async (log) => {
        for (let i = 0; i < 10; i++) await Promise.all([1, 2, 3].map(() => log.append({ type: 'session.logout', outcome: 'success' })));
      }));
      expect(batches.some((b) => b.rounds > 0)).toBe(true);
      expect(await clients[0]!.xlen('audit:intake')).toBeGreaterThan(0);
      expect(await verifyAuditChain({ redis: clients[0]! })).toMatchObject({ ok: true, count: 120 });
    } finally {
      for (const c of clients) c.disconnect();
      await acl.stop();
    }
  });
});

describe('verifyAuditChain on an intact chain', () => {
  it('reports an empty or missing stream as ok with no head', async () => {
    expect(await verifyAuditChain({ redis: redis.client(), key: 'audit:none' })).toEqual({ ok: true, count: 0, head: null });
  });
  it('walks batches smaller than the chain, including an exact multiple', async () => {
    const client = redis.client();
    const log = createAuditLog({ redis: client, clock: { now: () => T0 }, key: 'audit:batches' });
    for (let i = 0; i < 9; i++) await log.append({ type: 'session.logout', outcome: 'success' });
    const head = await log.head();
    for (const batch of [1, 2, 3, 4, 9, 10]) {
      expect(await verifyAuditChain({ redis: client, key: 'audit:batches', batch })).toEqual({ ok: true, count: 9, head });
    }
  });
});
