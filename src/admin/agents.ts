import { CardauthError } from '../errors';
import type { Stores } from '../services';
import type { Agent, NewAgent } from '../store/agents';
import { endSessionsOf } from './end-sessions';
import { authorize } from './permissions';
import { recordChange, type ChangedBy } from './record-change';

/**
 * An officer's changes to workstation agents, each with its audit record
 * (and, for a revocation, the end of the sessions opened through the agent)
 * in one place; the command line and the pages only call them. Run them
 * once requireAuditTrail has passed.
 *
 * @example
 * const agents = createAgentAdmin(stores);
 * await agents.approve(by, 'ag_0123456789abcdef', { fingerprint });
 */
export function createAgentAdmin(s: Pick<Stores, 'agents' | 'sessions' | 'audit'>) {
  return {
    /** Every agent, oldest first (a read any admin role may make). */
    list: (): Promise<Agent[]> => s.agents.list(),

    /** Registers an agent from its public key (pending); audited as `agent.registered`. */
    async register(by: ChangedBy, args: Pick<NewAgent, 'name' | 'publicJwk'>): Promise<Agent> {
      await authorize(s.audit, by, 'agent.registered');
      const agent = await s.agents.register({ name: args.name, publicJwk: args.publicJwk });
      await recordChange(
        s.audit,
        by,
        { type: 'agent.registered', outcome: 'success', source: { agentId: agent.id, workstation: agent.name }, details: { fingerprint: agent.fingerprint, alg: agent.alg } },
        `agent ${agent.id} was registered`,
      );
      return agent;
    },

    /**
     * Approves a pending agent: its statements are trusted from now on;
     * audited as `agent.approved`. With `fingerprint`, only if its key has
     * that thumbprint (`agent_state` otherwise).
     */
    async approve(by: ChangedBy, id: string, opts: { fingerprint?: string | undefined } = {}): Promise<Agent> {
      await authorize(s.audit, by, 'agent.approved', undefined, { source: { agentId: id } });
      if (opts.fingerprint !== undefined) {
        const found = await s.agents.get(id);
        if (!found) throw new CardauthError('agent_not_found', `no agent ${id}`);
        if (found.fingerprint !== opts.fingerprint) {
          throw new CardauthError('agent_state', `agent ${id} has fingerprint ${found.fingerprint}, not the one given; not approved`);
        }
      }
      const agent = await s.agents.approve(id, by.actor);
      await recordChange(
        s.audit,
        by,
        // The store approves only a pending agent.
        { type: 'agent.approved', outcome: 'success', source: { agentId: agent.id, workstation: agent.name }, details: { fingerprint: agent.fingerprint, before: 'pending', after: 'approved' } },
        `agent ${agent.id} was approved`,
      );
      return agent;
    },

    /**
     * Revokes an agent: its statements are refused from now on, and the
     * sessions opened through it end (`agent.revoked`, then one
     * `session.ended` each). Safe to repeat: an agent already revoked
     * (`already`) only has its sessions ended.
     */
    async revoke(by: ChangedBy, id: string): Promise<{ agent: Agent; already: boolean; ended: number }> {
      await authorize(s.audit, by, 'agent.revoked', undefined, { source: { agentId: id } });
      const prior = await s.agents.get(id);
      if (prior?.status === 'revoked') {
        // Already revoked (perhaps by a run that failed before its sessions were ended): end them now.
        const ended = await endSessionsOf(s, by, { what: `agent ${prior.id}`, match: { agentId: prior.id }, cause: 'agent_revoked' });
        return { agent: prior, already: true, ended };
      }
      const agent = await s.agents.revoke(id, by.actor);
      const ended = await endSessionsOf(s, by, {
        what: `agent ${agent.id}`,
        match: { agentId: agent.id },
        cause: 'agent_revoked',
        change: {
          type: 'agent.revoked',
          outcome: 'success',
          source: { agentId: agent.id, workstation: agent.name },
          details: { fingerprint: agent.fingerprint, before: prior?.status, after: 'revoked' },
        },
      });
      return { agent, already: false, ended };
    },

    /**
     * Brings an agent the abuse rule suspended back to approved: its statements are trusted
     * again and its refused-card count starts again; audited as `agent.unsuspended` with the
     * actor and `details.before`/`after`. `agent_state` unless it is suspended.
     */
    async unsuspend(by: ChangedBy, id: string): Promise<Agent> {
      await authorize(s.audit, by, 'agent.unsuspended', undefined, { source: { agentId: id } });
      const agent = await s.agents.unsuspend(id, by.actor);
      await recordChange(
        s.audit,
        by,
        // The store unsuspends only a suspended agent.
        { type: 'agent.unsuspended', outcome: 'success', source: { agentId: agent.id, workstation: agent.name }, details: { fingerprint: agent.fingerprint, before: 'suspended', after: 'approved' } },
        `agent ${agent.id} was unsuspended`,
      );
      return agent;
    },
  };
}

export type AgentAdmin = ReturnType<typeof createAgentAdmin>;
