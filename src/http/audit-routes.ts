import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { describeParams, timeParam, toAuditFilter, typesParam, uidParam } from '../audit/query-params';
import { isStreamId, MAX_CHART_DAYS, type AuditQueryService } from '../audit/query-service';
import type { AuditSink } from '../audit/record';
import { CardauthError } from '../errors';
import type { ActorLookup } from './acting-as';
import { auditReader } from './audit-read';
import { parseQuery } from './validate';
import { DAY_MS } from '../days';
import { AUDITOR_ROLES } from '../admin/permissions';

export interface AuditRoutesDeps {
  /** The audit query service (src/audit/query-service.ts), as the CLI and the pages read it. */
  query: AuditQueryService;
  /** Where each view is recorded first (`audit.viewed`). */
  audit: AuditSink;
  /** The acting account as stored now. */
  accounts: ActorLookup;
  /** requireLogin({ roles, api: true }) of the host's session chain. */
  requireLogin: (options: { roles: readonly string[]; api: true }) => RequestHandler;
}

/** The filters of `GET /admin/api/audit`, as `audit list` takes them. */
const AuditQuery = z
  .strictObject({
    since: timeParam.optional(),
    until: timeParam.optional(),
    account: z.string().min(1).max(128).optional(),
    login: z.string().min(1).max(128).optional(),
    type: typesParam.optional(),
    outcome: z.enum(['success', 'failure']).optional(),
    agent: z.string().min(1).max(128).optional(),
    workstation: z.string().min(1).max(128).optional(),
    ip: z.string().min(1).max(64).optional(),
    uid: uidParam.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().refine(isStreamId).optional(),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since < q.until, { path: ['until'], message: 'must be later than since' });

const DaysQuery = z
  .strictObject({ since: timeParam, until: timeParam })
  .refine((q) => q.since < q.until, { path: ['until'], message: 'must be later than since' })
  .refine((q) => Math.ceil(q.until / DAY_MS) - Math.floor(q.since / DAY_MS) <= MAX_CHART_DAYS, { path: ['until'], message: `at most ${MAX_CHART_DAYS} days` });

const FILTER_NAMES = ['since', 'until', 'account', 'login', 'type', 'outcome', 'agent', 'workstation', 'ip', 'uid', 'cursor'] as const;

/**
 * The auditor's JSON API over the audit trail (issue 11 §4), for the `auditor` role only (as
 * stored now; others 403 `forbidden`), through the same query service as `cardauth audit list`:
 * - `GET /admin/api/audit?since&until&account&login&type&outcome&agent&workstation&ip&uid&limit&cursor`
 *   → `{entries: [{id, intact, record}], next}` newest first; `next` is the next page's cursor;
 * - `GET /admin/api/audit/records/:id` → `{id, intact, record}`, 404 `not_found`;
 * - `GET /admin/api/audit/days?since&until` → `{days: [{day, logins, failures, lockouts}]}`, ≤ 366 days.
 * Each answer is recorded first (`audit.viewed`, `details.via` `web`, with the filter and the
 * count); when it cannot be, nothing is answered (503 `audit_unavailable`). Bad parameters: 400
 * `bad_request` naming the parameter.
 *
 * @example
 * router.use(createAuditRoutes({ query: createAuditQueryService({ redis }), audit, accounts, requireLogin }));
 */
export function createAuditRoutes(deps: AuditRoutesDeps): Router {
  const router = Router();
  const auditorOnly = deps.requireLogin({ roles: AUDITOR_ROLES, api: true });

  /** The acting auditor (by its roles as stored now) before the read; the view recorded before the answer: no record, no answer. */
  const viewer = async (req: Request) => {
    const record = await auditReader(deps, req);
    return (details: Record<string, string | number>) => record({ type: 'audit.viewed', outcome: 'success', details });
  };

  router.get('/admin/api/audit', auditorOnly, async (req, res) => {
    const q = parseQuery(req, AuditQuery);
    const recordView = await viewer(req);
    const page = await deps.query.page(toAuditFilter(q), { limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
    await recordView({ count: page.entries.length, filter: describeParams(req.query, FILTER_NAMES) });
    res.json(page);
  });

  router.get('/admin/api/audit/days', auditorOnly, async (req, res) => {
    const q = parseQuery(req, DaysQuery);
    const recordView = await viewer(req);
    const days = await deps.query.days(q.since, q.until);
    await recordView({ count: days.length, filter: `days ${describeParams(req.query, ['since', 'until'])}` });
    res.json({ days });
  });

  router.get('/admin/api/audit/records/:id', auditorOnly, async (req, res) => {
    parseQuery(req, z.strictObject({}));
    const id = String(req.params.id);
    if (!isStreamId(id)) throw new CardauthError('bad_request', 'invalid record id: a stream id such as 1764057600000-0');
    const recordView = await viewer(req);
    const entry = await deps.query.get(id);
    await recordView({ count: entry ? 1 : 0, filter: `id=${id}` });
    if (!entry) throw new CardauthError('not_found', 'no audit record has this id');
    res.json(entry);
  });

  return router;
}
