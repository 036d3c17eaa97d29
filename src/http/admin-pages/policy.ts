import { Router } from 'express';
import { effectivePolicy, type PolicyConfig } from '../../admin/policy';
import type { AdminPage, AdminPageKit } from './kit';

/**
 * The effective policy page (`/admin/policy`): every password and lockout value and where it
 * came from (profile, config file, environment), as `cardauth policy show` prints it.
 *
 * @example
 * router.use(createPolicyPage(kit, config).router);
 */
export function createPolicyPage(kit: AdminPageKit, config: PolicyConfig): { page: AdminPage; router: Router } {
  const router = Router();
  const policy = effectivePolicy(config);
  const page: AdminPage = {
    path: '/admin/policy',
    label: 'nav_policy',
    async show(req, res, shown) {
      kit.render(req, res, shown, page, 'policy', { policy });
    },
  };
  kit.page(router, page);
  return { page, router };
}
