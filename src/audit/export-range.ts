import type Redis from 'ioredis';
import { CardauthError, guardAudit } from '../errors';
import { base64url } from 'jose';
import { escapeInvisible } from '../escape-invisible';
import { CHECKPOINTS_KEY, claimed } from './checkpoint';
import { fromStreamFields, STREAM_FIELD_HASH, STREAM_FIELD_RECORD } from './record';

/**
 * The verifiable export of a seq range (`cardauth audit export --from-seq/--to-seq`), JSON lines:
 *
 * 1. `{"cardauthAuditRange":1,"fromSeq":F,"toSeq":T}`;
 * 2. each stream entry with seq F..T, oldest first, as stored: `{"r":"<the record's text>","h":"<hash>"}`
 *    (an entry not of that layout: `{"fields":[…]}`), so the chain check runs on the very bytes
 *    that were hashed;
 * 3. the checkpoints that cover the range: each with seq F..T, then the first past T, if any,
 *    as `{"checkpoint":"<jws>"}`.
 *
 * Only a contiguous range can be chain-checked: a filtered export (`--type`, `--login`…) leaves
 * records out, so its links cannot hold; it keeps the older format (export-format.ts).
 * What the file cannot show alone: its first line is not signed (a range cut at the end and the
 * line edited to match shows only where a checkpoint covers the cut), and the first record's
 * `prev` has nothing before it to check against.
 */

export const RANGE_FORMAT_VERSION = 1 as const;

type Entry = [id: string, fields: string[]];

/** A range export read back: entries named `line N` (their line in the file). */
export interface RangeExport {
  fromSeq: number;
  toSeq: number;
  records: Entry[];
  checkpoints: Entry[];
}

const line = (value: unknown) => `${escapeInvisible(JSON.stringify(value))}\n`;

/** The first line. */
export function rangeHeader(fromSeq: number, toSeq: number): string {
  return line({ cardauthAuditRange: RANGE_FORMAT_VERSION, fromSeq, toSeq });
}

/** A record's line: its stream fields as stored. */
export function rangeRecordLine(fields: readonly string[]): string {
  const [rKey, r, hKey, h] = fields;
  return fields.length === 4 && rKey === STREAM_FIELD_RECORD && hKey === STREAM_FIELD_HASH ? line({ r, h }) : line({ fields });
}

/** A checkpoint's line. */
export function rangeCheckpointLine(jws: string): string {
  return line({ checkpoint: jws });
}

const read = <T>(p: Promise<T>) => guardAudit(p, 'cannot read the audit trail');

/**
 * The stream entries of seq `fromSeq..toSeq`, oldest first, as stored (a damaged one among them
 * too, so that the file shows it). Read from the start in batches (a seq is inside the record).
 *
 * @example
 * for await (const fields of readRange(redis, 1, 1000)) file.write(rangeRecordLine(fields));
 */
export async function* readRange(redis: Pick<Redis, 'xrange'>, fromSeq: number, toSeq: number, { key = 'audit:log', batch = 1000 } = {}): AsyncGenerator<string[]> {
  let start = '-';
  let inside = false;
  for (;;) {
    const entries = await read(redis.xrange(key, start, '+', 'COUNT', batch));
    for (const [, fields] of entries) {
      const seq = fromStreamFields(fields, { canonical: false }).seq;
      if (seq !== undefined && seq > toSeq) return;
      if (seq !== undefined && seq >= fromSeq) inside = true;
      if (inside) yield fields;
    }
    if (entries.length < batch) return;
    start = `(${entries[entries.length - 1]![0]}`;
  }
}

/**
 * The JWSs of the checkpoints that cover `fromSeq..toSeq` (by the seq they claim): those inside
 * it, in the order written, then the first past it.
 */
export async function coveringCheckpoints(redis: Pick<Redis, 'xrange'>, fromSeq: number, toSeq: number, key = CHECKPOINTS_KEY): Promise<string[]> {
  const all = (await read(redis.xrange(key, '-', '+'))).flatMap(([, f]) => (f[0] === 'jws' && f[1] ? [{ jws: f[1], seq: claimed(f[1]).seq }] : []));
  const seqOf = (c: { seq: unknown }) => (typeof c.seq === 'number' ? c.seq : NaN);
  const inside = all.filter((c) => seqOf(c) >= fromSeq && seqOf(c) <= toSeq);
  const after = all.filter((c) => seqOf(c) > toSeq).sort((a, b) => seqOf(a) - seqOf(b))[0];
  return [...inside, ...(after ? [after] : [])].map((c) => c.jws);
}

/** Whether each part of a compact JWS is base64url as an encoder writes it: a decoder ignores a last character's spare bits, so an edit there would otherwise go unseen. */
function canonicalParts(jws: string): boolean {
  try {
    return jws.split('.').every((p) => base64url.encode(base64url.decode(p)) === p);
  } catch {
    return false;
  }
}

const notRange = (why: string) => new CardauthError('usage', `not a range export of cardauth audit export --from-seq (${why})`);

/**
 * Reads a range export. A line that is none of the kinds above, or not byte for byte as it is
 * written, is kept as a record that cannot be read (the verify names it `malformed`); a file without the first line is refused
 * (`usage`): a filtered export cannot be chain-checked.
 */
export function parseRangeExport(text: string): RangeExport {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let head: unknown;
  try {
    head = JSON.parse(lines[0] ?? '');
  } catch {
    throw notRange('its first line is not JSON');
  }
  const h = head as { cardauthAuditRange?: unknown; fromSeq?: unknown; toSeq?: unknown } | null;
  if (h?.cardauthAuditRange !== RANGE_FORMAT_VERSION) throw notRange('no range on its first line: a filtered export cannot be chain-checked');
  const { fromSeq, toSeq } = h;
  if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(toSeq) || (fromSeq as number) < 1 || (toSeq as number) < (fromSeq as number) - 1) throw notRange('a bad range on its first line');
  if (`${lines[0]}\n` !== rangeHeader(fromSeq as number, toSeq as number)) throw notRange('its first line is not as written');
  const out: RangeExport = { fromSeq: fromSeq as number, toSeq: toSeq as number, records: [], checkpoints: [] };
  lines.slice(1).forEach((text, i) => {
    const id = `line ${i + 2}`;
    let v: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) v = parsed as Record<string, unknown>;
    } catch {
      // kept as a record that cannot be read
    }
    const keys = Object.keys(v).sort().join(',');
    const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string');
    // Each line must be, byte for byte, as written: no edit to it is meaningless.
    const asWritten = (l: string) => `${text}\n` === l;
    if (keys === 'checkpoint' && typeof v.checkpoint === 'string' && canonicalParts(v.checkpoint) && asWritten(rangeCheckpointLine(v.checkpoint))) out.checkpoints.push([id, ['jws', v.checkpoint]]);
    else if (keys === 'h,r' && typeof v.r === 'string' && typeof v.h === 'string' && asWritten(rangeRecordLine([STREAM_FIELD_RECORD, v.r, STREAM_FIELD_HASH, v.h]))) out.records.push([id, [STREAM_FIELD_RECORD, v.r, STREAM_FIELD_HASH, v.h]]);
    else if (keys === 'fields' && strings(v.fields) && asWritten(rangeRecordLine(v.fields))) out.records.push([id, v.fields]);
    else out.records.push([id, []]);
  });
  return out;
}

/** The seq of the newest record, or 0 (an empty log, or a head that cannot be read: the export then says so by its range). */
export async function headSeq(redis: Pick<Redis, 'xrevrange'>, key = 'audit:log'): Promise<number> {
  const [last] = await read(redis.xrevrange(key, '+', '-', 'COUNT', 1));
  return (last && fromStreamFields(last[1], { canonical: false }).seq) ?? 0;
}
