import type { Request } from 'express';
import type { AuditIntegrity } from '../../audit/integrity';
import type { AuditQueryService } from '../../audit/query-service';
import type { AuditSink } from '../../audit/record';
import { appendAs, type ChangeRecord } from '../../admin/record-change';
import { CardauthError } from '../../errors';
import { explain } from '../../logger';
import { actingAs, type ActorLookup } from '../acting-as';

/** What the auditor's pages work with: the query service, the integrity checks, and where their reads are recorded. */
export interface AuditPagesDeps {
  query: AuditQueryService;
  integrity: AuditIntegrity;
  audit: AuditSink;
  accounts: ActorLookup;
}

/**
 * Records a read of the audit trail (`audit.viewed`, `audit.exported`) as the acting auditor,
 * before anything is shown or sent: when it cannot be written, nothing is (`audit_unavailable`,
 * the workbench's 503 page), as `audit list` refuses.
 *
 * @example
 * await recordRead(deps, req, { type: 'audit.viewed', outcome: 'success', details: { count: 1, filter: `id=${id}` } });
 */
export async function recordRead(deps: Pick<AuditPagesDeps, 'audit' | 'accounts'>, req: Request, input: ChangeRecord): Promise<void> {
  const by = await actingAs(deps.accounts, req);
  try {
    await appendAs(deps.audit, by, input);
  } catch (err) {
    throw new CardauthError('audit_unavailable', `nothing was shown: this read of the audit trail could not be recorded (${explain(err)})`, { cause: err });
  }
}
