import { Router } from 'express';
import { verifiedRecord } from '../../audit/integrity';
import type { AuditVerifyResult } from '../../audit/verify';
import { appendAs } from '../../admin/record-change';
import { asAuditor, auditReader } from '../audit-read';
import type { AuditPagesDeps } from './audit-access';
import { type AdminPage, type AdminPageKit, type Outcome } from './kit';
import { AUDITOR_ROLES } from '../../admin/permissions';

/**
 * The integrity panel (`/admin/audit/integrity`, issue 11 §8): the last verification (the newest
 * `audit.verified` record, through the query service), the latest signed checkpoint (its seq,
 * time, key and whether its signature verifies), and "verify now"
 * (`POST /admin/audit/integrity/verify`, CSRF): the walk `cardauth audit verify` makes, recorded
 * as `audit.verified` as it records it, its verdict shown at once, naming the first broken record
 * and the kind of break. A view is recorded as `audit.viewed` (`filter` `integrity`).
 *
 * @example
 * const { page, router } = createAuditIntegrityPage(kit, deps);
 */
export function createAuditIntegrityPage(kit: AdminPageKit, deps: AuditPagesDeps): { page: AdminPage; router: Router } {
  const router = Router();
  const page: AdminPage = {
    path: '/admin/audit/integrity',
    label: 'nav_audit_integrity',
    roles: AUDITOR_ROLES,
    async show(req, res, shown) {
      const record = await auditReader(deps, req);
      const [{ entries }, checkpoint] = await Promise.all([deps.query.page({ types: ['audit.verified'] }, { limit: 1 }), deps.integrity.latestCheckpoint()]);
      await record({ type: 'audit.viewed', outcome: 'success', details: { count: entries.length, filter: 'integrity' } });
      kit.render(req, res, shown, page, 'audit-integrity', { last: entries[0] ?? null, checkpoint, result: (shown.done?.report as AuditVerifyResult | undefined) ?? null });
    },
  };
  kit.page(router, page);
  kit.action(router, '/admin/audit/integrity/verify', page, async (_req, by): Promise<Outcome> => {
    // The kit's `by` holds the roles as stored now: one that is no auditor any more is refused.
    const auditor = asAuditor(by);
    const result = await deps.integrity.verify();
    await appendAs(deps.audit, auditor, verifiedRecord(result));
    if (result.ok) return { key: 'done_audit_intact', params: { count: result.count }, report: result };
    const b = result.firstBroken;
    return { key: 'done_audit_broken', params: { seq: b.seq ?? '—', id: b.id ?? b.checkpointId ?? '—' }, report: result };
  });
  return { page, router };
}
