import type Redis from 'ioredis';
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };
import { z } from 'zod';
import { guardAudit } from '../errors';
import { auditVerifier, checkSigned, claimed, signAudit, type CheckpointFault } from './checkpoint';

/**
 * The seal of an audit archive (retention, docs/audit-retention.md): what one archive holds,
 * signed with the audit key (JWS, EdDSA, with its `kid`, `typ` {@link ARCHIVE_TYP}). The same
 * JWS is written next to the archive (`NAME.jws`) and, once the archive has been read back and
 * verified, appended to `audit:anchors`: there it is the anchor the live chain starts from after
 * the stream was trimmed (its first record must be `toSeq + 1`, linking to `lastHash`).
 */

/** The append-only stream of anchors (field `jws`). */
export const ANCHORS_KEY = 'audit:anchors';
/** The `typ` of an archive's seal, so no other JWS of the audit key passes as one. */
const ARCHIVE_TYP = 'cardauth-audit-archive';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const seq = z.number().int().positive();
const time = z.iso.datetime({ precision: 3 });

const sealSchema = z
  .strictObject({
    archive: z.string().regex(/^audit-\d+-\d+\.jsonl\.gz$/),
    sha256: hex64,
    fromSeq: seq,
    toSeq: seq,
    count: seq,
    prevHash: hex64,
    lastHash: hex64,
    cutoff: time,
    time,
  })
  .refine((s) => s.count === s.toSeq - s.fromSeq + 1, 'count must be the size of the range');

/**
 * What a seal signs: the archive's file name and the SHA-256 of its bytes (gzip), the seq range
 * it holds and its count, the `prev` of its first record and the hash of its last, the cutoff
 * (records with `ts` before it were due) and when it was sealed.
 */
export type ArchiveSeal = z.output<typeof sealSchema>;

/**
 * The file name of the archive of `fromSeq..toSeq` (zero-padded, so a listing sorts by seq).
 *
 * @example
 * archiveName(1, 1200) // => 'audit-000000000001-000000001200.jsonl.gz'
 */
export function archiveName(fromSeq: number, toSeq: number): string {
  return `audit-${String(fromSeq).padStart(12, '0')}-${String(toSeq).padStart(12, '0')}.jsonl.gz`;
}

/** The seal file of an archive: its path and `.jws`. */
export const sealPathOf = (archivePath: string) => `${archivePath}.jws`;

/**
 * Signs a seal with the signing audit key (the first of the key file).
 *
 * @example
 * const jws = await signSeal(keys[0], seal);
 */
export function signSeal(key: JWK, seal: ArchiveSeal): Promise<string> {
  return signAudit(key, ARCHIVE_TYP, seal);
}

/** A seal checked against the audit keys. */
export type CheckedSeal = { ok: true; id: string; kid: string; seal: ArchiveSeal } | { ok: false; id: string; fault: CheckpointFault; seq?: number };

/**
 * Checks a seal (a stored anchor, or the `.jws` beside an archive) against public keys. Never
 * throws for what it is given; a refused one keeps the `toSeq` it claims, when it can be read.
 *
 * @example
 * const s = await checkSeal('file', readFileSync(sealPathOf(path), 'utf8').trim(), keys);
 */
export async function checkSeal(id: string, jws: string, keys: readonly JWK[]): Promise<CheckedSeal> {
  const r = await checkSigned(jws, auditVerifier(keys), ARCHIVE_TYP, sealSchema);
  if (r.ok) return { ok: true, id, kid: r.kid, seal: r.payload };
  const claimedSeq = (claimed(jws) as { toSeq?: unknown }).toSeq;
  return { ok: false, id, fault: r.fault, ...(Number.isSafeInteger(claimedSeq) ? { seq: claimedSeq as number } : {}) };
}

/**
 * Reads and checks every anchor, in the order written. An entry that is not one `jws` field is
 * refused as `checkpoint_malformed`.
 *
 * @example
 * const anchors = await readAnchors(redis, keys);
 */
export async function readAnchors(redis: Pick<Redis, 'xrange'>, keys: readonly JWK[], key = ANCHORS_KEY): Promise<CheckedSeal[]> {
  const entries = await guardAudit(redis.xrange(key, '-', '+'), 'audit anchors read failed');
  const out: CheckedSeal[] = [];
  for (const [id, f] of entries) out.push(f.length === 2 && f[0] === 'jws' && f[1] ? await checkSeal(id, f[1], keys) : { ok: false, id, fault: 'checkpoint_malformed' });
  return out;
}
