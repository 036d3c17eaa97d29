import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AccountAdmin } from '../../admin/accounts';
import { ROLES, type Role } from '../../store/accounts';
import { AccountsQuery } from '../admin-routes';
import { parseBody, parseQuery } from '../validate';
import type { AdminPage, AdminPageKit } from './kit';

const PAGE_SIZE = 50;
/** A filter form's empty choice ("any") is no filter at all. */
const blank = <S extends z.ZodType>(schema: S) => z.preprocess((v) => (v === '' ? undefined : v), schema);
const ListQuery = AccountsQuery.extend({
  prefix: blank(AccountsQuery.shape.prefix),
  role: blank(AccountsQuery.shape.role),
  status: blank(AccountsQuery.shape.status),
  lang: z.string().optional(),
});
const role = z.enum(ROLES as [Role, ...Role[]]);
/** Form bodies: the CSRF token and `back` ride along (checked by the kit), so not strict. */
const CreateForm = z.object({ login: z.string().trim().min(1).max(256), displayName: z.string().trim().min(1).max(128), roles: z.union([role.transform((r) => [r]), z.array(role).min(1).max(ROLES.length)]) });
const RolesForm = z.object({ roles: z.union([role.transform((r) => [r]), z.array(role).min(1).max(ROLES.length)]) });

/**
 * The accounts page (`/admin/accounts`): the list, filtered on the server by a login or
 * display-name prefix, role and status and paged by cursor (AccountAdmin.list, through the
 * store's index); create (the one-time password shown once), block, unblock, reset password
 * (shown once), unlock; and each account's own page (`/admin/accounts/:login`) with its roles
 * form. Each form calls the AccountAdmin use case the CLI and the JSON API call.
 *
 * @example
 * const { page, router } = createAccountsPage(kit, admin.accounts);
 */
export function createAccountsPage(kit: AdminPageKit, accounts: AccountAdmin): { page: AdminPage; router: Router } {
  const router = Router();
  const page: AdminPage = {
    path: '/admin/accounts',
    label: 'nav_accounts',
    async show(req, res, shown) {
      // An account's own page, also after a form about it failed.
      const login = req.params.login === undefined ? undefined : String(req.params.login);
      if (login !== undefined) {
        const one = await accounts.show(login);
        return kit.render(req, res, shown, page, 'account', { ...one, lockedUntil: one.failures > 0 ? kit.now() + one.msLeft : null, roles: ROLES, heading: { key: 'account_heading', params: { login: one.account.login } } });
      }
      const q = parseQuery(req, ListQuery);
      const list = await accounts.list({ prefix: q.prefix?.trim() || undefined, role: q.role, status: q.status, cursor: q.cursor, limit: PAGE_SIZE });
      const query = (cursor?: string) => {
        const p = new URLSearchParams({ ...(q.prefix ? { prefix: q.prefix } : {}), ...(q.role ? { role: q.role } : {}), ...(q.status ? { status: q.status } : {}), ...(cursor ? { cursor } : {}) }).toString();
        return p ? `?${p}` : '';
      };
      const form = shown.error ? (req.body as Record<string, unknown> | undefined) : undefined;
      kit.render(req, res, shown, page, 'accounts', {
        accounts: list.accounts,
        roles: ROLES,
        filter: { prefix: q.prefix ?? '', role: q.role ?? '', status: q.status ?? '' },
        back: `/admin/accounts${query(q.cursor)}`,
        firstHref: q.cursor ? `/admin/accounts${query()}` : '',
        nextHref: list.cursor ? `/admin/accounts${query(list.cursor)}` : '',
        shortPage: list.cursor !== null && list.accounts.length < PAGE_SIZE,
        typed: { login: typeof form?.login === 'string' ? form.login : '', displayName: typeof form?.displayName === 'string' ? form.displayName : '' },
      });
    },
  };
  kit.page(router, page);
  router.get('/admin/accounts/:login', ...kit.view, (req, res) => page.show(req, res, {}));

  const target = (req: Request) => String(req.params.login);
  kit.action(router, '/admin/accounts', page, async (req, by) => {
    const { account, password } = await accounts.createWithTemporaryPassword(by, parseBody(req, CreateForm));
    return { key: 'done_created', params: { login: account.login }, secret: password };
  });
  kit.action(router, '/admin/accounts/:login/block', page, async (req, by) => {
    const { account, already, ended } = await accounts.block(by, { login: target(req) });
    return { key: already ? 'done_already_blocked' : 'done_blocked', params: { login: account.login, ended } };
  });
  kit.action(router, '/admin/accounts/:login/unblock', page, async (req, by) => {
    const { account, changed } = await accounts.unblock(by, { login: target(req) });
    return { key: changed ? 'done_unblocked' : 'done_not_blocked', params: { login: account.login } };
  });
  kit.action(router, '/admin/accounts/:login/reset-password', page, async (req, by) => {
    const { account, password, ended } = await accounts.resetPassword(by, target(req));
    return { key: 'done_reset', params: { login: account.login, ended }, secret: password };
  });
  kit.action(router, '/admin/accounts/:login/unlock', page, async (req, by) => {
    const { account, failures } = await accounts.unlock(by, target(req));
    return { key: failures > 0 ? 'done_unlocked' : 'done_not_locked', params: { login: account.login, failures } };
  });
  kit.action(router, '/admin/accounts/:login/roles', page, async (req, by) => {
    const { account, changed, ended } = await accounts.changeRoles(by, { login: target(req), set: parseBody(req, RolesForm).roles });
    return { key: changed ? 'done_roles' : 'done_roles_same', params: { login: account.login, roles: account.roles.join(', '), ended } };
  });
  return { page, router };
}
