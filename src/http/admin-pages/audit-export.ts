import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { idAfter } from '../../audit/stream-id';
import { AUDIT_EXPORT_FORMATS, exportHeader, exportLine, type AuditExportFormat } from '../../audit/export-format';
import { CardauthError } from '../../errors';
import { errorMessage, type Logger } from '../../logger';
import { auditReader } from '../audit-read';
import type { AuditPagesDeps } from './audit-access';
import { describeFilter, parseAuditFilter } from './audit-filter';
import { type AdminPageKit } from './kit';
import { AUDITOR_ROLES } from '../../admin/permissions';

const TYPES: Record<AuditExportFormat, string> = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson; charset=utf-8' };

/**
 * The log viewer's export buttons (`GET /admin/audit/export?format=csv|jsonl&<filter>`): the
 * records of the filter, oldest first, as `cardauth audit export` writes them (export-format.ts),
 * streamed through the query service's `read()`. The records are counted first, and the export
 * recorded (`audit.exported`: count, format, filter) before the download starts: when it cannot
 * be, nothing is sent (the 503 page). Then the records are sent up to the last one counted (those
 * appended since, the export's own record among them, are not; a position, not a number, so
 * records trimmed by retention meanwhile do not let later ones in).
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
    const { filter } = parsed;
    const record = await auditReader(deps, req);
    let count = 0;
    let last: string | undefined;
    for await (const entry of deps.query.read(filter)) {
      count += 1;
      last = entry.id;
    }
    await record({ type: 'audit.exported', outcome: 'success', details: { count, format, filter: describeFilter(parsed.form) } });
    const stamp = new Date(kit.now()).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    res.setHeader('Content-Type', TYPES[format as AuditExportFormat]);
    res.setHeader('Content-Disposition', `attachment; filename="audit-${stamp}.${format}"`);
    res.setHeader('Cache-Control', 'no-store');
    async function* lines() {
      yield exportHeader(format as AuditExportFormat);
      if (last === undefined) return;
      // Up to the last record counted: those appended since (this export's own record among them) are not sent.
      for await (const entry of deps.query.read(filter)) {
        if (idAfter(entry.id, last)) return;
        yield exportLine(format as AuditExportFormat, entry);
        if (entry.id === last) return;
      }
    }
    try {
      // pipeline waits for the client to take each line, and cuts the download (stops the read) when the read fails or the client leaves.
      await pipeline(Readable.from(lines()), res);
    } catch (err) {
      // The client leaving is no failure; a read that failed is (the download was cut, so it is not taken for a whole export).
      if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') logger.error('request_failed', { method: req.method, path: req.path, code: 'audit_unavailable', err: errorMessage(err) });
    }
  });
  return router;
}
