import type Redis from 'ioredis';
import { guardAudit } from '../errors';
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };
import { CHECKPOINTS_KEY, readCheckpoints, type CheckedCheckpoint, type CheckpointFault } from './checkpoint';
import type { AuditHead } from './log';
import { fromStreamFields, GENESIS_PREV, sameHash } from './record';
import { ANCHORS_KEY, readAnchors, type CheckedSeal } from './retention-seal';

/** What a check found wrong, in detail: the record's own reasons, then the checkpoints'. */
export type AuditBreak =
  | 'hash_mismatch'
  | 'prev_mismatch'
  | 'seq_gap'
  | 'seq_repeated'
  | 'malformed'
  | 'head_before_checkpoint'
  | 'checkpoint_mismatch'
  | 'head_not_in_chain'
  | 'range_mismatch'
  | CheckpointFault;

/** The kind of tampering a break shows (the `audit.verified` failure reasons). */
export const AUDIT_BREAK_KINDS = ['record_edited', 'record_deleted', 'tail_truncated', 'record_inserted', 'checkpoint_forged'] as const;
export type AuditBreakKind = (typeof AUDIT_BREAK_KINDS)[number];

/**
 * The first break: its kind, the detail (`reason`), and where: the record's `seq` and stream
 * `id` (for a truncated tail, `seq` is the first missing one), and `checkpointId` when a
 * checkpoint shows it.
 */
export interface AuditBroken {
  kind: AuditBreakKind;
  reason: AuditBreak;
  seq?: number;
  id?: string;
  checkpointId?: string;
}

/**
 * Where a trimmed chain starts (retention): the signed anchor it links to, the last archived
 * `seq` and the archive holding it; `count` and the checks still count from seq 1.
 */
export interface ChainAnchor {
  seq: number;
  archive: string;
  sha256: string;
  id: string;
}

/** What the checkpoints covered: how many verified, the last, and the records after it (unprotected). */
export interface CheckpointSummary {
  count: number;
  last: { seq: number; time: string; kid: string } | null;
  unprotected: number;
}

/**
 * The outcome of a walk. `count` is the number of records that verified
 * (on failure: the intact prefix before the break). `checkpoints` is
 * undefined when no keys were given (checkpoints not checked).
 */
export type AuditVerifyResult =
  | { ok: true; count: number; head: AuditHead | null; checkpoints?: CheckpointSummary; anchor?: ChainAnchor }
  | { ok: false; count: number; firstBroken: AuditBroken };

export interface AuditVerifyDeps {
  redis: Pick<Redis, 'xrange'>;
  /** The stream key. Default `audit:log`. */
  key?: string;
  /** Entries read per XRANGE. Default 1000. */
  batch?: number;
  /** Public (or private) audit keys: the checkpoints are checked with them. None: not checked. */
  checkpointKeys?: readonly JWK[];
  /** The checkpoints stream. Default `audit:checkpoints`. */
  checkpointsKey?: string;
  /** The anchors stream (retention, retention-seal.ts). Default `audit:anchors`; read only with `checkpointKeys` and no `range`. */
  anchorsKey?: string;
  /**
   * A range of the chain (an export): its first seq and the `prev` its first record claims (which
   * nothing before it can check), and its last seq. A checkpoint past `to` is not checked against
   * the chain; a range that ends before `to` is broken (`tail_truncated`, `range_mismatch`), and one
   * with a record past `to` too (`record_inserted`, `range_mismatch`). Counts
   * stay seqs: `count` is the seq of the last intact record.
   */
  range?: { from: number; prev: string; to: number };
}

type Entry = [id: string, fields: string[]];

/**
 * Walks the audit stream from the first entry, checks each record, then the
 * checkpoints against the chain, and names the first break (the lowest seq;
 * a checkpoint whose signature fails counts at the seq it claims):
 *
 * - `record_edited`: `malformed` (not exactly the fields `r`, `h`; `r` not
 *   JSON or missing `v`, `seq`, `ts`, `prev`, `type`, `outcome`; `h` not 64
 *   hex digits); `hash_mismatch` (`r` is not, byte for byte, the canonical
 *   JSON of its own value, or `h` not its hash); `prev_mismatch` with the
 *   next record linking to this one (this record's link, or the one before
 *   it, was rewritten and re-hashed);
 * - `record_deleted`: `seq_gap`, the seq is past the next one expected;
 * - `record_inserted`: `seq_repeated`, a seq the chain already had (of two
 *   records at one seq, the one the next record does not link to is named);
 *   `prev_mismatch` on the last record, or with the next record linking past
 *   this one to the one before;
 * - `tail_truncated`: `head_before_checkpoint`, a valid checkpoint's seq is
 *   past the head (records cut from the end); `checkpoint_mismatch`, the
 *   record at a checkpoint's seq has another hash and was written after the
 *   checkpoint was signed (the tail cut and written again);
 * - `record_edited` too: `checkpoint_mismatch` with the record written
 *   before the checkpoint (the chain rewritten and re-hashed at or before
 *   that seq, consistently, so only the signature shows it);
 * - `checkpoint_forged`: `bad_signature`, `unknown_kid`,
 *   `checkpoint_malformed`; or `head_not_in_chain`: a valid signature over a
 *   hash the chain does not have at that seq, while a later checkpoint
 *   agrees with the chain (so the chain was not rewritten there).
 *
 * Speed: records are decoded without re-encoding their text (see
 * fromStreamFields); the canonical form is checked only where it can show
 * something the links cannot: the head, and the last good record before a
 * break (a record the next one links to cannot have been rewritten, since
 * its hash would differ). The next XRANGE batch is read while one is checked.
 *
 * Without `checkpointKeys` the tail after the last record is unprotected:
 * records cut from the end, and a tail rewritten consistently, pass.
 *
 * A chain trimmed by retention starts after an archive: with `checkpointKeys`, the
 * signed anchors (`audit:anchors`, retention-seal.ts) are read and the walk starts at
 * the one just below the first record (its `toSeq`, its `lastHash` as the link), so a
 * record deleted after it is `record_deleted` (`seq_gap`); a start with no valid
 * anchor below it is checked as from seq 1 (the same); an anchor that does not verify
 * is `checkpoint_forged`; a chain that ends before an anchor's seq is
 * `tail_truncated`; a record still at an anchor's seq (a trim not done yet) must
 * have the hash it signed. Without keys the anchors are not read: a trimmed chain
 * shows as `record_deleted` at its start.
 *
 * Redis errors reject with `audit_unavailable`. Needs Redis ≥ 6.2
 * (exclusive XRANGE start).
 *
 * @example
 * const r = await verifyAuditChain({ redis, checkpointKeys: readAuditKeys(file).keys });
 * if (!r.ok) console.error(`audit chain broken: ${r.firstBroken.kind} at seq ${r.firstBroken.seq}`);
 */
export async function verifyAuditChain({ redis, key = 'audit:log', batch = 1000, checkpointKeys, checkpointsKey = CHECKPOINTS_KEY, anchorsKey = ANCHORS_KEY, range }: AuditVerifyDeps): Promise<AuditVerifyResult> {
  if (!redis || typeof redis.xrange !== 'function') throw new TypeError('verifyAuditChain: redis must be an ioredis client');
  if (!Number.isSafeInteger(batch) || batch < 1 || batch > 100_000) throw new TypeError('verifyAuditChain: batch must be an integer 1..100000');
  const xrange = (start: string, count: number): Promise<Entry[]> => guardAudit(redis.xrange(key, start, '+', 'COUNT', count), 'audit read failed');

  const checked = checkpointKeys ? await readCheckpoints(redis, checkpointKeys, checkpointsKey) : [];
  const anchorsRead = checkpointKeys && !range ? await readAnchors(redis, checkpointKeys, anchorsKey) : [];
  /** Valid anchors: where a trimmed chain may start (the one just below its first record). */
  const anchors = anchorsRead.filter((a): a is Extract<CheckedSeal, { ok: true }> => a.ok);
  /** Valid anchors by the seq they pin (the last archived record). */
  const anchorPins = new Map(anchors.map((a) => [a.seal.toSeq, a]));
  /** Valid checkpoints by the seq they pin. */
  const pins = new Map<number, Extract<CheckedCheckpoint, { ok: true }>[]>();
  let forged: AuditBroken | undefined;
  for (const c of checked) {
    if (c.ok) pins.set(c.checkpoint.seq, [...(pins.get(c.checkpoint.seq) ?? []), c]);
    else if (!forged || (c.seq ?? 0) < (forged.seq ?? 0)) forged = { kind: 'checkpoint_forged', reason: c.fault, ...(c.seq === undefined ? {} : { seq: c.seq }), checkpointId: c.id };
  }
  // An anchor that does not verify is forged as a checkpoint would be; it anchors nothing.
  for (const a of anchorsRead) {
    if (!a.ok && (!forged || (a.seq ?? 0) < (forged.seq ?? 0))) forged = { kind: 'checkpoint_forged', reason: a.fault, ...(a.seq === undefined ? {} : { seq: a.seq }), checkpointId: a.id };
  }

  const chain = await walk();
  // The first break by seq; a chain break wins a tie (it names the record).
  if (forged && (chain.ok || (forged.seq ?? 0) < (chain.firstBroken.seq ?? 0))) {
    return { ok: false, count: forged.seq === undefined ? chain.count : Math.min(chain.count, forged.seq - 1), firstBroken: forged };
  }
  return chain;

  async function walk(): Promise<AuditVerifyResult> {
    let count = range ? range.from - 1 : 0;
    let prev = range?.prev ?? GENESIS_PREV;
    let head: AuditHead | null = null;
    let anchor: Extract<CheckedSeal, { ok: true }> | undefined;
    /** The first checkpoint the chain disagrees with, and whether a later one agrees. */
    let disagreed: { at: AuditVerifyResult & { ok: false }; written: number; signed: number; laterAgrees: boolean } | undefined;
    let lastPrev = GENESIS_PREV;
    let lastId = '';
    let lastFields: readonly string[] | undefined;
    /**
     * The last good record, when its text is not canonical (checked only here: a record the
     * next one links to cannot have been rewritten, its hash would differ).
     */
    const rewrittenLast = (): AuditVerifyResult | undefined => {
      const d = lastFields && fromStreamFields(lastFields);
      return d?.ok && !d.intact ? { ok: false, count: count - 1, firstBroken: { kind: 'record_edited', reason: 'hash_mismatch', seq: d.seq, id: lastId } } : undefined;
    };
    /** A chain break, unless an earlier one shows: a checkpoint disagreed, or the last good record was rewritten. */
    const stop = (r: AuditVerifyResult & { ok: false }): AuditVerifyResult => (disagreed ? verdictOf(disagreed) : (rewrittenLast() ?? r));
    const verdictOf = (m: NonNullable<typeof disagreed>): AuditVerifyResult => {
      // A record written after the checkpoint signed: the tail was cut and written again. Else
      // the chain was rewritten and re-hashed at or before it; unless a later checkpoint agrees
      // with the chain, which makes this one the odd one out.
      const kind: AuditBreakKind = m.written > m.signed ? 'tail_truncated' : m.laterAgrees ? 'checkpoint_forged' : 'record_edited';
      return { ...m.at, firstBroken: { ...m.at.firstBroken, kind, reason: kind === 'checkpoint_forged' ? 'head_not_in_chain' : 'checkpoint_mismatch' } };
    };
    let reading = xrange('-', batch);
    for (;;) {
      const entries = await reading;
      // The next batch is read while this one is checked (a break that returns early leaves it unread).
      const tail = entries[entries.length - 1];
      const more = tail !== undefined && entries.length === batch;
      if (more) {
        reading = xrange(`(${tail[0]}`, batch);
        reading.catch(() => undefined);
      }
      /** The record after entry `i`, read. */
      const peek = async (i: number) => {
        const next = entries[i + 1] ?? (await xrange(`(${(entries[i] as Entry)[0]}`, 1))[0];
        return next ? fromStreamFields(next[1], { canonical: false }) : undefined;
      };
      for (let i = 0; i < entries.length; i++) {
        const [id, fields] = entries[i] as Entry;
        const d = fromStreamFields(fields, { canonical: false });
        if (!head && !range && d.seq !== undefined && anchors.length > 0) {
          // A trimmed chain starts at the anchor just below its first record: a record missing
          // after it is a gap, as is a start with no signed anchor (checked as at seq 1).
          const below = d.seq;
          anchor = anchors.reduce<typeof anchor>((best, a) => (a.seal.toSeq < below && (!best || a.seal.toSeq > best.seal.toSeq) ? a : best), undefined);
          if (anchor) {
            count = anchor.seal.toSeq;
            prev = anchor.seal.lastHash;
          }
        }
        const broken = (kind: AuditBreakKind, reason: AuditBreak, more: Partial<AuditBroken> = {}) => ({
          ok: false as const,
          count,
          firstBroken: { kind, reason, ...(d.seq === undefined ? {} : { seq: d.seq }), id, ...more },
        });
        if (!d.ok) return stop(broken('record_edited', 'malformed'));
        if (!d.intact) return stop(broken('record_edited', 'hash_mismatch'));
        if (range && d.seq > range.to) return stop(broken('record_inserted', 'range_mismatch'));
        if (d.seq > count + 1) return stop(broken('record_deleted', 'seq_gap'));
        if (d.seq < count + 1) {
          // Two records at one seq, linking to the same one before: the one the next record
          // links to is the chain's, so the other was inserted.
          const n = d.seq === count && sameHash(d.prev, lastPrev) ? await peek(i) : undefined;
          if (n?.ok && sameHash(n.prev, d.hash)) return stop({ ok: false, count: count - 1, firstBroken: { kind: 'record_inserted', reason: 'seq_repeated', seq: count, id: lastId } });
          return stop(broken('record_inserted', 'seq_repeated'));
        }
        if (!sameHash(d.prev, prev)) {
          // The next record linking past this one (or none after it): this one was put in.
          const n = await peek(i);
          const skipsIt = !n || (n.ok && sameHash(n.prev, prev));
          return stop(broken(skipsIt ? 'record_inserted' : 'record_edited', 'prev_mismatch'));
        }
        const pinnedBy = anchorPins.get(d.seq);
        if (pinnedBy && !sameHash(pinnedBy.seal.lastHash, d.hash)) return stop(broken('record_edited', 'checkpoint_mismatch', { checkpointId: pinnedBy.id }));
        for (const pin of pins.get(d.seq) ?? []) {
          if (!sameHash(pin.checkpoint.headHash, d.hash)) {
            disagreed ??= { at: broken('record_edited', 'checkpoint_mismatch', { checkpointId: pin.id }), written: Date.parse(d.record.ts), signed: Date.parse(pin.checkpoint.time), laterAgrees: false };
          } else if (disagreed && d.seq > (disagreed.at.firstBroken.seq ?? 0)) {
            disagreed.laterAgrees = true;
          }
        }
        count += 1;
        lastPrev = d.prev;
        lastId = id;
        lastFields = fields;
        prev = d.hash;
        head = { seq: d.seq, hash: d.hash };
      }
      if (!more) break;
    }
    if (disagreed) return verdictOf(disagreed);
    const altered = rewrittenLast();
    if (altered) return altered;
    const valid = checked.filter((c): c is Extract<CheckedCheckpoint, { ok: true }> => c.ok);
    const end = range?.to ?? Infinity;
    const past = valid.find((c) => c.checkpoint.seq > count && c.checkpoint.seq <= end);
    if (past) return { ok: false, count, firstBroken: { kind: 'tail_truncated', reason: 'head_before_checkpoint', seq: count + 1, checkpointId: past.id } };
    const pastAnchor = anchors.find((a) => a.seal.toSeq > count);
    if (pastAnchor) return { ok: false, count, firstBroken: { kind: 'tail_truncated', reason: 'head_before_checkpoint', seq: count + 1, checkpointId: pastAnchor.id } };
    if (count < end && range) return { ok: false, count, firstBroken: { kind: 'tail_truncated', reason: 'range_mismatch', seq: count + 1 } };
    if (!checkpointKeys) return { ok: true, count, head };
    const top = valid.reduce<Extract<CheckedCheckpoint, { ok: true }> | undefined>((a, c) => (c.checkpoint.seq <= count && (!a || c.checkpoint.seq > a.checkpoint.seq) ? c : a), undefined);
    const last = top ? { seq: top.checkpoint.seq, time: top.checkpoint.time, kid: top.kid } : null;
    // Records up to the anchor are protected by it (and by the archive's seal).
    const protectedTo = Math.max(last?.seq ?? 0, anchor?.seal.toSeq ?? 0);
    const anchored = anchor ? { anchor: { seq: anchor.seal.toSeq, archive: anchor.seal.archive, sha256: anchor.seal.sha256, id: anchor.id } } : {};
    return { ok: true, count, head, checkpoints: { count: valid.length, last, unprotected: count - protectedTo }, ...anchored };
  }
}
