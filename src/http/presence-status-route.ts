import { Router, type RequestHandler } from 'express';
import { PRIVILEGED_ROLES } from '../admin/permissions';
import type { PresenceStatus } from '../presence/status';

/**
 * `GET /admin/api/presence` → the presence feed's status (createPresenceStatus): the policy in
 * force and, per access-control integration, its last statement and event, whether it is
 * silent and its events today. A read: a logged-in officer, auditor or chief admin, no step-up
 * (as `GET /admin/api/sessions`).
 *
 * @example
 * router.use(createPresenceStatusRoute({ status, requireLogin }));
 */
export function createPresenceStatusRoute(deps: { status: () => Promise<PresenceStatus>; requireLogin: (options: { roles: readonly string[]; api: true }) => RequestHandler }): Router {
  const router = Router();
  router.get('/admin/api/presence', deps.requireLogin({ roles: PRIVILEGED_ROLES, api: true }), async (_req, res) => {
    res.json(await deps.status());
  });
  return router;
}
