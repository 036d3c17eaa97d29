import { lstatSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AUDIT_EXPORT_FORMATS, exportHeader, exportLine } from '../audit/export-format';
import type { AuditEntry } from '../audit/query';
import { describeParams, timeParam, toAuditFilter, typesParam, uidParam } from '../audit/query-params';
import { createAuditQueryService } from '../audit/query-service';
import { coveringCheckpoints, headSeq, rangeCheckpointLine, rangeHeader, rangeRecordLine, readRange } from '../audit/export-range';
import { verifyRangeExport } from '../audit/verify-export';
import { readAuditKeys, readPublicAuditKeys } from '../audit/keys';
import { verifyAuditChain, type AuditBreakKind, type AuditBroken } from '../audit/verify';
import { verifiedRecord } from '../audit/integrity';
import { stageWhole, type StagedFile } from '../write-whole';
import { CardauthError } from '../errors';
import { isAgentId } from '../store/agents';
import { checkValues, flag, UsageError, type OptionSpecs } from './args';
import { requireAuditTrail } from '../admin/record-change';
import { auditAccess, auditChange, type Command, type CommandContext } from './command';
import type { CliServices } from './services';
import { explain } from '../logger';
import { isoTime, printList, type Column } from './output';
import { auditForward } from './audit-forward';
import { auditKeysCommands } from './audit-keys';
import { auditRetain } from './audit-retain';
import { verifyArchiveFile } from '../audit/retention-archive';

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

/** How `audit verify` names a kind of break. */
const KIND_WORDS: Record<AuditBreakKind, string> = {
  record_edited: 'a record edited',
  record_deleted: 'a record deleted',
  tail_truncated: 'the tail truncated after a checkpoint',
  record_inserted: 'a record inserted',
  checkpoint_forged: 'a checkpoint forged',
};

/** The one line of a broken chain. */
function brokenLine(count: number, b: AuditBroken): string {
  // In a file the ids are its lines (`line 7`).
  const named = (what: string, id: string) => (id.startsWith('line ') ? id : `${what} ${id}`);
  const where = [`seq ${b.seq ?? 'unknown'}`, ...(b.id ? [named('id', b.id)] : []), ...(b.checkpointId ? [named('checkpoint', b.checkpointId)] : [])].join(', ');
  return `audit chain broken: first broken record ${where}: ${KIND_WORDS[b.kind]} (${b.reason}; ${records(count)} intact before it)`;
}

/** `cardauth audit verify`. */
export const auditVerify: Command = {
  path: ['audit', 'verify'],
  usage: '[--file EXPORT] [--keys PUBLIC_JWKS] [--json]',
  summary: 'check the audit hash chain and its signed checkpoints; exit 0 when intact, 1 naming the first break and its kind',
  details: [
    'Checks every record of the audit stream from the first: its hash, its seq and its link',
    "to the one before. A record's text must be, byte for byte, the canonical JSON its hash",
    'was made from. Then the signed checkpoints (audit:checkpoints): each signature, and that',
    'the chain still has the head each one signed. A break is named by its kind: a record',
    'edited, deleted or inserted, the tail truncated after a checkpoint, a checkpoint forged.',
    '  --keys      the public keys (audit keys export) to check the checkpoints with;',
    '              default: those of CARDAUTH_AUDIT_KEYS_FILE',
    '  --json      the result as one JSON object',
    'With neither, the checkpoints are not checked and the tail of the chain is unprotected:',
    'records cut from the end, or a tail rewritten consistently, go unseen.',
    'The run itself is then audited as audit.verified.',
    '  --file      check a range export (audit export --from-seq/--to-seq) offline instead, with',
    '              no Redis: its records, their links and the checkpoints in it (with --keys).',
    '              A filtered export cannot be chain-checked. This run is not audited (no Redis).',
    '              An archive of audit retain (ARCHIVE.jsonl.gz) is checked with its seal ARCHIVE.jsonl.gz.jws',
    '              and --keys (required): the signature, its SHA-256, then its chain and checkpoints.',
    'After retention trimmed the stream, the chain starts at the signed anchor of the last archive',
    '(audit:anchors, checked with the keys); without keys a trimmed start shows as a record deleted.',
  ].join('\n'),
  options: { keys: { type: 'string' }, json: { type: 'boolean' }, file: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues('audit verify', z.object({ keys: z.string().min(1, 'a file').optional(), json: flag, file: z.string().min(1, 'a file').optional() }), raw.values);
    const publicKeys = args.keys === undefined ? undefined : readPublicAuditKeys(args.keys).keys;
    if (args.file !== undefined) return verifyFile(ctx, args.file, publicKeys, args.json);
    return ctx.withServices(async (s) => {
      const checkpointKeys = publicKeys ?? (s.auditKeysFile ? readAuditKeys(s.auditKeysFile).keys : undefined);
      const result = await verifyAuditChain({ redis: s.redis, ...(checkpointKeys ? { checkpointKeys } : {}) });
      const out = (line: string) => args.json || ctx.io.stdout.write(`${line}\n`);
      if (args.json) ctx.io.stdout.write(`${JSON.stringify(result)}\n`);
      if (result.ok) {
        out(`audit chain intact: ${records(result.count)}`);
        if (result.head) out(`head: seq ${result.head.seq}, hash ${result.head.hash}`);
        if (result.anchor) out(`anchored: seq 1..${result.anchor.seq} archived in ${result.anchor.archive} (sha256 ${result.anchor.sha256}); the chain links to it`);
        const cps = result.checkpoints;
        if (!cps) out('checkpoints not checked (no CARDAUTH_AUDIT_KEYS_FILE, no --keys): the tail of the chain is unprotected');
        else if (!cps.last) out(`checkpoints: none; the tail of the chain is unprotected (${records(cps.unprotected)})`);
        else out(`checkpoints: ${cps.count} verified, the last at seq ${cps.last.seq} (${cps.last.time}, key ${cps.last.kid}); ${records(cps.unprotected)} after it unprotected`);
      } else {
        out(brokenLine(result.count, result.firstBroken));
      }
      const record = verifiedRecord(result);
      try {
        await auditChange(ctx, s, record, result.ok ? 'the chain was verified' : 'the chain was found broken');
      } catch (err) {
        // The verdict above stands; say that it could not be recorded (e.g. a damaged head cannot be chained onto).
        if (!(err instanceof CardauthError)) throw err;
        ctx.io.stderr.write(`cardauth: ${err.code}: ${err.message}\n`);
        return 1;
      }
      return result.ok ? 0 : 1;
    });
  },
};

/** `audit verify --file`: a range export, offline; not audited (no Redis to record it in). */
async function verifyFile(ctx: CommandContext, file: string, keys: Parameters<typeof verifyRangeExport>[1], json: boolean): Promise<number> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UsageError(`audit verify: --file: cannot read ${file} (${explain(err)})`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return verifyArchiveAt(ctx, file, bytes, keys, json);
  const text = bytes.toString('utf8');
  let result: Awaited<ReturnType<typeof verifyRangeExport>>;
  try {
    result = await verifyRangeExport(text, keys);
  } catch (err) {
    if (err instanceof CardauthError && err.code === 'usage') throw new UsageError(`audit verify: --file: ${err.message}`);
    throw err;
  }
  const out = (line: string) => ctx.io.stdout.write(`${line}\n`);
  if (json) out(JSON.stringify(result));
  else if (!result.ok) out(brokenLine(result.count, result.firstBroken));
  else {
    out(`audit range intact: ${records(result.count)}, seq ${result.fromSeq}..${result.toSeq} (the link of seq ${result.fromSeq} to the record before it is not checked)`);
    const cps = result.checkpoints;
    if (!cps) out('checkpoints not checked (no --keys): the range is protected by its hashes only');
    else if (!cps.last) out(`checkpoints: none in the range; ${records(cps.unprotected)} unprotected`);
    else out(`checkpoints: ${cps.count} verified, the last in the range at seq ${cps.last.seq} (${cps.last.time}, key ${cps.last.kid}); ${records(cps.unprotected)} after it unprotected`);
  }
  return result.ok ? 0 : 1;
}

/** `audit verify --file ARCHIVE.jsonl.gz --keys PUBLIC_JWKS`: an archive of `audit retain` (its `bytes`, read once) with its seal, offline. */
async function verifyArchiveAt(ctx: CommandContext, file: string, bytes: Buffer, keys: Parameters<typeof verifyRangeExport>[1], json: boolean): Promise<number> {
  if (!keys) throw new UsageError('audit verify: --file: an archive is checked against its signed seal: give --keys PUBLIC_JWKS (audit keys export)');
  const r = await verifyArchiveFile(file, keys, { bytes });
  const out = (line: string) => ctx.io.stdout.write(`${line}\n`);
  if (json) out(JSON.stringify(r));
  else if (r.ok) {
    const s = r.seal;
    out(`audit archive intact: ${records(s.count)}, seq ${s.fromSeq}..${s.toSeq}, sealed ${s.time} by key ${r.kid} (sha256 ${s.sha256}; records before ${s.cutoff}; the first links to ${s.prevHash})`);
    const cps = r.chain.checkpoints;
    if (cps) out(`checkpoints: ${cps.count} verified${cps.last ? `, the last in the archive at seq ${cps.last.seq}` : ', none in the archive'}`);
  } else out(r.chain ? brokenLine(r.chain.count, r.chain.firstBroken) : `audit archive not intact: ${r.why}`);
  return r.ok ? 0 : 1;
}

// ---- reading the trail: audit list, audit export ----

const FILTER_OPTIONS = {
  type: { type: 'string' },
  outcome: { type: 'string' },
  login: { type: 'string' },
  uid: { type: 'string' },
  agent: { type: 'string' },
  account: { type: 'string' },
  workstation: { type: 'string' },
  ip: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
} as const satisfies OptionSpecs;

const FILTER_USAGE = '[--type T[,T…]] [--outcome success|failure] [--login L] [--account ID] [--uid HEX] [--agent ID] [--workstation NAME] [--ip IP] [--since TIME] [--until TIME]';
const FILTER_DETAILS = [
  'Filters (all given must hold):',
  '  --type      event types, comma-separated; a family by its prefix, e.g. session.*',
  '  --login     the subject login (case and width ignored)',
  '  --uid       the card UID as presented (hex; separators ignored)',
  '  --account   the subject account id (acc_…)',
  '  --agent     the workstation agent id (ag_…)',
  '  --workstation  the workstation name as its agent reported it, exact',
  '  --ip        the client IP as recorded, exact',
  '  --since     from this time on; --until: before this time. A date is UTC midnight',
  '              (2026-11-25); a time needs its offset (2026-11-25T09:00+03:00).',
  'The read is audited (audit.viewed / audit.exported) before anything is shown;',
  'when that record cannot be written, nothing is shown.',
].join('\n');

const FilterArgs = z
  .object({
    type: typesParam.optional(),
    outcome: z.enum(['success', 'failure'], { error: 'success or failure' }).optional(),
    login: z.string().trim().min(1, 'empty').max(128, 'at most 128 characters').optional(),
    uid: uidParam.optional(),
    agent: z.string().refine(isAgentId, 'an agent id: ag_ and 16 hex digits').optional(),
    account: z.string().trim().min(1, 'empty').max(128, 'at most 128 characters').optional(),
    workstation: z.string().min(1, 'empty').max(128, 'at most 128 characters').optional(),
    ip: z.string().trim().min(1, 'empty').max(64, 'at most 64 characters').optional(),
    since: timeParam.optional(),
    until: timeParam.optional(),
  })
  .refine((a) => a.since === undefined || a.until === undefined || a.since < a.until, { path: ['until'], message: 'must be later than --since' });

/** A seq: a whole number from 1. */
const seqArg = z
  .string()
  .regex(/^[1-9]\d{0,14}$/, 'a whole number from 1')
  .transform(Number);

const unreadableNote = (n: number) => (n ? `cardauth: ${records(n)} could not be read and ${n === 1 ? 'was' : 'were'} skipped; run cardauth audit verify\n` : '');

const LIST_COLUMNS: Column<AuditEntry>[] = [
  { heading: 'TIME (UTC)', cell: (e) => isoTime(Date.parse(e.record.ts)) },
  { heading: 'SEQ', cell: (e) => String(e.record.seq) },
  { heading: 'EVENT', cell: (e) => e.record.type },
  { heading: 'OUTCOME', cell: (e) => (e.record.reason ? `${e.record.outcome}: ${e.record.reason}` : e.record.outcome) },
  { heading: 'LOGIN', cell: (e) => e.record.subject?.login },
  { heading: 'CARD', cell: (e) => e.record.cardUid },
  { heading: 'WHERE', cell: (e) => [e.record.source?.workstation ?? e.record.source?.agentId, e.record.source?.ip].filter(Boolean).join(' ') },
  { heading: 'BY', cell: (e) => e.record.actor },
  { heading: 'HASH', cell: (e) => (e.intact ? 'ok' : 'ALTERED') },
];

/** `cardauth audit list`. */
export const auditList: Command = {
  path: ['audit', 'list'],
  usage: `${FILTER_USAGE} [--limit N] [--json]`,
  summary: 'show the newest audit records that match (default 50), oldest of them first',
  details: `${FILTER_DETAILS}\n  --limit     how many records at most (1..10000, default 50)`,
  options: { ...FILTER_OPTIONS, limit: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues(
      'audit list',
      FilterArgs.and(
        z.object({
          limit: z
            .string()
            .regex(/^\d{1,5}$/, 'a whole number 1..10000')
            .transform(Number)
            .refine((n) => n >= 1 && n <= 10_000, 'a whole number 1..10000')
            .default(50),
          json: flag,
        }),
      ),
      raw.values,
    );
    return ctx.withServices(async (s) => {
      await requireAuditTrail(s.audit, 'nothing was shown');
      let unreadable = 0;
      const rows: AuditEntry[] = [];
      for await (const e of createAuditQueryService({ redis: s.redis }).read(toAuditFilter(args), { newestFirst: true, onUnreadable: () => unreadable++ })) {
        rows.push(e);
        if (rows.length >= args.limit) break;
      }
      rows.reverse();
      await auditAccess(ctx, s, { type: 'audit.viewed', outcome: 'success', details: { count: rows.length, filter: describeParams(raw.values, Object.keys(FILTER_OPTIONS)) } });
      printList(ctx.io.stdout, rows, LIST_COLUMNS, { json: args.json, empty: 'no audit records match' });
      ctx.io.stderr.write(unreadableNote(unreadable));
      return 0;
    });
  },
};

/** Best effort, after a success record: the export's file did not appear after all. */
async function recordUnplaced(ctx: CommandContext, s: Pick<CliServices, 'audit'>, details: Record<string, string | number>): Promise<void> {
  await auditAccess(ctx, s, { type: 'audit.exported', outcome: 'failure', reason: 'file_not_written', details }).catch(() => undefined);
}

/** `cardauth audit export`. */
export const auditExport: Command = {
  path: ['audit', 'export'],
  usage: `--out FILE [--format jsonl|csv] ${FILTER_USAGE} | --out FILE --from-seq N [--to-seq M]`,
  summary: 'write every audit record that matches to a new file (JSON lines or CSV), oldest first',
  details: [
    FILTER_DETAILS,
    '  --out       a new file (never overwritten), mode 600; it appears only when complete and recorded',
    '  --format    jsonl (default: each record as stored, with its hash) or csv (for spreadsheets)',
    '  --from-seq, --to-seq  instead of filters: the records seq N..M (default M: the head), as JSON',
    '              lines that audit verify --file checks offline: each record as stored, with the',
    '              signed checkpoints that cover the range. A filtered export leaves records out,',
    '              so it cannot be chain-checked.',
  ].join('\n'),
  options: { ...FILTER_OPTIONS, out: { type: 'string' }, format: { type: 'string' }, 'from-seq': { type: 'string' }, 'to-seq': { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues(
      'audit export',
      FilterArgs.and(
        z.object({
          out: z.string({ error: (iss) => (iss.input === undefined ? 'required' : undefined) }).min(1, 'required'),
          format: z.enum(AUDIT_EXPORT_FORMATS, { error: `one of ${AUDIT_EXPORT_FORMATS.join(', ')}` }).default('jsonl'),
          'from-seq': seqArg.optional(),
          'to-seq': seqArg.optional(),
        }),
      ),
      raw.values,
    );
    const fromSeq = args['from-seq'] ?? (args['to-seq'] === undefined ? undefined : 1);
    if (fromSeq !== undefined) {
      if (Object.keys(FILTER_OPTIONS).some((k) => raw.values[k] !== undefined)) throw new UsageError('audit export: --from-seq/--to-seq export a whole range and take no filters (a filtered export cannot be chain-checked)');
      if (raw.values.format !== undefined && args.format !== 'jsonl') throw new UsageError('audit export: --from-seq/--to-seq export JSON lines only (--format jsonl)');
      if (args['to-seq'] !== undefined && args['to-seq'] < fromSeq) throw new UsageError('audit export: --to-seq: must not be below --from-seq');
    }
    const out = resolve(args.out);
    // lstat, not exists: a dangling symlink is there too, and the exclusive link would refuse it at the end.
    if (lstatSync(out, { throwIfNoEntry: false })) throw new UsageError(`audit export: --out: ${out} already exists; name a new file (nothing is overwritten)`);
    return ctx.withServices(async (s) => {
      await requireAuditTrail(s.audit, 'nothing was exported');
      // A range ends at the head at most, so that the file's first line states what it holds.
      const head = fromSeq === undefined ? 0 : await headSeq(s.redis);
      const toSeq = fromSeq === undefined ? undefined : Math.min(args['to-seq'] ?? head, head);
      if (fromSeq !== undefined && toSeq !== undefined && toSeq < fromSeq) throw new UsageError(`audit export: --from-seq: past the head of the audit trail (seq ${head})`);
      let file: StagedFile;
      try {
        file = stageWhole(out, { mode: 0o600, exclusive: true });
      } catch (err) {
        throw new UsageError(`audit export: --out: cannot write ${out} (${explain(err)})`);
      }
      // Ctrl-C stops the export between records and removes what was staged (node skips `finally` on a signal).
      const stop = ctx.io.stopSignal();
      let stopped: string | undefined;
      void stop.signal.then((sig) => (stopped = sig));
      const cannotWrite = (err: unknown) => new CardauthError('unavailable', `cannot write ${out} (${explain(err)}); nothing was exported`);
      try {
        let count = 0;
        let unreadable = 0;
        const write = (chunk: string) => {
          try {
            file.write(chunk);
          } catch (err) {
            throw cannotWrite(err);
          }
        };
        const isStopped = () => stopped !== undefined;
        if (fromSeq !== undefined && toSeq !== undefined) {
          write(rangeHeader(fromSeq, toSeq));
          for await (const fields of readRange(s.redis, fromSeq, toSeq)) {
            if (isStopped()) break;
            write(rangeRecordLine(fields));
            count++;
          }
          for (const jws of await coveringCheckpoints(s.redis, fromSeq, toSeq)) write(rangeCheckpointLine(jws));
        } else {
          write(exportHeader(args.format));
          for await (const e of createAuditQueryService({ redis: s.redis }).read(toAuditFilter(args), { stop: isStopped, onUnreadable: () => unreadable++ })) {
            if (isStopped()) break;
            write(exportLine(args.format, e));
            count++;
          }
        }
        if (stopped) {
          ctx.io.stderr.write(`cardauth: export stopped (${stopped}); nothing was written\n`);
          return 130;
        }
        // Recorded before the file appears: if anything stops it between the two, the trail
        // over-reports an export rather than missing one. A file that then fails to appear is
        // recorded as a failure too (if the trail takes it).
        const about = { count, format: args.format, file: out, filter: toSeq === undefined ? describeParams(raw.values, Object.keys(FILTER_OPTIONS)) : `seq=${fromSeq}..${toSeq}` };
        await auditAccess(ctx, s, { type: 'audit.exported', outcome: 'success', details: about });
        let placed: boolean;
        try {
          placed = file.commit();
        } catch (err) {
          await recordUnplaced(ctx, s, about);
          throw cannotWrite(err);
        }
        if (!placed) {
          await recordUnplaced(ctx, s, about);
          throw new CardauthError('unavailable', `${out} appeared while the export ran; nothing was exported`);
        }
        ctx.io.stdout.write(`exported ${records(count)} to ${out}\n`);
        ctx.io.stderr.write(unreadableNote(unreadable));
        return 0;
      } finally {
        stop.cancel();
        file.discard();
      }
    });
  },
};

export const auditCommands: readonly Command[] = [auditVerify, auditList, auditExport, auditRetain, auditForward, ...auditKeysCommands];
