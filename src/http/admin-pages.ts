import { Router } from 'express';
import type { AccountAdmin } from '../admin/accounts';
import type { AgentAdmin } from '../admin/agents';
import type { CardImport } from '../admin/card-import';
import type { CardAdmin } from '../admin/cards';
import type { EnrollmentAdmin } from '../admin/enrollments';
import type { IpLockAdmin } from '../admin/ip-lock';
import type { LockoutView } from '../admin/lockouts';
import { PRIVILEGED_ROLES } from '../admin/permissions';
import type { PolicyConfig } from '../admin/policy';
import type { SessionAdmin } from '../admin/sessions';
import type { AuditIntegrity } from '../audit/integrity';
import type { AuditQueryService } from '../audit/query-service';
import type { AuditSink } from '../audit/record';
import type { PresenceStatus } from '../presence/status';
import { createAccountsPage } from './admin-pages/accounts';
import { createAgentsPage } from './admin-pages/agents';
import { createAuditChartPage } from './admin-pages/audit-chart';
import { createAuditExport } from './admin-pages/audit-export';
import { createAuditIntegrityPage } from './admin-pages/audit-integrity';
import { createAuditLogPage } from './admin-pages/audit-log';
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
    /** The auditor's pages: the audit query service (the same the CLI and the JSON API ask) and the integrity checks. */
    auditQuery: AuditQueryService;
    auditIntegrity: AuditIntegrity;
  };
  /** Where the auditor's views and exports are recorded. */
  audit: AuditSink;
  /** Where the cards page finds the officer's own card agent (as the login page does). */
  desk: DeskAgent;
  /** The config the policy page shows. */
  policy: PolicyConfig;
  /** The presence feed's status (the СКУД page), as `GET /admin/api/presence` answers it. */
  presenceStatus: () => Promise<PresenceStatus>;
}

/**
 * The security officer's workbench (`/admin/...`, issue 10 §8): server-rendered pages for
 * security officers and chief admins, and the auditor's own pages (`/admin/audit...`, issue 11
 * §8), in the nav's order; each role sees its own pages in the nav, `/admin` goes to the first
 * of them, and any other page is 403 for it. Each page is a file in
 * src/http/admin-pages/ built on the kit (guard, CSRF, step-up, layout); a new page is one
 * more entry in `pages`.
 *
 * @example
 * router.use(createAdminPages({ requireLogin, accounts, requireAuditTrail, stepUpSec, now, admin, policy: config, desk }));
 */
export function createAdminPages(deps: AdminPagesDeps): Router {
  const kit = createAdminPageKit(deps);
  const router = Router();
  const auditor = { query: deps.admin.auditQuery, integrity: deps.admin.auditIntegrity, audit: deps.audit, accounts: deps.accounts };
  const pages: Array<{ page: AdminPage; router: Router }> = [
    createAccountsPage(kit, deps.admin.accounts),
    createCardsPage(kit, deps.admin, deps.desk),
    createAgentsPage(kit, deps.admin.agents),
    createSessionsPage(kit, deps.admin.sessions),
    createLockoutsPage(kit, deps.admin),
    createPolicyPage(kit, deps.policy),
    createPresencePage(kit, deps.presenceStatus),
    createAuditLogPage(kit, auditor),
    createAuditIntegrityPage(kit, auditor),
    createAuditChartPage(kit, auditor),
  ];
  kit.setNav(pages.map((p) => p.page));
  router.get('/admin', ...kit.guard(PRIVILEGED_ROLES), (req, res) => res.redirect(303, kit.home(req)!.path));
  for (const p of pages) router.use(p.router);
  router.use(createAuditExport(kit, auditor, deps.logger));
  router.use('/admin', kit.errors);
  return router;
}
