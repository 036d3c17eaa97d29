import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { accountView } from '../admin/account-view';
import type { AccountAdmin } from '../admin/accounts';
import type { AgentAdmin } from '../admin/agents';
import type { CardAdmin } from '../admin/cards';
import type { EnrollmentAdmin } from '../admin/enrollments';
import type { ChangedBy } from '../admin/record-change';
import { normaliseUid } from '../contract/uid';
import { isAgentId } from '../store/agents';
import type { SessionAdmin } from '../admin/sessions';
import { CardauthError } from '../errors';
import { ROLES, type Role } from '../store/accounts';
import { actingAs as actingAsAccount, type ActorLookup } from './acting-as';
import { requireRecentLogin } from './require-recent-login';
import { EmptyBody, parseBody, parseQuery } from './validate';

export interface AdminRoutesDeps {
  /** The officer's use cases (src/admin): the separation of duties is checked there. */
  admin: {
    accounts: AccountAdmin;
    cards: Pick<CardAdmin, 'unlock'>;
    agents: Pick<AgentAdmin, 'unsuspend'>;
    sessions: SessionAdmin;
    enrollments: EnrollmentAdmin;
    requireAuditTrail: () => Promise<void>;
  };
  /** The acting account as stored now: its roles, not those its session opened with. */
  accounts: ActorLookup;
  /** requireLogin({ roles, api: true }) of the host's session chain. */
  requireLogin: (options: { roles: readonly string[]; api: true }) => RequestHandler;
  /** CARDAUTH_ADMIN_STEP_UP_SEC. */
  stepUpSec: number;
  now: () => number;
}

/** Who may reach the admin API at all; what each may do there, the use case decides. */
const ADMIN_ROLES: readonly Role[] = ['security_officer', 'auditor', 'chief_admin'];

const roleList = z.array(z.enum(ROLES as [Role, ...Role[]])).min(1).max(ROLES.length);
const RolesBody = z
  .strictObject({ set: roleList.optional(), add: roleList.optional(), remove: roleList.optional() })
  .refine((b) => (b.set !== undefined) !== (b.add !== undefined || b.remove !== undefined), { message: 'give either set, or add and/or remove' });

const SessionsQuery = z.strictObject({
  login: z.string().min(1).max(64).optional(),
  cursor: z.string().regex(/^[1-9]\d{0,19}$/, 'a cursor as the last page answered it').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const HANDLE = /^[0-9a-f]{64}$/;
const ApproveBody = z.union([z.strictObject({ label: z.string().max(64).optional() }), z.undefined()]);
const RejectBody = z.strictObject({ reason: z.string().min(1).max(256) });

const role = z.enum(ROLES as [Role, ...Role[]]);
/** The account list's query (also the workbench's, with its `lang`): a cursor as the last page answered it. */
export const AccountsQuery = z.strictObject({
  prefix: z.string().max(128).optional(),
  role: role.optional(),
  status: z.enum(['active', 'blocked']).optional(),
  cursor: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const CreateBody = z.strictObject({ login: z.string().min(1).max(256), displayName: z.string().min(1).max(128), roles: roleList });
const NoteBody = z.union([z.strictObject({ note: z.string().min(1).max(200).optional() }), z.undefined()]);

/**
 * The admin JSON API (the first of `/admin/api/`; the workbench brings the rest), each route
 * behind requireLogin with an admin role, the step-up (a card + password login no older than
 * CARDAUTH_ADMIN_STEP_UP_SEC, else 401 `step_up_required`), and, as every write, the Origin
 * check and SameSite=strict cookies; then the audit trail check and the use case, acting as the
 * logged-in account (`acct:<id>`, via `web`) with its roles as stored:
 * - `GET /admin/api/accounts?prefix=&role=&status=&cursor=&limit=` → `{accounts, cursor}` (a read);
 * - `POST /admin/api/accounts` `{login, displayName, roles}` → 201 `{account, password}` (one-time);
 * - `POST /admin/api/accounts/:login/block|unblock` `{note?}`, `.../reset-password` `{}`;
 * - `POST /admin/api/accounts/:login/unlock` `{}` → `{login, failures}`;
 * - `POST /admin/api/accounts/:login/roles` `{set}` or `{add?, remove?}` → `{login, roles, before, changed, ended}`;
 * - `POST /admin/api/cards/:uid/unlock` `{}` → `{uid, accountId, failures}`;
 * - `POST /admin/api/agents/:id/unsuspend` `{}` → `{id, name, status}`;
 * - `GET /admin/api/sessions?login=&cursor=&limit=` → `{sessions, cursor}` (a read: no step-up);
 * - `POST /admin/api/sessions/:handle/end` `{}` → the session ended;
 * - `GET /admin/api/cards/pending` → `{pending: [{uid, login, displayName, agentId, workstation, reader, requestedAt, expiresAt}]}` (a read: no step-up);
 * - `POST /admin/api/cards/pending/:uid/approve` `{label?}` → `{login, uid, status}` (the card bound);
 * - `POST /admin/api/cards/pending/:uid/reject` `{reason}` → `{login, uid}`.
 *
 * @example
 * router.use(createAdminRoutes({ admin, accounts, requireLogin, stepUpSec: 900, now }));
 */
export function createAdminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  const guard = [deps.requireLogin({ roles: ADMIN_ROLES, api: true }), requireRecentLogin({ maxAgeSec: deps.stepUpSec, now: deps.now, api: true })];

  const actingAs = (req: Request): Promise<ChangedBy> => actingAsAccount(deps.accounts, req);

  /** A read: the acting account must still hold an admin role, as stored now. */
  const readerOf = async (req: Request, what: string) => {
    const by = await actingAs(req);
    if (by.principal === 'system' || !by.principal.roles.some((r) => ADMIN_ROLES.includes(r))) throw new CardauthError('forbidden', `this account may not list ${what}`);
  };

  router.get('/admin/api/sessions', guard[0]!, async (req, res) => {
    const q = parseQuery(req, SessionsQuery);
    await readerOf(req, 'sessions');
    res.json(await deps.admin.sessions.list(q));
  });

  router.get('/admin/api/accounts', guard[0]!, async (req, res) => {
    const q = parseQuery(req, AccountsQuery);
    await readerOf(req, 'accounts');
    res.json(await deps.admin.accounts.list(q));
  });

  router.post('/admin/api/accounts', ...guard, async (req, res) => {
    const body = parseBody(req, CreateBody);
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const { account, password } = await deps.admin.accounts.createWithTemporaryPassword(by, body);
    res.status(201).json({ account: accountView(account), password });
  });

  router.post('/admin/api/accounts/:login/block', ...guard, async (req, res) => {
    const body = parseBody(req, NoteBody) ?? {};
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const { account, already, ended } = await deps.admin.accounts.block(by, { login: String(req.params.login), note: body.note });
    res.json({ login: account.login, status: 'blocked', already, ended });
  });

  router.post('/admin/api/accounts/:login/unblock', ...guard, async (req, res) => {
    const body = parseBody(req, NoteBody) ?? {};
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const { account, changed } = await deps.admin.accounts.unblock(by, { login: String(req.params.login), note: body.note });
    res.json({ login: account.login, status: 'active', changed });
  });

  router.post('/admin/api/accounts/:login/reset-password', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const { account, password, ended } = await deps.admin.accounts.resetPassword(by, String(req.params.login));
    res.json({ login: account.login, password, ended });
  });

  router.get('/admin/api/cards/pending', guard[0]!, async (req, res) => {
    parseQuery(req, z.strictObject({}));
    await readerOf(req, 'pending enrollments');
    res.json({ pending: await deps.admin.enrollments.list() });
  });

  router.post('/admin/api/cards/pending/:uid/approve', ...guard, async (req, res) => {
    const body = parseBody(req, ApproveBody);
    const uid = normaliseUid(String(req.params.uid));
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const { account, binding } = await deps.admin.enrollments.approve(by, { uid, label: body?.label });
    res.json({ login: account?.login ?? null, uid: binding.uid, status: binding.status });
  });

  router.post('/admin/api/cards/pending/:uid/reject', ...guard, async (req, res) => {
    const { reason } = parseBody(req, RejectBody);
    const uid = normaliseUid(String(req.params.uid));
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const { account, pending } = await deps.admin.enrollments.reject(by, { uid, note: reason });
    res.json({ login: account?.login ?? null, uid: pending.uid });
  });

  router.post('/admin/api/sessions/:handle/end', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const handle = String(req.params.handle);
    if (!HANDLE.test(handle)) throw new CardauthError('session_not_found', 'no live session has this handle');
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    res.json(await deps.admin.sessions.end(by, handle));
  });

  router.post('/admin/api/accounts/:login/unlock', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const { account, failures } = await deps.admin.accounts.unlock(by, String(req.params.login));
    res.json({ login: account.login, failures });
  });

  router.post('/admin/api/cards/:uid/unlock', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const uid = normaliseUid(String(req.params.uid));
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const { binding, failures } = await deps.admin.cards.unlock(by, uid);
    res.json({ uid: binding.uid, accountId: binding.accountId, failures });
  });

  router.post('/admin/api/agents/:id/unsuspend', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const id = String(req.params.id);
    if (!isAgentId(id)) throw new CardauthError('agent_not_found', 'no such agent');
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const agent = await deps.admin.agents.unsuspend(by, id);
    res.json({ id: agent.id, name: agent.name, status: agent.status });
  });

  router.post('/admin/api/accounts/:login/roles', ...guard, async (req, res) => {
    const body = parseBody(req, RolesBody);
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    const { account, before, changed, ended } = await deps.admin.accounts.changeRoles(by, { login: String(req.params.login), ...body });
    res.json({ login: account.login, roles: account.roles, before, changed, ended });
  });

  return router;
}
