import { Router } from 'express';
import { z } from 'zod';
import type { AccountAdmin } from '../../admin/accounts';
import { parseQuery } from '../validate';
import type { AdminPage, AdminPageKit } from './kit';

const Query = z.strictObject({ cursor: z.string().regex(/^[1-9]\d{0,19}$/).optional(), lang: z.string().optional() });
const PAGE_SIZE = 50;

/**
 * The lockouts page (`/admin/lockouts`): the accounts locked now by failed password attempts,
 * with the count and until when (AccountAdmin.locked); unlock one (AccountAdmin.unlock, as
 * `cardauth account unlock` and the JSON API).
 *
 * @example
 * const { page, router } = createLockoutsPage(kit, admin.accounts);
 */
export function createLockoutsPage(kit: AdminPageKit, accounts: AccountAdmin): { page: AdminPage; router: Router } {
  const router = Router();
  const page: AdminPage = {
    path: '/admin/lockouts',
    label: 'nav_lockouts',
    async show(req, res, shown) {
      const q = parseQuery(req, Query);
      const list = await accounts.locked({ cursor: q.cursor, limit: PAGE_SIZE });
      const now = kit.now();
      kit.render(req, res, shown, page, 'lockouts', {
        locked: list.accounts.map((l) => ({ ...l, until: now + l.msLeft })),
        firstHref: q.cursor ? '/admin/lockouts' : '',
        nextHref: list.cursor ? `/admin/lockouts?cursor=${list.cursor}` : '',
      });
    },
  };
  kit.page(router, page);
  kit.action(router, '/admin/lockouts/:login/unlock', page, async (req, by) => {
    const { account, failures } = await accounts.unlock(by, String(req.params.login));
    return { key: failures > 0 ? 'done_unlocked' : 'done_not_locked', params: { login: account.login, failures } };
  });
  return { page, router };
}
