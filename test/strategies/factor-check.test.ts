import { createFactorCheck } from '../../src/strategies/factor-check';

// Pure logic over plain fakes of the three stores.
const ACTIVE = { status: 'active' };
function check(card: { accountId: string; status: 'active' | 'revoked' | 'expired' } | null, agent: { status: string } | null, account: { status: string } | null = ACTIVE) {
  return createFactorCheck({ accounts: { get: async () => account }, cards: { get: async () => card }, agents: { get: async () => agent } })({
    accountId: 'acc_1',
    uid: '04A1A1A1A1A1A1',
    agentId: 'ag_1',
  });
}

describe('factor check', () => {
  it('answers null while the account is active, the card active on it and the agent approved', async () => {
    expect(await check({ accountId: 'acc_1', status: 'active' }, { status: 'approved' })).toBeNull();
  });
  it.each([
    ['revoked', { accountId: 'acc_1', status: 'revoked' as const }],
    ['bound to another account since', { accountId: 'acc_2', status: 'active' as const }],
    ['gone', null],
  ])('a card %s: card_revoked', async (_what, card) => {
    expect(await check(card, { status: 'approved' })).toBe('card_revoked');
  });
  it('a card expired on the account: card_expired (expired on another account: card_revoked)', async () => {
    expect(await check({ accountId: 'acc_1', status: 'expired' }, { status: 'approved' })).toBe('card_expired');
    expect(await check({ accountId: 'acc_2', status: 'expired' }, { status: 'approved' })).toBe('card_revoked');
  });
  it.each([['revoked', { status: 'revoked' }], ['pending', { status: 'pending' }], ['gone', null]])('an agent %s: agent_revoked', async (_what, agent) => {
    expect(await check({ accountId: 'acc_1', status: 'active' }, agent)).toBe('agent_revoked');
  });
  it.each([['blocked', { status: 'blocked' }], ['gone', null]])('an account %s: account_blocked, whatever its card and agent', async (_what, account) => {
    expect(await check({ accountId: 'acc_1', status: 'active' }, { status: 'approved' }, account)).toBe('account_blocked');
    expect(await check(null, null, account)).toBe('account_blocked');
  });
  it('without the accounts store (the password step) the account is not looked at: the step refuses it generically itself', async () => {
    const check = createFactorCheck({ cards: { get: async () => ({ accountId: 'acc_1', status: 'active' as const }) }, agents: { get: async () => ({ status: 'approved' }) } });
    expect(await check({ accountId: 'acc_1', uid: '04A1A1A1A1A1A1', agentId: 'ag_1' })).toBeNull();
  });
});
