import type Redis from 'ioredis';
import { CardauthError } from '../errors';
import type { AuditHead } from './log';
import { fromStreamFields, GENESIS_PREV, sameHash } from './record';

/** Why a record breaks the chain. */
export type AuditBreak = 'hash_mismatch' | 'prev_mismatch' | 'seq_gap' | 'malformed';

/**
 * The outcome of a walk. `count` is the number of records that verified
 * (on failure: the intact prefix before `firstBroken`).
 */
export type AuditVerifyResult =
  | { ok: true; count: number; head: AuditHead | null }
  | { ok: false; count: number; firstBroken: { seq?: number; id: string; reason: AuditBreak } };

export interface AuditVerifyDeps {
  redis: Pick<Redis, 'xrange'>;
  /** The stream key. Default `audit:log`. */
  key?: string;
  /** Entries read per XRANGE. Default 1000. */
  batch?: number;
}

/**
 * Walks the audit stream from the first entry and checks, for each record in
 * this order:
 *
 * - `malformed`: not exactly the fields `r`, `h`; `r` not JSON or missing
 *   `v`, `seq`, `ts`, `prev`, `type`, `outcome`; `h` not 64 hex digits;
 * - `hash_mismatch`: `r` is not, byte for byte, the canonical JSON of its
 *   own value, or `h` is not its hash (a field was edited, or the text
 *   rewritten: whitespace, key order, escapes, a duplicate key);
 * - `seq_gap`: `seq` is not one more than the last good record's (a record
 *   deleted, reordered or inserted);
 * - `prev_mismatch`: `prev` is not the last good record's hash (a record
 *   edited and re-hashed, or forged, before this one).
 *
 * It stops at the first broken record.
 *
 * Not detected here: records deleted from the end (or the whole stream),
 * and a tail rewritten consistently by someone with write access, since the
 * chain carries no secret. Signed checkpoints of the head cover both (a
 * later issue).
 *
 * Redis errors reject with `audit_unavailable`. Needs Redis ≥ 6.2
 * (exclusive XRANGE start).
 *
 * @example
 * const r = await verifyAuditChain({ redis });
 * if (!r.ok) console.error(`audit chain broken at ${r.firstBroken.id}: ${r.firstBroken.reason}`);
 */
export async function verifyAuditChain({ redis, key = 'audit:log', batch = 1000 }: AuditVerifyDeps): Promise<AuditVerifyResult> {
  if (!redis || typeof redis.xrange !== 'function') throw new TypeError('verifyAuditChain: redis must be an ioredis client');
  if (!Number.isSafeInteger(batch) || batch < 1 || batch > 100_000) throw new TypeError('verifyAuditChain: batch must be an integer 1..100000');

  let count = 0;
  let prev = GENESIS_PREV;
  let head: AuditHead | null = null;
  let start = '-';
  for (;;) {
    let entries: [string, string[]][];
    try {
      entries = await redis.xrange(key, start, '+', 'COUNT', batch);
    } catch (e) {
      throw new CardauthError('audit_unavailable', 'audit read failed', { cause: e });
    }
    for (const [id, fields] of entries) {
      const d = fromStreamFields(fields);
      const broken = (reason: AuditBreak): AuditVerifyResult => ({
        ok: false,
        count,
        firstBroken: { ...(d.seq === undefined ? {} : { seq: d.seq }), id, reason },
      });
      if (!d.ok) return broken('malformed');
      if (!d.intact) return broken('hash_mismatch');
      if (d.seq !== count + 1) return broken('seq_gap');
      if (!sameHash(d.prev, prev)) return broken('prev_mismatch');
      count += 1;
      prev = d.hash;
      head = { seq: d.seq, hash: d.hash };
    }
    const last = entries[entries.length - 1];
    if (!last || entries.length < batch) return { ok: true, count, head };
    start = `(${last[0]}`;
  }
}
