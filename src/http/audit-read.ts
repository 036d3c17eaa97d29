import type { Request } from 'express';
import { appendAs, type ChangedBy, type ChangeRecord } from '../admin/record-change';
import type { AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import { explain } from '../logger';
import { actingAs, type ActorLookup } from './acting-as';
import { requestSource } from './request-source';
import { AUDITOR_ROLES } from '../admin/permissions';

/**
 * The acting auditor, by its account as stored now: a session that logged in as an auditor
 * whose role has since been taken away is refused (`forbidden`), as officers' actions are.
 *
 * @example
 * const by = await actingAuditor(accounts, req);
 */
export async function actingAuditor(accounts: ActorLookup, req: Request): Promise<ChangedBy> {
  return asAuditor(await actingAs(accounts, req));
}

/**
 * `by` (an {@link actingAs} answer: the account's roles as stored now) when it holds an
 * auditor's role, else `forbidden`: for a page action, which the kit hands `by` already.
 *
 * @example
 * kit.action(router, path, page, async (req, by) => read(asAuditor(by)));
 */
export function asAuditor(by: ChangedBy): ChangedBy {
  if (by.principal === 'system' || !by.principal.roles.some((r) => AUDITOR_ROLES.includes(r))) throw new CardauthError('forbidden', 'only an auditor reads the audit trail');
  return by;
}

/**
 * A read of the audit trail by the acting auditor: its roles as stored now are checked first
 * (`forbidden`), before the trail is read; the function it resolves with records the read
 * (`audit.viewed`, `audit.exported`) before anything is shown or sent: when it cannot be written,
 * nothing is (`audit_unavailable`: a 503), as `audit list` refuses. The auditor's pages and its
 * JSON API both read through it.
 *
 * @example
 * const record = await auditReader({ audit, accounts }, req);
 * const entry = await query.get(id);
 * await record({ type: 'audit.viewed', outcome: 'success', details: { count: entry ? 1 : 0, filter: `id=${id}` } });
 */
export async function auditReader(deps: { audit: AuditSink; accounts: ActorLookup }, req: Request): Promise<(input: ChangeRecord) => Promise<void>> {
  const by = await actingAuditor(deps.accounts, req);
  return async (input) => {
    try {
      // Where from and in which session, as a login's records say (the channel goes in the details too).
      await appendAs(deps.audit, by, { source: requestSource(req), sessionId: req.sessionID, ...input });
    } catch (err) {
      throw new CardauthError('audit_unavailable', `nothing was shown: this read of the audit trail could not be recorded (${explain(err)})`, { cause: err });
    }
  };
}
