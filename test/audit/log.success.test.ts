import type { Clock } from '../../src/clock';
import { createAuditLog } from '../../src/audit/log';
import { GENESIS_PREV, sha256Hex, type AuditRecord } from '../../src/audit/record';
import { verifyAuditChain } from '../../src/audit/verify';
import { startRedis, type TestRedis } from '../helpers/redis';

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
