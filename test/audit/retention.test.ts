import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Redis from 'ioredis';
import type { JWK } from 'jose';
import { claimed, createCheckpointWriter } from '../../src/audit/checkpoint';
import { generateAuditKey } from '../../src/audit/keys';
import { dayKey } from '../../src/audit/index-plan';
import { createAuditIndexer } from '../../src/audit/indexer';
import { createAuditLog } from '../../src/audit/log';
import { createAuditQueryService } from '../../src/audit/query-service';
import { verifyArchiveFile, writeArchive } from '../../src/audit/retention-archive';
import { archiveName, signSeal } from '../../src/audit/retention-seal';
import { GENESIS_PREV } from '../../src/audit/record';
import { createRetention, type RetentionDeps } from '../../src/audit/retention';
import { verifyAuditChain } from '../../src/audit/verify';
import { auditRecords } from '../helpers/audit';
import { startAclRedis, type AclRedis, type AclUser } from '../helpers/redis-acl';

jest.setTimeout(60_000);

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
let redis: AclRedis;
let keys: JWK[];
let dir: string;
const as = (user: AclUser) => redis.clientAs(user);

beforeAll(async () => {
  redis = await startAclRedis();
  keys = [await generateAuditKey()];
});
afterAll(() => redis.stop());
beforeEach(async () => {
  await redis.client().flushall();
  dir = mkdtempSync(join(tmpdir(), 'cardauth-retention-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * As the app user, with a frozen clock: 3 records 30 days ago (checkpoint at 3), 2 records 20 days
 * ago (checkpoint at 5), 3 records 5 days ago (checkpoint at 8), 1 record now. After each record an
 * entry in an index stream with the record's id, as the indexer writes them (the stream listed
 * in `audit:ix:keys` first).
 */
async function seed(afterPhase?: () => Promise<void>): Promise<void> {
  let now = 0;
  const clock = { now: () => now };
  const app = as('cardauth');
  const log = createAuditLog({ redis: app, clock });
  const cp = createCheckpointWriter({ redis: app, clock, keys });
  await app.xadd('audit:ix:keys', '*', 'k', 'audit:ix:login:user');
  let n = 0;
  for (const [daysAgo, count] of [[30, 3], [20, 2], [5, 3], [0, 1]] as const) {
    now = NOW - daysAgo * DAY;
    for (let i = 0; i < count; i++) {
      await log.append({ type: 'session.created', outcome: 'success', subject: { login: `user${++n}` } });
      const [[id]] = (await app.xrevrange('audit:log', '+', '-', 'COUNT', 1)) as [[string, string[]]];
      await app.xadd('audit:ix:login:user', id, 'seq', String(n));
    }
    if (daysAgo > 0) await cp.write();
    await afterPhase?.();
  }
  await redis.client().set('audit:ix:not-a-stream', 'x');
}

const retention = (over: Partial<RetentionDeps> = {}) => {
  const archivist = over.redis ?? as('cardauth-archivist');
  const log = createAuditLog({ redis: archivist as Redis, clock: { now: () => NOW } });
  return createRetention({ redis: archivist, clock: { now: () => NOW }, keys, days: 10, dir, record: (e) => log.append({ ...e, actor: 'os:test' }), ...over });
};
const seqs = async (key = 'audit:log') => (await redis.client().xrange(key, '-', '+')).map(([, f]) => (key === 'audit:log' ? (JSON.parse(f[1]!) as { seq: number }).seq : Number(f[1])));
const archiveFiles = () => readdirSync(dir).sort();
const archivedSeqs = (path: string) =>
  gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.startsWith('{"r"'))
    .map((l) => (JSON.parse((JSON.parse(l) as { r: string }).r) as { seq: number }).seq);

describe('audit retention (retain 10 days)', () => {
  it('archives exactly the records older than the cutoff, verifies the archive offline, trims the streams as the archivist; the live chain verifies from its anchor', async () => {
    await seed();
    const stored = await redis.client().xrange('audit:log', '-', '+');
    const r = await retention().run();
    expect(r).toMatchObject({ status: 'archived', seal: { fromSeq: 1, toSeq: 5, count: 5, archive: 'audit-000000000001-000000000005.jsonl.gz' }, trimmed: { log: 5, checkpoints: 2, others: 5 } });
    if (r.status !== 'archived') throw new Error('not archived');
    expect(archiveFiles()).toEqual(['audit-000000000001-000000000005.jsonl.gz', 'audit-000000000001-000000000005.jsonl.gz.jws']);
    // The archive holds the records as stored, and nothing newer than the cutoff.
    const lines = gunzipSync(readFileSync(r.path)).toString('utf8').split('\n');
    expect(lines.slice(1, 6)).toEqual(stored.slice(0, 5).map(([, f]) => JSON.stringify({ r: f[1], h: f[3] })));
    expect(await verifyArchiveFile(r.path, keys.map(({ d: _d, ...pub }) => pub))).toMatchObject({ ok: true, seal: { fromSeq: 1, toSeq: 5 }, chain: { ok: true, checkpoints: { count: 3 } } });
    // The stream keeps seq 6.. and the run's own record; the other streams lose the same span.
    expect(await seqs()).toEqual([6, 7, 8, 9, 10]);
    expect(await seqs('audit:ix:login:user')).toEqual([6, 7, 8, 9]);
    expect(await redis.client().get('audit:ix:not-a-stream')).toBe('x');
    expect((await redis.client().xrange('audit:checkpoints', '-', '+')).length).toBe(1);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: true, count: 10, anchor: { seq: 5, archive: r.seal.archive }, checkpoints: { unprotected: 2 } });
    const rec = (await auditRecords(redis.client(), 'audit.archived'))[0];
    expect(rec).toMatchObject({ outcome: 'success', details: { archive: r.seal.archive, sha256: r.seal.sha256, fromSeq: 1, toSeq: 5, count: 5, cutoff: new Date(NOW - 10 * DAY).toISOString(), trimmedLog: 5 } });
    // A second run finds nothing more due.
    expect(await retention().run()).toMatchObject({ status: 'nothing' });
    // The next run archives from the anchor on: seq 6..8 once 5 days is the limit; the head stays.
    const next = await retention({ days: 1 }).run();
    expect(next).toMatchObject({ status: 'archived', seal: { fromSeq: 6, toSeq: 8, prevHash: r.seal.lastHash } });
    expect(await seqs()).toEqual([9, 10, 11]);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: true, count: 11, anchor: { seq: 8 } });
  });

  it('cuts at a whole record before the first newer one: an older-dated record after it (another node\'s clock) is not archived', async () => {
    let now = 0;
    const log = createAuditLog({ redis: as('cardauth'), clock: { now: () => now } });
    for (const daysAgo of [30, 30, 5, 30, 0]) {
      now = NOW - daysAgo * DAY;
      await log.append({ type: 'session.logout', outcome: 'success' });
    }
    expect(await retention().run()).toMatchObject({ status: 'archived', seal: { fromSeq: 1, toSeq: 2 } });
    expect(await seqs()).toEqual([3, 4, 5, 6]);
  });

  it('a checkpoint a server writes between the run\'s read of the checkpoints and its trim is kept', async () => {
    let now = NOW - 30 * DAY;
    const app = as('cardauth');
    const log = createAuditLog({ redis: app, clock: { now: () => now } });
    const cp = createCheckpointWriter({ redis: app, clock: { now: () => now }, keys });
    for (let i = 0; i < 3; i++) await log.append({ type: 'session.logout', outcome: 'success' });
    await cp.write(); // at seq 3: the only checkpoint, none past the cut
    now = NOW;
    for (let i = 0; i < 2; i++) await log.append({ type: 'session.logout', outcome: 'success' });
    // The archivist's client, through which a server's checkpoint (at seq 5) lands just before the checkpoints' trim.
    const arch = as('cardauth-archivist');
    const racing = new Proxy(arch, {
      get(target, prop) {
        const xtrim = target.xtrim.bind(target) as (...a: unknown[]) => Promise<number>;
        if (prop === 'xtrim') return async (key: string, ...rest: unknown[]) => (key === 'audit:checkpoints' && (await cp.write()), xtrim(key, ...rest));
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    expect(await retention({ redis: racing }).run()).toMatchObject({ status: 'archived', seal: { toSeq: 3 }, trimmed: { checkpoints: 1 } });
    const left = await redis.client().xrange('audit:checkpoints', '-', '+');
    expect(left.map(([, f]) => claimed(f[1]!).seq)).toEqual([5]);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: true, checkpoints: { count: 1 } });
  });

  it('a broken live chain is neither archived nor trimmed: recorded as chain_broken', async () => {
    await seed();
    const [, [id]] = (await redis.client().xrange('audit:log', '-', '+', 'COUNT', 2)) as [string, string[]][];
    await redis.client().xdel('audit:log', id!);
    await expect(retention().run()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/chain is broken at seq 3 \(record_deleted\): nothing was archived or trimmed/) });
    expect(archiveFiles()).toEqual([]);
    expect(await seqs()).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await auditRecords(redis.client(), 'audit.archived')).toEqual([expect.objectContaining({ outcome: 'failure', reason: 'chain_broken', details: expect.objectContaining({ break: 'record_deleted', brokenSeq: 3 }) })]);
  });

  it('an archive folder that does not exist: nothing trimmed, recorded as archive_unwritten', async () => {
    await seed();
    await expect(retention({ dir: join(dir, 'missing') }).run()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/cannot write the archive in .*missing; nothing was trimmed/) });
    expect(await seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await redis.client().exists('audit:anchors')).toBe(0);
    expect(await auditRecords(redis.client(), 'audit.archived')).toEqual([expect.objectContaining({ outcome: 'failure', reason: 'archive_unwritten', details: expect.objectContaining({ fromSeq: 1, toSeq: 5 }) })]);
  });

  it('two runs at once: the second refuses with a usage error naming the lock, the first archives and removes the lock', async () => {
    await seed();
    const [a, b] = await Promise.allSettled([retention().run(), retention().run()]);
    expect(a).toMatchObject({ status: 'fulfilled', value: { status: 'archived', seal: { fromSeq: 1, toSeq: 5 } } });
    expect(b).toMatchObject({ status: 'rejected', reason: { code: 'usage', message: expect.stringMatching(/^audit retain: another run holds .*\.audit-retain\.lock \(since 2026-12-01T12:00:00\.000Z\); wait for it to end, or remove the file if no run is going$/) } });
    expect(archiveFiles()).toEqual(['audit-000000000001-000000000005.jsonl.gz', 'audit-000000000001-000000000005.jsonl.gz.jws']);
    expect(await seqs()).toEqual([6, 7, 8, 9, 10]);
  });

  it('a lock taken less than an hour ago refuses the run, touching nothing; one older (a crashed run) is taken over', async () => {
    await seed();
    const lock = join(dir, '.audit-retain.lock');
    writeFileSync(lock, JSON.stringify({ pid: 1, time: new Date(NOW - 59 * 60_000).toISOString() }));
    await expect(retention().run()).rejects.toMatchObject({ code: 'usage', message: expect.stringMatching(/another run holds/) });
    expect(archiveFiles()).toEqual(['.audit-retain.lock']);
    expect(await seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    writeFileSync(lock, JSON.stringify({ pid: 1, time: new Date(NOW - 61 * 60_000).toISOString() }));
    expect(await retention().run()).toMatchObject({ status: 'archived', seal: { fromSeq: 1, toSeq: 5 } });
    expect(archiveFiles()).toEqual(['audit-000000000001-000000000005.jsonl.gz', 'audit-000000000001-000000000005.jsonl.gz.jws']);
  });

  it('--dry-run says what is due and writes, anchors, trims and records nothing', async () => {
    await seed();
    expect(await retention().run({ dryRun: true })).toMatchObject({ status: 'due', fromSeq: 1, toSeq: 5, count: 5 });
    expect(archiveFiles()).toEqual([]);
    expect(await seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await redis.client().exists('audit:anchors')).toBe(0);
  });

  it('an archive edited by one byte fails offline verification', async () => {
    await seed();
    const r = await retention().run();
    if (r.status !== 'archived') throw new Error('not archived');
    const bytes = readFileSync(r.path);
    bytes[bytes.length - 10] ^= 0x01;
    writeFileSync(r.path, bytes);
    expect(await verifyArchiveFile(r.path, keys)).toEqual({ ok: false, why: 'its bytes are not the ones sealed (SHA-256 differs)' });
  });

  it('an archive damaged on disk between its write and its read-back trims nothing: removed, recorded as archive_unverified', async () => {
    await seed();
    const before = await redis.client().xrange('audit:log', '-', '+');
    const damage = ({ path }: { path: string }) => {
      const bytes = readFileSync(path);
      bytes[20] ^= 0xff;
      writeFileSync(path, bytes);
    };
    await expect(retention({ afterWrite: damage }).run()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/does not verify \(its bytes are not the ones sealed.*nothing was trimmed/) });
    expect(archiveFiles()).toEqual([]);
    expect(await redis.client().exists('audit:anchors')).toBe(0);
    expect((await redis.client().xrange('audit:log', '-', '+')).slice(0, before.length)).toEqual(before);
    expect(await seqs('audit:ix:login:user')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await auditRecords(redis.client(), 'audit.archived')).toEqual([
      expect.objectContaining({ outcome: 'failure', reason: 'archive_unverified', details: expect.objectContaining({ fromSeq: 1, toSeq: 5, why: 'its bytes are not the ones sealed (SHA-256 differs)' }) }),
    ]);
  });

  it('the app user can neither anchor nor trim; a run stopped between its anchor and its trim is finished by the next run, with no loss and no duplicate', async () => {
    await seed();
    const stored = await redis.client().xrange('audit:log', '-', '+');
    await expect(retention({ redis: as('cardauth') }).run()).rejects.toMatchObject({ code: 'audit_unavailable', message: expect.stringMatching(/XADD audit:anchors failed/) });
    expect(await redis.client().exists('audit:anchors')).toBe(0);
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'cardauth-retention-'));
    // A run that stops after its anchor: the archivist's rules without XTRIM (Redis refuses the trim).
    await redis.client().call('ACL', 'SETUSER', 'stops-before-trim', 'on', '>pw', 'resetchannels', '%R~audit:*', '-@all', '+info', '+evalsha', '+eval', '+xrange', '+xrevrange', '(~audit:anchors +xadd)');
    const stops = new Redis({ port: redis.port, username: 'stops-before-trim', password: 'pw', maxRetriesPerRequest: 1 });
    try {
      await expect(retention({ redis: stops, record: async () => undefined }).run()).rejects.toMatchObject({ code: 'audit_unavailable', message: expect.stringMatching(/XTRIM audit:log failed/) });
    } finally {
      stops.disconnect();
    }
    expect(await seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Anchored but not trimmed: the chain still verifies.
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: true, count: 9 });
    const r = await retention().run();
    expect(r).toMatchObject({ status: 'nothing', resumed: { log: 5 } });
    expect(archiveFiles()).toEqual(['audit-000000000001-000000000005.jsonl.gz', 'audit-000000000001-000000000005.jsonl.gz.jws']);
    expect(archivedSeqs(join(dir, archiveFiles()[0]!))).toEqual([1, 2, 3, 4, 5]);
    expect((await redis.client().xrange('audit:log', '-', '+')).slice(0, 4)).toEqual(stored.slice(5));
    expect(await auditRecords(redis.client(), 'audit.archived')).toEqual([expect.objectContaining({ outcome: 'success', details: expect.objectContaining({ resumed: true, toSeq: 5, trimmedLog: 5 }) })]);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: true, count: 10, anchor: { seq: 5 } });
  });

  it('an anchor whose archive is not in the folder (or has another seal) trims nothing: recorded as archive_missing', async () => {
    await seed();
    const stored = await redis.client().xrange('audit:log', '-', '+');
    const rec = (i: number) => JSON.parse(stored[i - 1]![1][1]!) as { ts: string };
    const h3 = stored[2]![1][3]!;
    const t = new Date(NOW).toISOString();
    // Signed with the audit key, appended with the archivist's login, but no archive of 1..3 written.
    const seal = { archive: archiveName(1, 3), sha256: 'a'.repeat(64), fromSeq: 1, toSeq: 3, count: 3, prevHash: GENESIS_PREV, lastHash: h3, cutoff: rec(3).ts, time: t };
    await as('cardauth-archivist').xadd('audit:anchors', '*', 'jws', await signSeal(keys[0]!, seal));
    await expect(retention().run()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/archive audit-000000000001-000000000003\.jsonl\.gz that anchor seq 3 names does not verify .*nothing was trimmed/) });
    // An archive of that name, but not the one the anchor seals (another run's, with its own seal).
    expect(archiveFiles()).toEqual([]);
    await writeArchive(redis.client(), { dir, key: keys[0]!, fromSeq: 1, toSeq: 3, prevHash: GENESIS_PREV, lastHash: h3, cutoff: rec(3).ts, time: new Date(NOW - DAY).toISOString() });
    await expect(retention().run()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/\(its seal is not the anchor's\); nothing was trimmed/) });
    expect((await redis.client().xrange('audit:log', '-', '+')).slice(0, stored.length)).toEqual(stored);
    expect(await seqs('audit:ix:login:user')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await auditRecords(redis.client(), 'audit.archived')).toEqual([
      expect.objectContaining({ outcome: 'failure', reason: 'archive_missing', details: expect.objectContaining({ archive: archiveName(1, 3), toSeq: 3, why: expect.stringMatching(/cannot read it/) }) }),
      expect.objectContaining({ outcome: 'failure', reason: 'archive_missing', details: expect.objectContaining({ why: "its seal is not the anchor's" }) }),
    ]);
  });

  it('a run stopped after writing its archive, before anchoring it, is done again by the next run: one archive, no loss, no duplicate', async () => {
    await seed();
    const crash = () => {
      throw new Error('crash');
    };
    await expect(retention({ afterWrite: crash }).run()).rejects.toThrow('crash');
    expect(await seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Later, more is due (20 days ago and 5 days ago): the leftover of the stopped run is replaced.
    const r = await retention({ days: 1 }).run();
    expect(r).toMatchObject({ status: 'archived', seal: { fromSeq: 1, toSeq: 8 } });
    expect(archiveFiles()).toEqual(['audit-000000000001-000000000008.jsonl.gz', 'audit-000000000001-000000000008.jsonl.gz.jws']);
    expect(archivedSeqs(join(dir, archiveFiles()[0]!))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await seqs()).toEqual([9, 10]);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: true, count: 10 });
  });
});

describe('audit retention beside the intake and the indexer', () => {
  const event = (login: string) => ({ type: 'session.created', outcome: 'success', subject: { login } }) as const;
  /** An event another node left in the intake, as the log writes it (`e`: the event, `t`: its time). */
  const leave = (app: Redis, login: string, now: number) => app.xadd('audit:intake', '*', 'r', JSON.stringify({ ...event(login), ts: new Date(now).toISOString() }));

  it('trims the intake up to the last archived record\'s cursor only: entries past it (one still waiting) stay, and are chained once', async () => {
    let now = NOW - 30 * DAY;
    const app = as('cardauth');
    const log = createAuditLog({ redis: app, clock: { now: () => now } });
    const old1 = await leave(app, 'old1', now);
    const old2 = await leave(app, 'old2', now);
    await log.append(event('old3')); // chains old1, old2, then itself (sealed after them: its record carries old2's entry as the cursor)
    now = NOW;
    const new1 = await leave(app, 'new1', now);
    await log.append(event('new2'));
    const waiting = await leave(app, 'new3', now); // not chained yet
    await createCheckpointWriter({ redis: app, clock: { now: () => now }, keys }).write();
    const logins = async () => (await redis.client().xrange('audit:log', '-', '+')).map(([, f]) => (JSON.parse(f[1]!) as { subject?: { login?: string } }).subject?.login);
    expect(await logins()).toEqual(['old1', 'old2', 'old3', 'new1', 'new2']);

    // How far the last record to be archived (seq 3) had taken the intake.
    const cursor3 = (JSON.parse((await redis.client().xrange('audit:log', '-', '+'))[2]![1][1]!) as { intake: string }).intake;
    const before = (await redis.client().xrange('audit:intake', '-', '+')).map(([id]) => id);
    const atOrAfter = (id: string) => {
      const [a, b] = id.split('-').map(BigInt) as [bigint, bigint];
      const [c, d] = cursor3.split('-').map(BigInt) as [bigint, bigint];
      return a > c || (a === c && b >= d);
    };
    expect(cursor3).toBe(old2);
    expect(before.filter((id) => !atOrAfter(id))).toEqual([old1]);

    const r = await retention().run();
    expect(r).toMatchObject({ status: 'archived', seal: { fromSeq: 1, toSeq: 3 } });
    const intake = (await redis.client().xrange('audit:intake', '-', '+')).map(([id]) => id);
    // The entries before the cursor went (old1); the cursor's (old2) and every later one stayed,
    // the waiting one among them; then the run's own record's entry.
    const kept = before.filter(atOrAfter);
    expect(kept).toContain(cursor3);
    expect(kept).toEqual(expect.arrayContaining([new1, waiting]));
    expect(intake.slice(0, kept.length)).toEqual(kept);
    expect(intake).not.toContain(old1);
    // The waiting entry is chained by the next append, once; the run's own record too.
    await log.append(event('new4'));
    expect(await logins()).toEqual(['new1', 'new2', 'new3', undefined, 'new4']);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: true, anchor: { seq: 3 } });
  });

  it("keeps the indexer's cursor and each day's totals (their last entry), so the chart still counts archived days and nothing is indexed twice", async () => {
    const app = as('cardauth');
    const indexer = createAuditIndexer({ redis: app });
    // Indexed as a server does, as the records come: each day's totals are written with the ids of their day's records.
    await seed(async () => {
      while ((await indexer.step()) > 0);
    });
    const q = createAuditQueryService({ redis: app });
    const range = [NOW - 31 * DAY, NOW + DAY] as const;
    const before = await q.days(...range);
    expect(before.reduce((n, d) => n + d.logins, 0)).toBe(9);

    expect(await retention().run()).toMatchObject({ status: 'archived', seal: { toSeq: 5 } });
    expect(await redis.client().xlen('audit:ix:cursor')).toBe(1);
    while ((await indexer.step()) > 0); // indexes the run's own record
    const after = await q.days(...range);
    expect(after).toEqual(before); // audit.archived is no login, failure or lockout
    expect(await redis.client().exists('audit:ix:keys')).toBe(1);
    // The archived records left the indexes; the kept ones are found.
    expect((await q.page({ login: 'user1' }, { limit: 5 })).entries).toEqual([]);
    expect((await q.page({ login: 'user6' }, { limit: 5 })).entries.map((e) => e.record.seq)).toEqual([6]);
  });
});

describe('audit retention finds the index streams in audit:ix:keys (the archivist may not SCAN)', () => {
  it('trims every index stream listed, past the first page of the list: the others before the first record kept, a day\'s totals to their last entry; the list itself is kept, and a listed key outside audit:ix: is left alone', async () => {
    await seed();
    const c = redis.client();
    const ids = (await c.xrange('audit:log', '-', '+')).map(([id]) => id);
    // 1000 more listed streams (with the seed's, past one page of 1000), each with an archived
    // record's entry (seq 1) and a kept one's (seq 7); a day's totals written at seq 1 and 2.
    const streams = Array.from({ length: 1000 }, (_, i) => `audit:ix:ws:w${i}`);
    const day = dayKey('2026-11-01');
    const write = c.pipeline();
    for (const key of streams) write.xadd('audit:ix:keys', '*', 'k', key).xadd(key, ids[0]!, 'x', '').xadd(key, ids[6]!, 'x', '');
    write.xadd('audit:ix:keys', '*', 'k', day).xadd(day, ids[0]!, 'l', '1', 'f', '0', 'k', '0').xadd(day, ids[1]!, 'l', '2', 'f', '0', 'k', '0');
    await write.exec();
    // What the app user (who may append to the list) could list to stop retention: keys the archivist may not trim.
    for (const key of ['audit:anchors', 'sess:x']) await as('cardauth').xadd('audit:ix:keys', '*', 'k', key);

    expect(await retention().run()).toMatchObject({ status: 'archived', seal: { toSeq: 5 }, trimmed: { others: 5 + 1000 + 1 } });
    const left = c.pipeline();
    for (const key of streams) left.xrange(key, '-', '+');
    expect((await left.exec())!.map(([, entries]) => (entries as [string][]).map(([id]) => id))).toEqual(streams.map(() => [ids[6]]));
    expect(await seqs('audit:ix:login:user')).toEqual([6, 7, 8, 9]);
    expect((await c.xrange(day, '-', '+')).map(([id]) => id)).toEqual([ids[1]]);
    expect(await c.xlen('audit:ix:keys')).toBe(1004);
    expect(await c.xlen('audit:anchors')).toBe(1);
  });
});

describe('audit verify after a trim', () => {
  it('deleting the first record left after a trim is a record deleted', async () => {
    await seed();
    await retention().run();
    const [[firstId]] = (await redis.client().xrange('audit:log', '-', '+', 'COUNT', 1)) as [[string, string[]]];
    await redis.client().xdel('audit:log', firstId);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: false, firstBroken: { kind: 'record_deleted', reason: 'seq_gap', seq: 7 } });
  });

  it('a trim with no anchor (XTRIM by hand) is a record deleted at the start; with keys or without', async () => {
    await seed();
    await as('cardauth-archivist').xtrim('audit:log', 'MAXLEN', 4);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: false, firstBroken: { kind: 'record_deleted', reason: 'seq_gap', seq: 6 } });
    expect(await verifyAuditChain({ redis: redis.client() })).toMatchObject({ ok: false, firstBroken: { kind: 'record_deleted', reason: 'seq_gap', seq: 6 } });
  });

  it('an anchor not signed by the audit key (written with the archivist\'s Redis login, not the key) is a forgery', async () => {
    await seed();
    const r = await retention().run();
    if (r.status !== 'archived') throw new Error('not archived');
    const forged = await signSeal(await generateAuditKey(), { ...r.seal, toSeq: 6, count: 6 });
    await as('cardauth-archivist').xadd('audit:anchors', '*', 'jws', forged);
    expect(await verifyAuditChain({ redis: redis.client(), checkpointKeys: keys })).toMatchObject({ ok: false, firstBroken: { kind: 'checkpoint_forged', reason: 'unknown_kid', seq: 6 } });
  });
});
