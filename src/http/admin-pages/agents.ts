import { Router } from 'express';
import { z } from 'zod';
import type { AgentAdmin } from '../../admin/agents';
import { CardauthError } from '../../errors';
import { isAgentId } from '../../store/agents';
import { parseBody } from '../validate';
import type { AdminPage, AdminPageKit } from './kit';

/** The approve form carries the fingerprint the officer saw: a key changed since is not approved. */
const ApproveForm = z.object({ fingerprint: z.string().max(64) });

/** The agent a form's path names (`agent_not_found` for anything not an agent id). */
const agentIdOf = (id: unknown): string => {
  if (!isAgentId(id)) throw new CardauthError('agent_not_found', 'no such agent');
  return id;
};

/**
 * The workstations page (`/admin/agents`): pending agents with their key fingerprint and the
 * IP they enrolled from, to approve or revoke; the ones the abuse rule suspended, to unsuspend
 * or revoke; approved and revoked ones. Each form calls the same AgentAdmin as
 * `cardauth agent approve|revoke|unsuspend` and the JSON API (an approval names the
 * fingerprint the officer saw, as `agent approve --fingerprint` does).
 *
 * @example
 * router.use(createAgentsPage(kit, admin.agents).router);
 */
export function createAgentsPage(kit: AdminPageKit, agents: AgentAdmin): { page: AdminPage; router: Router } {
  const router = Router();
  const page: AdminPage = {
    path: '/admin/agents',
    label: 'nav_agents',
    async show(req, res, shown) {
      const all = await agents.list();
      kit.render(req, res, shown, page, 'agents', {
        pending: all.filter((a) => a.status === 'pending'),
        approved: all.filter((a) => a.status === 'approved'),
        suspended: all.filter((a) => a.status === 'suspended'),
        revoked: all.filter((a) => a.status === 'revoked'),
      });
    },
  };
  kit.page(router, page);
  kit.action(router, '/admin/agents/:id/approve', page, async (req, by) => {
    const { fingerprint } = parseBody(req, ApproveForm);
    const agent = await agents.approve(by, agentIdOf(req.params.id), { fingerprint });
    return { key: 'done_agent_approved', params: { name: agent.name } };
  });
  kit.action(router, '/admin/agents/:id/revoke', page, async (req, by) => {
    const { agent, ended } = await agents.revoke(by, agentIdOf(req.params.id));
    return { key: 'done_agent_revoked', params: { name: agent.name, ended } };
  });
  kit.action(router, '/admin/agents/:id/unsuspend', page, async (req, by) => {
    const agent = await agents.unsuspend(by, agentIdOf(req.params.id));
    return { key: 'done_agent_unsuspended', params: { name: agent.name } };
  });
  return { page, router };
}
