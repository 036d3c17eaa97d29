import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../audit/events';
import { AUDIT_EXPORT_FORMATS, exportHeader, exportLine } from '../audit/export-format';
import { readAudit, type AuditEntry, type AuditFilter } from '../audit/query';
import type { AuditEventInput } from '../audit/record';
import { verifyAuditChain } from '../audit/verify';
import { stageWhole, type StagedFile } from '../write-whole';
import { CardauthError } from '../errors';
import { isAgentId } from '../store/agents';
import { checkValues, flag, timeArg, UsageError, type OptionSpecs } from './args';
import { requireAuditTrail } from '../admin/record-change';
import { auditAccess, auditChange, type Command, type CommandContext } from './command';
import type { CliServices } from './services';
import { explain } from '../logger';
import { isoTime, printList, type Column } from './output';
import { auditForward } from './audit-forward';

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

/** `cardauth audit verify`. */
export const auditVerify: Command = {
  path: ['audit', 'verify'],
  usage: '',
  summary: 'walk the audit hash chain; exit 0 when intact, 1 naming the first broken record',
  details: [
    'Checks every record of the audit stream from the first: its hash, its seq and its link',
    "to the one before. A record's text must be, byte for byte, the canonical JSON its hash",
    'was made from. The run itself is then audited as audit.verified.',
    'Not detected: records cut from the end, or a tail rewritten consistently;',
    'keep the printed head hash somewhere else to compare later.',
  ].join('\n'),
  options: {},
  async run(ctx) {
    return ctx.withServices(async (s) => {
      const result = await verifyAuditChain({ redis: s.redis });
      let record: Omit<AuditEventInput, 'actor'>;
      if (result.ok) {
        ctx.io.stdout.write(`audit chain intact: ${records(result.count)}\n`);
        if (result.head) ctx.io.stdout.write(`head: seq ${result.head.seq}, hash ${result.head.hash}\n`);
        record = { type: 'audit.verified', outcome: 'success', details: { count: result.count, ...(result.head ? { headSeq: result.head.seq, headHash: result.head.hash } : {}) } };
      } else {
        const { firstBroken: broken } = result;
        ctx.io.stdout.write(
          `audit chain broken: first broken record seq ${broken.seq ?? 'unknown'}, id ${broken.id}, reason ${broken.reason} (${records(result.count)} intact before it)\n`,
        );
        record = {
          type: 'audit.verified',
          outcome: 'failure',
          reason: broken.reason,
          details: { count: result.count, brokenId: broken.id, ...(broken.seq === undefined ? {} : { brokenSeq: broken.seq }) },
        };
      }
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

// ---- reading the trail: audit list, audit export ----

/** `session.created,card.*`: event types, or a family of them by its prefix. */
const typesArg = z.string().transform((v, ctx) => {
  const types = new Set<AuditEventType>();
  for (const word of v.split(',').map((w) => w.trim()).filter(Boolean)) {
    const family = word.endsWith('.*') ? word.slice(0, -1) : undefined;
    const matched = AUDIT_EVENT_TYPES.filter((t) => (family ? t.startsWith(family) : t === word));
    if (matched.length === 0) {
      ctx.addIssue({ code: 'custom', message: `"${word.slice(0, 40)}" is not an audit event type (see the README's table; a family such as session.* works too)` });
      return z.NEVER;
    }
    for (const t of matched) types.add(t);
  }
  if (types.size === 0) {
    ctx.addIssue({ code: 'custom', message: 'required' });
    return z.NEVER;
  }
  return [...types];
});

const FILTER_OPTIONS = {
  type: { type: 'string' },
  outcome: { type: 'string' },
  login: { type: 'string' },
  uid: { type: 'string' },
  agent: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
} as const satisfies OptionSpecs;

const FILTER_USAGE = '[--type T[,T…]] [--outcome success|failure] [--login L] [--uid HEX] [--agent ID] [--since TIME] [--until TIME]';
const FILTER_DETAILS = [
  'Filters (all given must hold):',
  '  --type      event types, comma-separated; a family by its prefix, e.g. session.*',
  '  --login     the subject login (case and width ignored)',
  '  --uid       the card UID as presented (hex; separators ignored)',
  '  --agent     the workstation agent id (ag_…)',
  '  --since     from this time on; --until: before this time. A date is UTC midnight',
  '              (2026-11-25); a time needs its offset (2026-11-25T09:00+03:00).',
  'The read is audited (audit.viewed / audit.exported) before anything is shown;',
  'when that record cannot be written, nothing is shown.',
].join('\n');

const FilterArgs = z
  .object({
    type: typesArg.optional(),
    outcome: z.enum(['success', 'failure'], { error: 'success or failure' }).optional(),
    login: z.string().trim().min(1, 'empty').max(128, 'at most 128 characters').optional(),
    uid: z.string().regex(/^[\s:-]*(?:[0-9A-Fa-f][\s:-]*){2,32}$/, 'hex digits, e.g. 04A22BB25C6180').optional(),
    agent: z.string().refine(isAgentId, 'an agent id: ag_ and 16 hex digits').optional(),
    since: timeArg.optional(),
    until: timeArg.optional(),
  })
  .refine((a) => a.since === undefined || a.until === undefined || a.since < a.until, { path: ['until'], message: 'must be later than --since' });

function toFilter(a: z.output<typeof FilterArgs>): AuditFilter {
  const f: AuditFilter = {};
  if (a.type) f.types = a.type;
  if (a.outcome) f.outcome = a.outcome;
  if (a.login !== undefined) f.login = a.login;
  if (a.uid !== undefined) f.cardUid = a.uid;
  if (a.agent !== undefined) f.agentId = a.agent;
  if (a.since !== undefined) f.since = a.since;
  if (a.until !== undefined) f.until = a.until;
  return f;
}

/** The filter as the audit record of the read states it, e.g. `type=session.created outcome=failure`. */
function describeFilter(raw: Record<string, unknown>): string {
  const parts = Object.keys(FILTER_OPTIONS).flatMap((k) => (typeof raw[k] === 'string' ? [`${k}=${raw[k] as string}`] : []));
  return parts.length ? parts.join(' ') : 'all';
}

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
      for await (const e of readAudit(s.redis, { filter: toFilter(args), newestFirst: true, limit: args.limit, onUnreadable: () => unreadable++ })) rows.push(e);
      rows.reverse();
      await auditAccess(ctx, s, { type: 'audit.viewed', outcome: 'success', details: { count: rows.length, filter: describeFilter(raw.values) } });
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
  usage: `--out FILE [--format jsonl|csv] ${FILTER_USAGE}`,
  summary: 'write every audit record that matches to a new file (JSON lines or CSV), oldest first',
  details: [
    FILTER_DETAILS,
    '  --out       a new file (never overwritten), mode 600; it appears only when complete and recorded',
    '  --format    jsonl (default: each record as stored, with its hash) or csv (for spreadsheets)',
  ].join('\n'),
  options: { ...FILTER_OPTIONS, out: { type: 'string' }, format: { type: 'string' } },
  async run(ctx, raw) {
    const args = checkValues(
      'audit export',
      FilterArgs.and(
        z.object({
          out: z.string({ error: (iss) => (iss.input === undefined ? 'required' : undefined) }).min(1, 'required'),
          format: z.enum(AUDIT_EXPORT_FORMATS, { error: `one of ${AUDIT_EXPORT_FORMATS.join(', ')}` }).default('jsonl'),
        }),
      ),
      raw.values,
    );
    const out = resolve(args.out);
    // lstat, not exists: a dangling symlink is there too, and the exclusive link would refuse it at the end.
    if (lstatSync(out, { throwIfNoEntry: false })) throw new UsageError(`audit export: --out: ${out} already exists; name a new file (nothing is overwritten)`);
    return ctx.withServices(async (s) => {
      await requireAuditTrail(s.audit, 'nothing was exported');
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
        write(exportHeader(args.format));
        const isStopped = () => stopped !== undefined;
        for await (const e of readAudit(s.redis, { filter: toFilter(args), stop: isStopped, onUnreadable: () => unreadable++ })) {
          if (isStopped()) break;
          write(exportLine(args.format, e));
          count++;
        }
        if (stopped) {
          ctx.io.stderr.write(`cardauth: export stopped (${stopped}); nothing was written\n`);
          return 130;
        }
        // Recorded before the file appears: if anything stops it between the two, the trail
        // over-reports an export rather than missing one. A file that then fails to appear is
        // recorded as a failure too (if the trail takes it).
        const about = { count, format: args.format, file: out, filter: describeFilter(raw.values) };
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

export const auditCommands: readonly Command[] = [auditVerify, auditList, auditExport, auditForward];
