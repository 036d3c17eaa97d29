import type { AuditSink } from '../audit/record';
import type { RequestSource } from '../policy/lockout';
import type { AgentStore } from '../store/agents';

/** The card refusals that count against the agent whose reader they were tapped at. */
export const AGENT_ABUSE_REASONS: ReadonlySet<string> = new Set(['unknown_card', 'revoked_card', 'expired_card', 'card_locked']);

export interface AgentAbuseDeps {
  agents: Pick<AgentStore, 'countRefusal'>;
  audit: AuditSink;
  /** CARDAUTH_AGENT_REFUSALS in CARDAUTH_AGENT_REFUSALS_WINDOW_SEC. */
  max: number;
  windowSec: number;
  /**
   * Whether unknown cards count (false while CARDAUTH_SELF_ENROLLMENT is on: at a card roll-out
   * every clinician taps a card nobody has yet, and a desk would be suspended by the tenth).
   * Revoked, expired and locked cards always count.
   */
  countUnknownCards: boolean;
}

/**
 * The agent scope of the lockout (issue 10 §3): an unknown or refused card tapped at an
 * approved agent's reader (a signed statement on a fresh nonce: a card at that reader now) is
 * counted against the agent; the one that reaches `max` in the window suspends it (atomically
 * across nodes, see AgentStore.countRefusal) and raises the alert `agent.suspended`, outcome
 * `failure`, with the count. Its statements are then refused (`agent_suspended`) until an
 * officer runs `agent unsuspend`.
 *
 * @example
 * const agentAbuse = createAgentAbuse({ agents, audit, max: 10, windowSec: 300, countUnknownCards: true });
 * await agentAbuse('unknown_card', agentId, source);
 */
export function createAgentAbuse(deps: AgentAbuseDeps) {
  return async function agentAbuse(reason: string, agentId: string, source: RequestSource): Promise<void> {
    if (!AGENT_ABUSE_REASONS.has(reason) || (reason === 'unknown_card' && !deps.countUnknownCards)) return;
    const { count, suspended } = await deps.agents.countRefusal(agentId, { max: deps.max, windowSec: deps.windowSec });
    if (!suspended) return;
    await deps.audit.append({
      type: 'agent.suspended',
      outcome: 'failure',
      reason: 'refused_cards',
      actor: 'system:abuse',
      source: { ...source, agentId },
      details: { count, windowSec: deps.windowSec, before: 'approved', after: 'suspended' },
    });
  };
}
