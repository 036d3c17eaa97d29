import express, { Router, type Request, type RequestHandler } from 'express';
import { CARD_CSV_MAX_BYTES } from '../admin/card-csv';
import type { CardRow } from '../admin/cards';
import { agentView, cardView } from '../admin/views';
import { normaliseUid } from '../contract/uid';
import { isAgentId, type Agent } from '../store/agents';
import { REVOKE_REASONS, type RevokeReason } from '../store/cards';
import type { DeskRead } from '../strategies/desk-read';
import { requestSource } from './request-source';
import { z } from 'zod';
import { accountView } from '../admin/account-view';
import type { AccountAdmin } from '../admin/accounts';
import type { AgentAdmin } from '../admin/agents';
import type { CardImport } from '../admin/card-import';
import type { CardAdmin } from '../admin/cards';
import type { EnrollmentAdmin } from '../admin/enrollments';
import { OFFICER_ROLES, PRIVILEGED_ROLES } from '../admin/permissions';
import type { ChangedBy } from '../admin/record-change';
import type { SessionAdmin } from '../admin/sessions';
import { CardauthError } from '../errors';
import { ROLES, type Role } from '../store/accounts';
import { actingAs as actingAsAccount, type ActorLookup } from './acting-as';
import { requireRecentLogin } from './require-recent-login';
import { EmptyBody, parseBody, parseQuery, StatementBody } from './validate';

export interface AdminRoutesDeps {
  /** The officer's use cases (src/admin): the separation of duties is checked there. */
  admin: {
    accounts: AccountAdmin;
    sessions: SessionAdmin;
    cards: CardAdmin;
    cardImport: CardImport;
    agents: AgentAdmin;
    enrollments: EnrollmentAdmin;
    requireAuditTrail: () => Promise<void>;
  };
  /** The acting account as stored now: its roles, not those its session opened with. */
  accounts: ActorLookup;
  /** requireLogin({ roles, api: true }) of the host's session chain. */
  requireLogin: (options: { roles: readonly string[]; api: true }) => RequestHandler;
  /** Reads the UID of a card at the officer's own desk reader (createDeskRead). */
  deskRead: DeskRead;
  /** CARDAUTH_ADMIN_STEP_UP_SEC. */
  stepUpSec: number;
  now: () => number;
}

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

const CardsQuery = z.strictObject({
  login: z.string().min(1).max(64).optional(),
  uid: z.string().min(1).max(64).optional(),
  status: z.enum(['active', 'expired', 'revoked']).optional(),
  cursor: z.string().min(1).max(700).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
/** The new card of a bind or replace: `expiresAt` an ISO time (with its offset) in the future. */
const NewCardBody = {
  uid: z.string().min(1).max(64),
  label: z.string().max(256).optional(),
  expiresAt: z.iso.datetime({ offset: true }).transform((v) => Date.parse(v)).optional(),
  reissueReason: z.string().min(1).max(1024).optional(),
};
const BindBody = z.strictObject({ login: z.string().min(1).max(256), ...NewCardBody });
const ReplaceBody = z.strictObject(NewCardBody);
const RevokeBody = z.strictObject({ reason: z.enum(REVOKE_REASONS as [RevokeReason, ...RevokeReason[]]) });
const ImportQuery = z.strictObject({ dryRun: z.enum(['true', 'false', '1', '0']).optional(), file: z.string().min(1).max(256).optional() });
const AgentApproveBody = z.union([z.strictObject({ fingerprint: z.string().min(1).max(64).optional() }), z.undefined()]);

/** A card as the API answers it: the binding (times as ISO strings, as `card list --json`) and its owner. */
const cardJson = (r: CardRow) => ({ ...cardView(r.binding), owner: r.owner });
/** An agent as the API answers it (as `agent list --json`), with the IP it enrolled from. */
const agentJson = (a: Agent) => ({ ...agentView(a), enrolledFrom: a.enrolledFrom ?? null });

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
 * - `GET /admin/api/sessions?login=&cursor=&limit=` → `{sessions, cursor}` (a read: no step-up);
 * - `POST /admin/api/sessions/:handle/end` `{}` → the session ended;
 * - `POST /admin/api/cards/:uid/unlock` `{}` → `{uid, accountId, failures}`;
 * - `POST /admin/api/agents/:id/unsuspend` `{}` → `{id, name, status}`;
 * - `GET /admin/api/cards/pending` → `{pending: [{uid, login, displayName, agentId, workstation, reader, requestedAt, expiresAt}]}` (a read: no step-up);
 * - `POST /admin/api/cards/pending/:uid/approve` `{label?}` → `{login, uid, status}` (the card bound);
 * - `POST /admin/api/cards/pending/:uid/reject` `{reason}` → `{login, uid}`;
 * - the cards and agents of the workbench (README, HTTP API): `GET|POST /admin/api/cards`,
 *   `.../:uid/revoke|lost|replace`, `.../import` (text/csv), `.../desk-read`; `GET /admin/api/agents`,
 *   `.../:id/approve|revoke`.
 *
 * @example
 * router.use(createAdminRoutes({ admin, accounts, requireLogin, stepUpSec: 900, now }));
 */
export function createAdminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  const guard = [deps.requireLogin({ roles: PRIVILEGED_ROLES, api: true }), requireRecentLogin({ maxAgeSec: deps.stepUpSec, now: deps.now, api: true })];

  const actingAs = (req: Request): Promise<ChangedBy> => actingAsAccount(deps.accounts, req);

  /** A read: the acting account must still hold an admin role, as stored now. */
  const readerOf = async (req: Request, what: string) => {
    const by = await actingAs(req);
    if (by.principal === 'system' || !by.principal.roles.some((r) => PRIVILEGED_ROLES.includes(r))) throw new CardauthError('forbidden', `this account may not list ${what}`);
  };

  /** A write: who acts, once the audit trail is writable. */
  const writer = async (req: Request): Promise<ChangedBy> => {
    const by = await actingAs(req);
    await deps.admin.requireAuditTrail();
    return by;
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
    const by = await writer(req);
    const { account, password } = await deps.admin.accounts.createWithTemporaryPassword(by, body);
    res.status(201).json({ account: accountView(account), password });
  });

  router.post('/admin/api/accounts/:login/block', ...guard, async (req, res) => {
    const body = parseBody(req, NoteBody) ?? {};
    const by = await writer(req);
    const { account, already, ended } = await deps.admin.accounts.block(by, { login: String(req.params.login), note: body.note });
    res.json({ login: account.login, status: 'blocked', already, ended });
  });

  router.post('/admin/api/accounts/:login/unblock', ...guard, async (req, res) => {
    const body = parseBody(req, NoteBody) ?? {};
    const by = await writer(req);
    const { account, changed } = await deps.admin.accounts.unblock(by, { login: String(req.params.login), note: body.note });
    res.json({ login: account.login, status: 'active', changed });
  });

  router.post('/admin/api/accounts/:login/reset-password', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const by = await writer(req);
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
    const by = await writer(req);
    const { account, binding } = await deps.admin.enrollments.approve(by, { uid, label: body?.label });
    res.json({ login: account?.login ?? null, uid: binding.uid, status: binding.status });
  });

  router.post('/admin/api/cards/pending/:uid/reject', ...guard, async (req, res) => {
    const { reason } = parseBody(req, RejectBody);
    const uid = normaliseUid(String(req.params.uid));
    const by = await writer(req);
    const { account, pending } = await deps.admin.enrollments.reject(by, { uid, note: reason });
    res.json({ login: account?.login ?? null, uid: pending.uid });
  });

  router.post('/admin/api/sessions/:handle/end', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const handle = String(req.params.handle);
    if (!HANDLE.test(handle)) throw new CardauthError('session_not_found', 'no live session has this handle');
    const by = await writer(req);
    res.json(await deps.admin.sessions.end(by, handle));
  });

  router.get('/admin/api/cards', guard[0]!, async (req, res) => {
    const q = parseQuery(req, CardsQuery);
    await readerOf(req, 'cards');
    const page = await deps.admin.cards.list({ ...q, uid: q.uid === undefined ? undefined : normaliseUid(q.uid) });
    res.json({ cards: page.cards.map(cardJson), cursor: page.cursor });
  });

  router.post('/admin/api/cards', ...guard, async (req, res) => {
    const { login, uid, ...card } = parseBody(req, BindBody);
    const { account, binding, reissued } = await deps.admin.cards.bind(await writer(req), { login, uid: normaliseUid(uid), ...card });
    res.status(201).json({ login: account.login, card: cardView(binding), reissued });
  });

  // Before the routes with a :uid, so that `desk-read` and `import` are never taken for one.
  router.post('/admin/api/cards/desk-read', deps.requireLogin({ roles: OFFICER_ROLES, api: true }), async (req, res) => {
    const { statement } = parseBody(req, StatementBody);
    const by = await actingAs(req);
    if (by.principal === 'system' || !by.principal.roles.some((r) => OFFICER_ROLES.includes(r))) throw new CardauthError('forbidden', 'only an officer reads cards at the desk');
    await deps.admin.requireAuditTrail();
    res.json(await deps.deskRead({ statement, sessionId: req.sessionID, source: requestSource(req), actor: by.actor }));
  });

  router.post('/admin/api/cards/import', ...guard, express.raw({ type: 'text/csv', limit: CARD_CSV_MAX_BYTES }), async (req, res) => {
    const q = parseQuery(req, ImportQuery);
    if (!Buffer.isBuffer(req.body)) throw new CardauthError('bad_request', 'send the CSV file as the body, Content-Type: text/csv');
    const dryRun = q.dryRun === 'true' || q.dryRun === '1';
    res.json(await deps.admin.cardImport(await writer(req), { file: q.file ?? 'admin API', bytes: req.body, dryRun }));
  });

  router.post('/admin/api/cards/:uid/replace', ...guard, async (req, res) => {
    const { uid, ...card } = parseBody(req, ReplaceBody);
    const { old, binding, ended } = await deps.admin.cards.replace(await writer(req), { oldUid: normaliseUid(String(req.params.uid)), uid: normaliseUid(uid), ...card });
    res.json({ old: cardView(old), card: cardView(binding), ended });
  });

  router.post('/admin/api/cards/:uid/revoke', ...guard, async (req, res) => {
    const { reason } = parseBody(req, RevokeBody);
    const { binding, already, ended } = await deps.admin.cards.revoke(await writer(req), { uid: normaliseUid(String(req.params.uid)), reason });
    res.json({ card: cardView(binding), already, ended });
  });

  router.post('/admin/api/cards/:uid/lost', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const { binding, already, ended } = await deps.admin.cards.lost(await writer(req), { uid: normaliseUid(String(req.params.uid)) });
    res.json({ card: cardView(binding), already, ended });
  });

  router.get('/admin/api/agents', guard[0]!, async (req, res) => {
    await readerOf(req, 'agents');
    res.json({ agents: (await deps.admin.agents.list()).map(agentJson) });
  });

  router.post('/admin/api/agents/:id/approve', ...guard, async (req, res) => {
    const body = parseBody(req, AgentApproveBody);
    const id = String(req.params.id);
    if (!isAgentId(id)) throw new CardauthError('agent_not_found', 'no such agent');
    res.json(agentJson(await deps.admin.agents.approve(await writer(req), id, { fingerprint: body?.fingerprint })));
  });

  router.post('/admin/api/agents/:id/revoke', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const id = String(req.params.id);
    if (!isAgentId(id)) throw new CardauthError('agent_not_found', 'no such agent');
    const { agent, already, ended } = await deps.admin.agents.revoke(await writer(req), id);
    res.json({ agent: agentJson(agent), already, ended });
  });

  router.post('/admin/api/accounts/:login/unlock', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const by = await writer(req);
    const { account, failures } = await deps.admin.accounts.unlock(by, String(req.params.login));
    res.json({ login: account.login, failures });
  });

  router.post('/admin/api/cards/:uid/unlock', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const uid = normaliseUid(String(req.params.uid));
    const by = await writer(req);
    const { binding, failures } = await deps.admin.cards.unlock(by, uid);
    res.json({ uid: binding.uid, accountId: binding.accountId, failures });
  });

  router.post('/admin/api/agents/:id/unsuspend', ...guard, async (req, res) => {
    parseBody(req, EmptyBody);
    const id = String(req.params.id);
    if (!isAgentId(id)) throw new CardauthError('agent_not_found', 'no such agent');
    const by = await writer(req);
    const agent = await deps.admin.agents.unsuspend(by, id);
    res.json({ id: agent.id, name: agent.name, status: agent.status });
  });

  router.post('/admin/api/accounts/:login/roles', ...guard, async (req, res) => {
    const body = parseBody(req, RolesBody);
    const by = await writer(req);
    const { account, before, changed, ended } = await deps.admin.accounts.changeRoles(by, { login: String(req.params.login), ...body });
    res.json({ login: account.login, roles: account.roles, before, changed, ended });
  });

  return router;
}
