import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import type Redis from 'ioredis';
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };
import { CardauthError } from '../errors';
import { stageWhole, writeWhole } from '../write-whole';
import { coveringCheckpoints, rangeCheckpointLine, rangeHeader, rangeRecordLine, readRange } from './export-range';
import { archiveName, checkSeal, sealPathOf, signSeal, type ArchiveSeal } from './retention-seal';
import type { AuditVerifyResult } from './verify';
import { verifyRangeExport } from './verify-export';

/**
 * An audit archive: a range export (export-range.ts) of `fromSeq..toSeq`, gzip-compressed, as
 * `audit-FROM-TO.jsonl.gz`, with its seal (retention-seal.ts) beside it as `….jsonl.gz.jws`.
 * Both are written whole (a temp file, fsync, rename, then the folder fsynced), so a crash
 * leaves the whole file or none.
 */

/**
 * Writes the archive of `fromSeq..toSeq` of the stream into `dir`, with the checkpoints that
 * cover it, and its seal signed with `key`. A file of the same name (a run that stopped before
 * anchoring it) is replaced.
 *
 * @example
 * const { path, seal } = await writeArchive(redis, { dir, key: keys[0], fromSeq: 1, toSeq: 1200, prevHash: GENESIS_PREV, lastHash, cutoff, time });
 */
export async function writeArchive(
  redis: Pick<Redis, 'xrange'>,
  a: { dir: string; key: JWK; fromSeq: number; toSeq: number; prevHash: string; lastHash: string; cutoff: string; time: string },
): Promise<{ path: string; sealPath: string; seal: ArchiveSeal; jws: string }> {
  const name = archiveName(a.fromSeq, a.toSeq);
  const path = join(a.dir, name);
  const file = stageWhole(path, { mode: 0o600 });
  const sha = createHash('sha256');
  try {
    async function* lines() {
      yield rangeHeader(a.fromSeq, a.toSeq);
      for await (const fields of readRange(redis, a.fromSeq, a.toSeq)) yield rangeRecordLine(fields);
      for (const jws of await coveringCheckpoints(redis, a.fromSeq, a.toSeq)) yield rangeCheckpointLine(jws);
    }
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        try {
          file.write(chunk);
          sha.update(chunk);
          done();
        } catch (err) {
          done(err as Error);
        }
      },
    });
    await pipeline(Readable.from(lines()), createGzip(), sink);
    file.commit();
  } finally {
    file.discard();
  }
  const seal: ArchiveSeal = { archive: name, sha256: sha.digest('hex'), fromSeq: a.fromSeq, toSeq: a.toSeq, count: a.toSeq - a.fromSeq + 1, prevHash: a.prevHash, lastHash: a.lastHash, cutoff: a.cutoff, time: a.time };
  const jws = await signSeal(a.key, seal);
  const sealPath = sealPathOf(path);
  writeWhole(sealPath, `${jws}\n`, { mode: 0o600 });
  syncDir(a.dir);
  return { path, sealPath, seal, jws };
}

/** Flushes a folder, so the renames into it survive a crash of the machine. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** An archive checked: its seal (and the key that made it) and its chain; or why it fails, with the chain's first break when that is why. */
export type ArchiveCheck =
  | { ok: true; kid: string; seal: ArchiveSeal; chain: AuditVerifyResult & { ok: true } }
  | { ok: false; why: string; chain?: AuditVerifyResult & { ok: false } };

/**
 * Verifies an archive from its bytes and its seal, with public keys, offline: the seal's
 * signature, the SHA-256 of the bytes it signed, then, gunzipped, the range export as `audit
 * verify --file` checks one (each record's hash, the links, the checkpoints in it), its first
 * record linking to the sealed `prevHash`, and the range and last hash being the sealed ones.
 *
 * @example
 * const r = await verifyArchive(readFileSync(path), readFileSync(`${path}.jws`, 'utf8'), keys);
 */
export async function verifyArchive(gz: Buffer, jws: string, keys: readonly JWK[]): Promise<ArchiveCheck> {
  const s = await checkSeal('seal', jws.trim(), keys);
  if (!s.ok) return { ok: false, why: `its seal does not verify (${s.fault})` };
  const { seal } = s;
  if (createHash('sha256').update(gz).digest('hex') !== seal.sha256) return { ok: false, why: 'its bytes are not the ones sealed (SHA-256 differs)' };
  let text: string;
  try {
    text = gunzipSync(gz).toString('utf8');
  } catch {
    return { ok: false, why: 'it is not gzip' };
  }
  let chain: Awaited<ReturnType<typeof verifyRangeExport>>;
  try {
    chain = await verifyRangeExport(text, keys, { prev: seal.prevHash });
  } catch (err) {
    if (err instanceof CardauthError && err.code === 'usage') return { ok: false, why: err.message };
    throw err;
  }
  if (!chain.ok) return { ok: false, why: 'its chain is broken', chain };
  if (chain.fromSeq !== seal.fromSeq || chain.toSeq !== seal.toSeq || chain.head?.hash !== seal.lastHash) return { ok: false, why: 'it does not hold the range its seal names' };
  return { ok: true, kid: s.kid, seal, chain };
}

/**
 * Reads an archive and its seal (`PATH.jws`) back from disk and verifies them ({@link verifyArchive}).
 * A file that cannot be read is a failure, not an error. `bytes`: the archive's, when the caller
 * has read them already (`audit verify --file`, to tell an archive from an export): not read again.
 *
 * @example
 * const r = await verifyArchiveFile('/var/lib/cardauth/archive/audit-000000000001-000000001200.jsonl.gz', keys);
 */
export async function verifyArchiveFile(path: string, keys: readonly JWK[], { bytes }: { bytes?: Buffer } = {}): Promise<ArchiveCheck> {
  let gz: Buffer;
  let jws: string;
  try {
    gz = bytes ?? readFileSync(path);
    jws = readFileSync(sealPathOf(path), 'utf8');
  } catch (err) {
    return { ok: false, why: `cannot read it or its seal ${sealPathOf(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  return verifyArchive(gz, jws, keys);
}
