import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };
import type { Clock } from '../clock';
import { CardauthError, guardAudit } from '../errors';
import { CHECKPOINTS_KEY, claimed } from './checkpoint';
import { dayKey, INDEX_CURSOR_KEY, INDEX_LIST_KEY, INDEX_PREFIX } from './index-plan';
import { fromStreamFields, GENESIS_PREV, type AuditEventInput } from './record';
import { verifyArchiveFile, writeArchive } from './retention-archive';
import { takeRetentionLock } from './retention-lock';
import { ANCHORS_KEY, archiveName, readAnchors, type ArchiveSeal } from './retention-seal';
import { verifyAuditChain } from './verify';
import { DAY_MS } from '../days';

/** The stream the audit log is kept in. */
const LOG_KEY = 'audit:log';
/** Streams kept beside the log, trimmed by the same cutoff id when they exist: the intake, and the index streams (`audit:ix:*`, those `audit:ix:keys` lists). */
const INTAKE_KEY = 'audit:intake';
const DAY_PREFIX = dayKey('');
const BATCH = 1000;

/** What each trimmed stream lost, in entries. */
export interface Trimmed {
  log: number;
  checkpoints: number;
  /** `audit:intake` and every `audit:ix:*` stream together. */
  others: number;
}

export type RetentionResult =
  | { status: 'nothing'; cutoff: string; resumed?: Trimmed }
  | { status: 'due'; cutoff: string; fromSeq: number; toSeq: number; count: number; resume?: number }
  | { status: 'archived'; cutoff: string; path: string; seal: ArchiveSeal; trimmed: Trimmed; resumed?: Trimmed };

/** The record of a run: `audit.archived`, a success or a failure with its reason. */
export type ArchivedRecord = Pick<AuditEventInput, 'outcome' | 'reason' | 'details'> & { type: 'audit.archived' };

export interface RetentionDeps {
  /** Connected as the archivist (docs/redis-acl.conf): the only user allowed to trim the audit streams. */
  redis: Pick<Redis, 'xrange' | 'xrevrange' | 'xadd' | 'xtrim'>;
  clock: Clock;
  /** The private audit keys; the first signs the archives' seals (and checks the checkpoints, anchors). */
  keys: readonly JWK[];
  /** CARDAUTH_AUDIT_RETENTION_DAYS: records whose `ts` is older than this are archived. */
  days: number;
  /** CARDAUTH_AUDIT_ARCHIVE_DIR: where the archives go. */
  dir: string;
  /** Appends the run's `audit.archived` record (through the audit log). */
  record(input: ArchivedRecord): Promise<unknown>;
  /** Called once the archive and its seal are on disk, before they are read back (tests: a disk that damages them). */
  afterWrite?: (files: { path: string; sealPath: string }) => void | Promise<void>;
}

const fail = (why: string, cause?: unknown) => new CardauthError('unavailable', why, cause === undefined ? undefined : { cause });

/**
 * Retention of the audit trail (`cardauth audit retain`; docs/audit-retention.md). A run:
 *
 * 1. verifies the live chain with the keys (a broken chain is neither archived nor trimmed);
 * 2. finishes a run that stopped after anchoring: trims to the newest anchor when records at
 *    or below it are still in the stream, once the archive it names is read back from `dir` and
 *    verifies with the anchor's own seal (otherwise recorded as `archive_missing`, nothing trimmed);
 * 3. picks the records after the newest anchor whose `ts` is before now − `days`, oldest first,
 *    stopping at the first newer one and never taking the head (the chain's next record must
 *    link to something), so the cut is at a whole record and a newer record is never archived;
 * 4. writes their archive and its seal whole (replacing an unanchored one left by a stopped run),
 *    then reads both back from disk and verifies them (seal, SHA-256, chain, checkpoints, and
 *    that they hold exactly the records chosen); one that fails is removed, recorded as a
 *    failure (`archive_unverified`), and nothing is trimmed;
 * 5. appends the seal to `audit:anchors` (the anchor `audit verify` starts a trimmed chain from);
 * 6. trims, with XTRIM MINID: `audit:log` at the first record kept, `audit:checkpoints` at
 *    the first that claims a later seq, and `audit:intake` and every index stream that
 *    `audit:ix:keys` lists at the first record kept's id (an entry there takes the id of the
 *    record it is for; no SCAN: the archivist may not list Redis's keys);
 * 7. records `audit.archived`.
 *
 * A crash anywhere loses nothing: before step 5 the stream is untouched (the rerun writes the
 * archive again); after it, the anchor names a verified archive, and the rerun finishes the trim.
 * `dryRun` stops after step 3 (and writes, records and trims nothing).
 *
 * @example
 * const r = await createRetention({ redis, clock, keys, days: 365, dir, record: (e) => audit.append(e) }).run();
 */
export function createRetention(deps: RetentionDeps) {
  const { redis, clock, keys, days, dir } = deps;
  const signer = keys[0];
  if (!signer) throw new TypeError('createRetention: keys must hold the signing key');
  if (!Number.isSafeInteger(days) || days < 1) throw new TypeError('createRetention: days must be a whole number from 1');

  const call = <T>(what: string, p: Promise<T>) => guardAudit(p, `audit retention: ${what} failed`);

  /** The entries of the stream `key`, reading from the start, BATCH at a time. */
  async function* streamEntries(key: string): AsyncGenerator<[string, string[]]> {
    let start = '-';
    for (;;) {
      const batch = await call('read', redis.xrange(key, start, '+', 'COUNT', BATCH));
      yield* batch;
      if (batch.length < BATCH) return;
      start = `(${batch[batch.length - 1]![0]}`;
    }
  }

  /** The record with `seq` and its stream id, reading from the start; undefined past the head. */
  async function* entries(): AsyncGenerator<{ id: string; seq: number; hash: string; ts: number }> {
    for await (const [id, fields] of streamEntries(LOG_KEY)) {
      const d = fromStreamFields(fields, { canonical: false });
      // The chain was verified just before; a record that cannot be read now is a change since.
      if (!d.ok) throw fail(`audit retention: record ${id} cannot be read; run cardauth audit verify`);
      yield { id, seq: d.seq, hash: d.hash, ts: Date.parse(d.record.ts) };
    }
  }

  /** The stream id of the record `seq`. */
  async function idOf(seq: number): Promise<string | undefined> {
    for await (const e of entries()) if (e.seq === seq) return e.id;
    return undefined;
  }

  /**
   * Trims the log before `minId` (the first record kept), the checkpoints before the first that
   * claims a seq past `toSeq` (just past the last one read when none does), the intake up to the
   * cursor of the last record archived (every entry past it may still wait to be chained: it
   * stays), the index streams before `minId` (their entries take the records' ids), and the
   * indexer's cursor and day totals to their last entry (the current one; a day's totals stay
   * for the chart when its records are archived). The index and day streams are the ones
   * `audit:ix:keys` lists (the indexer names each there when it first writes it: the archivist
   * may not SCAN, which would show it every key name in Redis); that list is not trimmed.
   */
  async function trim(minId: string, toSeq: number): Promise<Trimmed> {
    const trimmed: Trimmed = { log: 0, checkpoints: 0, others: 0 };
    const xtrim = (key: string, id = minId) => call(`XTRIM ${key}`, redis.xtrim(key, 'MINID', id));
    // Read before the trim: the last record archived, and how far it had taken the intake.
    const [lastArchived] = await call('read', redis.xrevrange(LOG_KEY, `(${minId}`, '-', 'COUNT', 1));
    const decoded = lastArchived ? fromStreamFields(lastArchived[1], { canonical: false }) : undefined;
    const intakeCursor = decoded?.ok ? decoded.record.intake : undefined;
    trimmed.log = await xtrim(LOG_KEY);
    const checkpoints = await call('read', redis.xrange(CHECKPOINTS_KEY, '-', '+'));
    const past = checkpoints.find(([, f]) => f[0] === 'jws' && f[1] !== undefined && (claimed(f[1]).seq ?? 0) > toSeq);
    // None past toSeq: just past the last one read, so one a server adds meanwhile stays.
    const lastRead = checkpoints[checkpoints.length - 1]?.[0];
    if (past) trimmed.checkpoints = await xtrim(CHECKPOINTS_KEY, past[0]);
    else if (lastRead) trimmed.checkpoints = await xtrim(CHECKPOINTS_KEY, nextId(lastRead));
    if (intakeCursor !== undefined) trimmed.others += await xtrim(INTAKE_KEY, intakeCursor);
    const keepLast = (key: string) => call(`XTRIM ${key}`, redis.xtrim(key, 'MAXLEN', 1));
    trimmed.others += await keepLast(INDEX_CURSOR_KEY);
    const indexes = new Set<string>();
    for await (const [, f] of streamEntries(INDEX_LIST_KEY)) if (f[0] === 'k' && f[1] !== undefined) indexes.add(f[1]);
    for (const key of indexes) {
      if (!key.startsWith(INDEX_PREFIX) || key === INDEX_LIST_KEY || key === INDEX_CURSOR_KEY) continue;
      trimmed.others += key.startsWith(DAY_PREFIX) ? await keepLast(key) : await xtrim(key);
    }
    return trimmed;
  }

  /** Removes the archives of a stopped run (starting at `fromSeq`, named by no anchor) but `keep`. */
  function removeLeftovers(fromSeq: number, keep: string, anchored: ReadonlySet<string>): void {
    const prefix = archiveName(fromSeq, 0).replace(/0+\.jsonl\.gz$/, '');
    for (const f of readdirSync(dir)) {
      const archive = f.replace(/\.jws$/, '');
      if (f.startsWith(prefix) && archive !== keep && !anchored.has(archive)) rmSync(join(dir, f), { force: true });
    }
  }

  return {
    /** One run; a run (not a dry run) holds the archive folder's lock (retention-lock.ts) until it ends. */
    async run({ dryRun = false } = {}): Promise<RetentionResult> {
      const release = dryRun ? undefined : takeRetentionLock(dir, clock.now());
      try {
        return await runOnce(dryRun);
      } finally {
        release?.();
      }
    },
  };

  async function runOnce(dryRun: boolean): Promise<RetentionResult> {
    const cutoffMs = clock.now() - days * DAY_MS;
    const cutoff = new Date(cutoffMs).toISOString();
    const record = dryRun ? async () => undefined : deps.record;

    const chain = await verifyAuditChain({ redis, checkpointKeys: keys });
    if (!chain.ok) {
      const b = chain.firstBroken;
      await record({ type: 'audit.archived', outcome: 'failure', reason: 'chain_broken', details: { cutoff, break: b.kind, brokenSeq: b.seq } });
      throw fail(`audit retention: the audit chain is broken at seq ${b.seq ?? 'unknown'} (${b.kind}): nothing was archived or trimmed; run cardauth audit verify`);
    }
    const head = chain.head;
    const anchors = (await readAnchors(redis, keys)).flatMap((a) => (a.ok ? [a.seal] : []));
    const anchor = anchors.reduce<ArchiveSeal | undefined>((top, a) => (!top || a.toSeq > top.toSeq ? a : top), undefined);

    // 2. A run that stopped between its anchor and its trim: finish it.
    let resumed: Trimmed | undefined;
    const [first] = await call('read', redis.xrange(LOG_KEY, '-', '+', 'COUNT', 1));
    const firstSeq = first ? fromStreamFields(first[1], { canonical: false }).seq : undefined;
    if (anchor && firstSeq !== undefined && firstSeq <= anchor.toSeq) {
      const keepId = await idOf(anchor.toSeq + 1);
      if (!keepId) throw fail(`audit retention: the record after anchor seq ${anchor.toSeq} is missing; run cardauth audit verify`);
      if (dryRun) return { status: 'due', cutoff, fromSeq: firstSeq, toSeq: anchor.toSeq, count: anchor.toSeq - firstSeq + 1, resume: anchor.toSeq };
      // Trim only what an archive in the folder holds: the one the anchor names, verifying, with the anchor's seal.
      const check = await verifyArchiveFile(join(dir, anchor.archive), keys);
      if (!check.ok || JSON.stringify(check.seal) !== JSON.stringify(anchor)) {
        const why = check.ok ? 'its seal is not the anchor\'s' : check.why;
        await record({ type: 'audit.archived', outcome: 'failure', reason: 'archive_missing', details: { ...sealDetails(anchor), why } });
        throw fail(`audit retention: the archive ${anchor.archive} that anchor seq ${anchor.toSeq} names does not verify in ${dir} (${why}); nothing was trimmed`);
      }
      resumed = await trim(keepId, anchor.toSeq);
      await record({ type: 'audit.archived', outcome: 'success', details: { ...sealDetails(anchor), ...trimDetails(resumed), resumed: true } });
    }

    // 3. The records due, after the anchor, up to (not including) the first newer one or the head.
    const fromSeq = anchor ? anchor.toSeq + 1 : 1;
    let last: { seq: number; hash: string } | undefined;
    let keepId: string | undefined;
    for await (const e of entries()) {
      if (e.seq < fromSeq) continue;
      if (!(e.ts < cutoffMs) || e.seq === head?.seq) {
        keepId = e.id;
        break;
      }
      last = e;
    }
    if (!last || !keepId) return { status: 'nothing', cutoff, ...(resumed ? { resumed } : {}) };
    const toSeq = last.seq;
    if (dryRun) return { status: 'due', cutoff, fromSeq, toSeq, count: toSeq - fromSeq + 1 };

    // 4. Write, read back, verify.
    const prevHash = anchor?.lastHash ?? GENESIS_PREV;
    let written: Awaited<ReturnType<typeof writeArchive>>;
    try {
      removeLeftovers(fromSeq, archiveName(fromSeq, toSeq), new Set(anchors.map((a) => a.archive)));
      written = await writeArchive(redis, { dir, key: signer, fromSeq, toSeq, prevHash, lastHash: last.hash, cutoff, time: new Date(clock.now()).toISOString() });
    } catch (err) {
      if (err instanceof CardauthError) throw err;
      await record({ type: 'audit.archived', outcome: 'failure', reason: 'archive_unwritten', details: { cutoff, fromSeq, toSeq, archive: archiveName(fromSeq, toSeq) } });
      throw fail(`audit retention: cannot write the archive in ${dir}; nothing was trimmed`, err);
    }
    await deps.afterWrite?.({ path: written.path, sealPath: written.sealPath });
    const check = await verifyArchiveFile(written.path, keys);
    const same = check.ok && JSON.stringify(check.seal) === JSON.stringify(written.seal);
    if (!same) {
      const why = check.ok ? 'it holds another range than the one chosen' : check.why;
      rmSync(written.path, { force: true });
      rmSync(written.sealPath, { force: true });
      await record({ type: 'audit.archived', outcome: 'failure', reason: 'archive_unverified', details: { ...sealDetails(written.seal), why } });
      throw fail(`audit retention: the archive ${written.seal.archive} read back from disk does not verify (${why}); it was removed and nothing was trimmed`);
    }

    // 5. Anchor, 6. trim, 7. record.
    await call('XADD audit:anchors', redis.xadd(ANCHORS_KEY, '*', 'jws', written.jws));
    const trimmed = await trim(keepId, toSeq);
    await record({ type: 'audit.archived', outcome: 'success', details: { ...sealDetails(written.seal), ...trimDetails(trimmed) } });
    return { status: 'archived', cutoff, path: written.path, seal: written.seal, trimmed, ...(resumed ? { resumed } : {}) };
  }
}

/** The smallest stream id after `id` (`ms-seq`). */
function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}

/** The details of an `audit.archived` record: what the seal says. */
function sealDetails(s: ArchiveSeal): Record<string, string | number> {
  return { archive: s.archive, sha256: s.sha256, fromSeq: s.fromSeq, toSeq: s.toSeq, count: s.count, cutoff: s.cutoff };
}

/** How many entries the trim took from each stream. */
const trimDetails = (t: Trimmed) => ({ trimmedLog: t.log, trimmedCheckpoints: t.checkpoints, trimmedOthers: t.others });
