/** Why the factors of a passed card step, or of an open session, no longer count. */
export type FactorProblem = 'card_revoked' | 'agent_revoked';

export interface FactorCheckDeps {
  cards: { get(uid: string): Promise<{ accountId: string; status: 'active' | 'revoked' } | null> };
  agents: { get(id: string): Promise<{ status: string } | null> };
}

/**
 * Reads again whether a card step's card and agent still count: the card
 * still active on the same account, the agent still approved. An officer
 * may have revoked either since the statement was checked; a card step
 * waits up to CARDAUTH_NONCE_TTL_SEC for its password, and a session lives
 * for hours. Answers `null` when both still count. Store failures propagate
 * (`unavailable`, fail closed).
 *
 * @example
 * const factorProblem = createFactorCheck({ cards, agents });
 * if (await factorProblem({ accountId, uid, agentId })) throw new CardauthError('card_step_required', 'present the card again');
 */
export function createFactorCheck(deps: FactorCheckDeps) {
  return async function factorProblem(f: { accountId: string; uid: string; agentId: string }): Promise<FactorProblem | null> {
    const [card, agent] = await Promise.all([deps.cards.get(f.uid), deps.agents.get(f.agentId)]);
    if (!card || card.status !== 'active' || card.accountId !== f.accountId) return 'card_revoked';
    if (!agent || agent.status !== 'approved') return 'agent_revoked';
    return null;
  };
}
