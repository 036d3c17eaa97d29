import { createFactorCheck } from '../../src/strategies/factor-check';

// Pure logic over plain fakes of the two stores.
function check(card: { accountId: string; status: 'active' | 'revoked' } | null, agent: { status: string } | null) {
  return createFactorCheck({ cards: { get: async () => card }, agents: { get: async () => agent } })({ accountId: 'acc_1', uid: '04A1A1A1A1A1A1', agentId: 'ag_1' });
}

describe('factor check', () => {
  it('answers null while the card is active on the same account and the agent approved', async () => {
    expect(await check({ accountId: 'acc_1', status: 'active' }, { status: 'approved' })).toBeNull();
  });
  it.each([
    ['revoked', { accountId: 'acc_1', status: 'revoked' as const }],
    ['bound to another account since', { accountId: 'acc_2', status: 'active' as const }],
    ['gone', null],
  ])('a card %s: card_revoked', async (_what, card) => {
    expect(await check(card, { status: 'approved' })).toBe('card_revoked');
  });
  it.each([['revoked', { status: 'revoked' }], ['pending', { status: 'pending' }], ['gone', null]])('an agent %s: agent_revoked', async (_what, agent) => {
    expect(await check({ accountId: 'acc_1', status: 'active' }, agent)).toBe('agent_revoked');
  });
});
