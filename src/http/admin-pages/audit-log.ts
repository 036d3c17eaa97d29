import { Router } from 'express';
import { AUDIT_EVENT_TYPES } from '../../audit/events';
import { CardauthError } from '../../errors';
import { escapeInvisible, escapeInvisibleText } from '../../escape-invisible';
import { auditReader } from '../audit-read';
import type { AuditPagesDeps } from './audit-access';
import { AUDIT_FAMILIES, describeFilter, filterQuery, parseAuditFilter } from './audit-filter';
import { type AdminPage, type AdminPageKit } from './kit';
import { AUDITOR_ROLES } from '../../admin/permissions';

const PAGE_SIZE = 50;
/** A recorded text as shown: an invisible or text-reordering character as its `\uXXXX` escape (as the CLI and the exports show it), so a look-alike login cannot pass for another. */
const visible = (v: unknown): unknown => (typeof v === 'string' ? escapeInvisibleText(v) : v);

/**
 * The auditor's log viewer (`/admin/audit`, issue 11 §8): the records that match the filter
 * (audit-filter.ts), newest first, 50 a page with the query service's cursor; each opens as
 * `/admin/audit/records/:id` with every field. Each view is recorded (`audit.viewed`: how many
 * records were shown and the filter, or `id=<stream id>` for one) before it is shown.
 *
 * @example
 * const { page, router } = createAuditLogPage(kit, deps);
 */
export function createAuditLogPage(kit: AdminPageKit, deps: AuditPagesDeps): { page: AdminPage; router: Router } {
  const router = Router();
  const families = AUDIT_FAMILIES.map((f) => ({ family: f, types: AUDIT_EVENT_TYPES.filter((t) => t.startsWith(`${f}.`)) }));
  const page: AdminPage = {
    path: '/admin/audit',
    label: 'nav_audit',
    roles: AUDITOR_ROLES,
    async show(req, res, shown) {
      const parsed = parseAuditFilter(req.query);
      const query = filterQuery(parsed.form);
      const locals = { visible, form: parsed.form, families, exportQuery: query, recordQuery: query, entries: [], firstHref: '', nextHref: '' };
      if (!parsed.ok) {
        // Nothing read, nothing recorded: the form says which field and how to write it.
        return kit.render(req, res, { ...shown, status: 400 }, page, 'audit', { ...locals, filterError: { field: parsed.field, message: parsed.message } });
      }
      // A cursor the service did not hand out: its bad_request.
      const cursor = typeof req.query.cursor === 'string' && req.query.cursor ? req.query.cursor : undefined;
      const record = await auditReader(deps, req);
      const { entries, next } = await deps.query.page(parsed.filter, { limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) });
      await record({ type: 'audit.viewed', outcome: 'success', details: { count: entries.length, filter: describeFilter(parsed.form) } });
      kit.render(req, res, shown, page, 'audit', {
        ...locals,
        filterError: null,
        entries,
        firstHref: cursor ? `/admin/audit${query}` : '',
        nextHref: next ? `/admin/audit${filterQuery(parsed.form, { cursor: next })}` : '',
      });
    },
  };
  kit.page(router, page);
  router.get('/admin/audit/records/:id', ...kit.guard(page.roles), async (req, res) => {
    const id = String(req.params.id);
    const record = await auditReader(deps, req);
    const entry = await deps.query.get(id); // null for anything that is not a stream id
    // Recorded even when there is none: that answer says whether the id exists (as the JSON API records it).
    await record({ type: 'audit.viewed', outcome: 'success', details: { count: entry ? 1 : 0, filter: `id=${id}` } });
    if (!entry) throw new CardauthError('not_found', 'no audit record has this id');
    const parsed = parseAuditFilter(req.query);
    kit.render(req, res, {}, page, 'audit-record', {
      heading: { key: 'audit_record_heading', params: { seq: entry.record.seq } },
      entry,
      visible,
      detailsJson: entry.record.details === undefined ? '' : escapeInvisible(JSON.stringify(entry.record.details, null, 2)),
      backHref: `/admin/audit${parsed.ok ? filterQuery(parsed.form) : ''}`,
    });
  });
  return { page, router };
}
