import type { CardStatus } from '../store/cards';

/** Why the factors of a passed card step, or of an open session, no longer count. */
export type FactorProblem = 'account_blocked' | 'card_revoked' | 'card_expired' | 'agent_revoked' | 'agent_suspended';

export interface FactorCheckDeps {
  /**
   * Given, a blocked account counts as a problem too. The session guard
   * gives it; the password step does not, because it refuses a blocked
   * account itself with the one generic failure (a different answer there
   * would tell a blocked account from a wrong password).
   */
  accounts?: { get(id: string): Promise<{ status: string } | null> };
  cards: { get(uid: string): Promise<{ accountId: string; status: CardStatus } | null> };
  agents: { get(id: string): Promise<{ status: string } | null> };
}

/**
 * Reads again whether a card step's account (when `accounts` is given),
 * card and agent still count: the account not blocked, the card still
 * active on it and not expired (`card_expired`, otherwise as a revoked card), the agent still approved
 * (`agent_suspended` when the abuse rule suspended it). An officer may have blocked or
 * revoked one since the statement was checked; a card step waits up to
 * CARDAUTH_NONCE_TTL_SEC for its password, and a session lives for hours.
 * Answers `null` when all still count. Store failures propagate
 * (`unavailable`, fail closed).
 *
 * @example
 * const factorProblem = createFactorCheck({ cards, agents });
 * if (await factorProblem({ accountId, uid, agentId })) throw new CardauthError('card_step_required', 'present the card again');
 */
export function createFactorCheck(deps: FactorCheckDeps) {
  return async function factorProblem(f: { accountId: string; uid: string; agentId: string }): Promise<FactorProblem | null> {
    const [account, card, agent] = await Promise.all([deps.accounts?.get(f.accountId), deps.cards.get(f.uid), deps.agents.get(f.agentId)]);
    if (deps.accounts && (!account || account.status !== 'active')) return 'account_blocked';
    if (card?.status === 'expired' && card.accountId === f.accountId) return 'card_expired';
    if (!card || card.status !== 'active' || card.accountId !== f.accountId) return 'card_revoked';
    if (agent?.status === 'suspended') return 'agent_suspended';
    if (!agent || agent.status !== 'approved') return 'agent_revoked';
    return null;
  };
}
