import type Redis from 'ioredis';
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };
import { parseRangeExport } from './export-range';
import { fromStreamFields, GENESIS_PREV } from './record';
import { verifyAuditChain, type AuditVerifyResult } from './verify';

type Entry = [id: string, fields: string[]];

/**
 * Entries held in memory, read as XRANGE reads a stream (`-` or an exclusive `(id` start, `+`,
 * COUNT): what verifyAuditChain walks, so that a file is checked by the same walker as Redis.
 */
function entriesAsStreams(streams: Record<string, Entry[]>): Pick<Redis, 'xrange'> {
  const xrange = async (key: string, start: string, _end: string, _count?: 'COUNT', n: number | string = Infinity): Promise<Entry[]> => {
    const entries = streams[key] ?? [];
    const from = start === '-' ? 0 : entries.findIndex(([id]) => id === start.slice(1)) + 1;
    return entries.slice(from, from + Number(n));
  };
  // ioredis types xrange with its callback overloads; the walker uses only this form.
  return { xrange } as unknown as Pick<Redis, 'xrange'>;
}

/**
 * Checks a range export (export-range.ts) offline, with no Redis: each record's hash over its
 * text, the links inside the range, each checkpoint's signature (with `keys`, public ones
 * suffice) and that the record at its seq has the `headHash` it signed. The first break is named
 * as `audit verify` names it (verifyAuditChain), at `line N` of the file; a file cut short of
 * the range its first line states is `tail_truncated` (`range_mismatch`). A checkpoint past the
 * range is checked for its signature only. `count` is the number of records of the range that
 * verified; a checkpoint summary's `unprotected` counts the range's records after its last
 * checkpoint. Refuses a file that is not a range export (CardauthError `usage`). With `prev`
 * (an archive's signed `prevHash`), the first record must link to it too.
 *
 * @example
 * const r = await verifyRangeExport(readFileSync(file, 'utf8'), readPublicAuditKeys(keysFile).keys);
 */
export async function verifyRangeExport(text: string, keys?: readonly JWK[], opts: { prev?: string } = {}): Promise<AuditVerifyResult & { fromSeq: number; toSeq: number }> {
  const file = parseRangeExport(text);
  const first = file.records[0] && fromStreamFields(file.records[0][1], { canonical: false });
  const prev = opts.prev ?? (first?.ok ? first.prev : GENESIS_PREV);
  const r = await verifyAuditChain({
    redis: entriesAsStreams({ 'audit:log': file.records, 'audit:checkpoints': file.checkpoints }),
    range: { from: file.fromSeq, prev, to: file.toSeq },
    ...(keys ? { checkpointKeys: keys } : {}),
  });
  const count = Math.max(0, r.count - (file.fromSeq - 1));
  return { ...r, count, fromSeq: file.fromSeq, toSeq: file.toSeq };
}
