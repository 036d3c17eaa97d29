import { Router } from 'express';
import type { AgentAdmin } from '../admin/agents';
import type { CardImport } from '../admin/card-import';
import type { CardAdmin } from '../admin/cards';
import type { EnrollmentAdmin } from '../admin/enrollments';
import type { PolicyConfig } from '../admin/policy';
import type { SessionAdmin } from '../admin/sessions';
import { createAgentsPage } from './admin-pages/agents';
import { createCardsPage, type DeskAgent } from './admin-pages/cards';
import { createAdminPageKit, type AdminPage, type AdminPageKitDeps } from './admin-pages/kit';
import { createPolicyPage } from './admin-pages/policy';
import { createSessionsPage } from './admin-pages/sessions';

export interface AdminPagesDeps extends AdminPageKitDeps {
  /** The officer's use cases (src/admin), the same the CLI and the JSON API call. */
  admin: { sessions: SessionAdmin; cards: CardAdmin; cardImport: CardImport; agents: AgentAdmin; enrollments: EnrollmentAdmin };
  /** Where the cards page finds the officer's own card agent (as the login page does). */
  desk: DeskAgent;
  /** The config the policy page shows. */
  policy: PolicyConfig;
}

/**
 * The security officer's workbench (`/admin/...`, issue 10 §8): server-rendered pages for
 * security officers and chief admins, in the nav's order. Each page is a file in
 * src/http/admin-pages/ built on the kit (guard, CSRF, step-up, layout); a new page is one
 * more entry in `pages`.
 *
 * @example
 * router.use(createAdminPages({ requireLogin, accounts, requireAuditTrail, stepUpSec, now, admin, policy: config, desk }));
 */
export function createAdminPages(deps: AdminPagesDeps): Router {
  const kit = createAdminPageKit(deps);
  const router = Router();
  const pages: Array<{ page: AdminPage; router: Router }> = [
    createSessionsPage(kit, deps.admin.sessions),
    createCardsPage(kit, deps.admin, deps.desk),
    createAgentsPage(kit, deps.admin.agents),
    createPolicyPage(kit, deps.policy),
  ];
  kit.setNav(pages.map((p) => p.page));
  router.get('/admin', ...kit.view, (_req, res) => res.redirect(303, pages[0]!.page.path));
  for (const p of pages) router.use(p.router);
  router.use('/admin', kit.errors);
  return router;
}
