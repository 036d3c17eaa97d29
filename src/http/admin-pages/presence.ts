import { Router } from 'express';
import type { PresenceStatus } from '../../presence/status';
import type { AdminPage, AdminPageKit } from './kit';

/**
 * The presence feed's page (`/admin/presence`, "СКУД"): the gate's policy in force and, per
 * access-control integration, its last statement and event, whether it is silent and its
 * events today: what `GET /admin/api/presence` and `cardauth skud status` answer. A read.
 *
 * @example
 * const { page, router } = createPresencePage(kit, createPresenceStatus({ skud, policy, now }));
 */
export function createPresencePage(kit: AdminPageKit, status: () => Promise<PresenceStatus>): { page: AdminPage; router: Router } {
  const router = Router();
  const page: AdminPage = {
    path: '/admin/presence',
    label: 'nav_presence',
    async show(req, res, shown) {
      kit.render(req, res, shown, page, 'presence', { presence: await status() });
    },
  };
  kit.page(router, page);
  return { page, router };
}
