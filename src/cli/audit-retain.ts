import { z } from 'zod';
import { appendAs } from '../admin/record-change';
import { readAuditKeys } from '../audit/keys';
import { createRetention, type RetentionResult } from '../audit/retention';
import { loadServerConfigSubset } from '../config';
import { CardauthError } from '../errors';
import { checkValues, flag, UsageError } from './args';
import { cliActor, type Command } from './command';

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

/** What a run did, in one or two lines. */
function describeRun(r: RetentionResult): string[] {
  if (r.status === 'due') {
    return r.resume !== undefined
      ? [`would finish the last run: trim ${records(r.count)} (seq ${r.fromSeq}..${r.toSeq}), archived and anchored already`]
      : [`would archive ${records(r.count)} (seq ${r.fromSeq}..${r.toSeq}, older than ${r.cutoff}); nothing was written or trimmed`];
  }
  const resumed = r.resumed ? [`finished the last run: trimmed ${records(r.resumed.log)} it had archived and anchored`] : [];
  if (r.status === 'nothing') return [...resumed, `nothing to archive: no record older than ${r.cutoff} after the last archive (the newest record always stays)`];
  const s = r.seal;
  return [...resumed, `archived ${records(s.count)} (seq ${s.fromSeq}..${s.toSeq}, older than ${r.cutoff}) to ${r.path}, sha256 ${s.sha256}; read back and verified, anchored, and trimmed from Redis (${records(r.trimmed.log)})`];
}

/** `cardauth audit retain`. */
export const auditRetain: Command = {
  path: ['audit', 'retain'],
  usage: '[--dry-run] [--json]',
  summary: 'archive the audit records older than CARDAUTH_AUDIT_RETENTION_DAYS to a signed, compressed file, verify it, then trim them from Redis',
  details: [
    'Run it on a schedule (docs/audit-retention.md: a systemd timer or a cron line), connected as the',
    'archivist Redis user (REDIS_URL of cardauth-archivist, docs/redis-acl.conf): the only user that may trim.',
    'Needs CARDAUTH_AUDIT_RETENTION_DAYS, CARDAUTH_AUDIT_ARCHIVE_DIR and CARDAUTH_AUDIT_KEYS_FILE (the seal and the',
    'anchor are signed with its first key). In order: verify the live chain; write the archive',
    '(audit-FROM-TO.jsonl.gz, a range export) and its seal (….jws) whole; read both back and verify them;',
    'append the seal to audit:anchors; trim audit:log, audit:checkpoints, audit:intake and audit:ix:*;',
    'record audit.archived. A crash at any step loses nothing; run it again to finish. A run holds the lock',
    '.audit-retain.lock in the archive folder: a second run meanwhile refuses (exit 2); one over an hour old is taken over.',
    'Check an archive anywhere: cardauth audit verify --file ARCHIVE.jsonl.gz --keys PUBLIC_JWKS.',
    '  --dry-run   say what is due, write and trim nothing',
    '  --json      the result as one JSON object',
  ].join('\n'),
  options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(ctx, raw) {
    const args = checkValues('audit retain', z.object({ 'dry-run': flag, json: flag }), raw.values);
    const config = loadServerConfigSubset(['CARDAUTH_AUDIT_RETENTION_DAYS', 'CARDAUTH_AUDIT_ARCHIVE_DIR'], ctx.io.env, ctx.configFile);
    const days = config.CARDAUTH_AUDIT_RETENTION_DAYS;
    if (days === undefined) throw new UsageError('audit retain: CARDAUTH_AUDIT_RETENTION_DAYS is not set, so there is no retention; set it to the days records stay in Redis');
    if (config.CARDAUTH_AUDIT_ARCHIVE_DIR === '') throw new UsageError('audit retain: CARDAUTH_AUDIT_ARCHIVE_DIR is not set: name the folder the archives go to');
    return ctx.withServices(async (s) => {
      if (!s.auditKeysFile) throw new CardauthError('config_invalid', 'CARDAUTH_AUDIT_KEYS_FILE is empty: an archive is sealed and anchored with the audit key (cardauth audit keys init --out FILE)');
      const retention = createRetention({
        redis: s.redis,
        clock: ctx.clock,
        keys: readAuditKeys(s.auditKeysFile).keys,
        days,
        dir: config.CARDAUTH_AUDIT_ARCHIVE_DIR,
        record: (input) => appendAs(s.audit, cliActor(ctx), input),
      });
      const result = await retention.run({ dryRun: args['dry-run'] });
      ctx.io.stdout.write(args.json ? `${JSON.stringify(result)}\n` : describeRun(result).map((l) => `${l}\n`).join(''));
      return 0;
    });
  },
};
