import { Router } from 'express';
import type { AccountAdmin } from '../admin/accounts';
import type { AgentAdmin } from '../admin/agents';
import type { CardImport } from '../admin/card-import';
import type { CardAdmin } from '../admin/cards';
import type { EnrollmentAdmin } from '../admin/enrollments';
import type { IpLockAdmin } from '../admin/ip-lock';
import type { LockoutView } from '../admin/lockouts';
import type { PolicyConfig } from '../admin/policy';
import type { SessionAdmin } from '../admin/sessions';
import type { PresenceStatus } from '../presence/status';
import { createAccountsPage } from './admin-pages/accounts';
import { createAgentsPage } from './admin-pages/agents';
import { createCardsPage, type DeskAgent } from './admin-pages/cards';
import { createAdminPageKit, type AdminPage, type AdminPageKitDeps } from './admin-pages/kit';
import { createLockoutsPage } from './admin-pages/lockouts';
import { createPolicyPage } from './admin-pages/policy';
import { createPresencePage } from './admin-pages/presence';
import { createSessionsPage } from './admin-pages/sessions';

export interface AdminPagesDeps extends AdminPageKitDeps {
  /** The officer's use cases (src/admin), the same the CLI and the JSON API call. */
  admin: {
    accounts: AccountAdmin;
    sessions: SessionAdmin;
    cards: CardAdmin;
    cardImport: CardImport;
    enrollments: EnrollmentAdmin;
    agents: AgentAdmin;
    ipLocks: Pick<IpLockAdmin, 'unlock'>;
    lockouts: LockoutView;
  };
  /** Where the cards page finds the officer's own card agent (as the login page does). */
  desk: DeskAgent;
  /** The config the policy page shows. */
  policy: PolicyConfig;
  /** The presence feed's status (the СКУД page), as `GET /admin/api/presence` answers it. */
  presenceStatus: () => Promise<PresenceStatus>;
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
    createAccountsPage(kit, deps.admin.accounts),
    createCardsPage(kit, deps.admin, deps.desk),
    createAgentsPage(kit, deps.admin.agents),
    createSessionsPage(kit, deps.admin.sessions),
    createLockoutsPage(kit, deps.admin),
    createPolicyPage(kit, deps.policy),
    createPresencePage(kit, deps.presenceStatus),
  ];
  kit.setNav(pages.map((p) => p.page));
  router.get('/admin', ...kit.view, (_req, res) => res.redirect(303, pages[0]!.page.path));
  for (const p of pages) router.use(p.router);
  router.use('/admin', kit.errors);
  return router;
}
