import type { AuditEventInput } from '../audit/record';
import { verifyAuditChain } from '../audit/verify';
import { CardauthError } from '../errors';
import { auditChange, type Command } from './command';

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

/** `cardauth audit verify`. */
export const auditVerify: Command = {
  path: ['audit', 'verify'],
  usage: '',
  summary: 'walk the audit hash chain; exit 0 when intact, 1 naming the first broken record',
  details: [
    'Checks every record of the audit stream from the first: its hash, its seq and its link',
    'to the one before. The run itself is then audited as audit.verified.',
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

export const auditCommands: readonly Command[] = [auditVerify];
