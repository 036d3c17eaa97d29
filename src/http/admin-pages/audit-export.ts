import { Router } from 'express';
import { AUDIT_EXPORT_FORMATS, exportHeader, exportLine, type AuditExportFormat } from '../../audit/export-format';
import { CardauthError } from '../../errors';
import { errorMessage, type Logger } from '../../logger';
import { recordAuditRead } from '../audit-read';
import type { AuditPagesDeps } from './audit-access';
import { describeFilter, parseAuditFilter } from './audit-filter';
import { AUDITOR_ROLES, type AdminPageKit } from './kit';

const TYPES: Record<AuditExportFormat, string> = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson; charset=utf-8' };

/**
 * The log viewer's export buttons (`GET /admin/audit/export?format=csv|jsonl&<filter>`): the
 * records of the filter, oldest first, as `cardauth audit export` writes them (export-format.ts),
 * streamed through the query service's `read()`. The records are counted first, and the export
 * recorded (`audit.exported`: count, format, filter) before the download starts: when it cannot
 * be, nothing is sent (the 503 page). Then exactly the records counted are sent (those appended
 * since, the export's own record among them, are not).
 *
 * @example
 * router.use(createAuditExport(kit, deps, logger));
 */
export function createAuditExport(kit: AdminPageKit, deps: AuditPagesDeps, logger: Pick<Logger, 'error'>): Router {
  const router = Router();
  router.get('/admin/audit/export', ...kit.guard(AUDITOR_ROLES), async (req, res) => {
    const format = req.query.format;
    if (typeof format !== 'string' || !(AUDIT_EXPORT_FORMATS as readonly string[]).includes(format)) throw new CardauthError('bad_request', 'invalid query parameter: format');
    const parsed = parseAuditFilter(req.query);
    if (!parsed.ok) throw new CardauthError('bad_request', `invalid query parameter: ${parsed.field}`);
    let count = 0;
    for await (const _entry of deps.query.read(parsed.filter)) count += 1;
    await recordAuditRead(deps, req, { type: 'audit.exported', outcome: 'success', details: { count, format, filter: describeFilter(parsed.form) } });
    const stamp = new Date(kit.now()).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    res.setHeader('Content-Type', TYPES[format as AuditExportFormat]);
    res.setHeader('Content-Disposition', `attachment; filename="audit-${stamp}.${format}"`);
    res.setHeader('Cache-Control', 'no-store');
    res.write(exportHeader(format as AuditExportFormat));
    let sent = 0;
    try {
      for await (const entry of deps.query.read(parsed.filter)) {
        if (sent++ >= count || res.destroyed) break;
        if (!res.write(exportLine(format as AuditExportFormat, entry))) await new Promise((r) => res.once('drain', r).once('close', r));
      }
    } catch (err) {
      // The download has started: cut it, so it is not taken for a whole export.
      logger.error('request_failed', { method: req.method, path: req.path, code: 'audit_unavailable', err: errorMessage(err) });
      res.destroy();
      return;
    }
    res.end();
  });
  return router;
}
