import { createPasswordStep, type LoginAccount } from '../../src/strategies/password-step';
import type { CardStepResult } from '../../src/strategies/card-step';
import type { LockState } from '../../src/policy/lockout';
import { isCardauthError } from '../../src/errors';

// White-box: the order of the password step, with plain fakes that log calls.
function setup(opts: { account?: LoginAccount | null; lock?: LockState; passwordOk?: boolean }) {
  const calls: string[] = [];
  const step = createPasswordStep({
    accounts: {
      findByLogin: async () => {
        calls.push('findByLogin');
        return opts.account ?? null;
      },
    },
    hasher: {
      verify: async () => {
        calls.push('verify');
        return opts.passwordOk ?? false;
      },
      dummyVerify: async () => {
        calls.push('dummyVerify');
        return false;
      },
    },
    lockout: {
      check: async () => {
        calls.push('check');
        return opts.lock ?? { locked: false };
      },
      checkAccount: async () => {
        calls.push('checkAccount');
        return opts.lock ?? { locked: false };
      },
      recordFailure: async () => {
        calls.push('recordFailure');
        return { accountLockedNow: false };
      },
      recordSuccess: async () => {
        calls.push('recordSuccess');
      },
    },
    audit: {
      append: async (e) => {
        calls.push(`audit:${e.type}:${e.reason ?? e.outcome}`);
      },
    },
  });
  return { step, calls };
}

const card: CardStepResult = { accountId: 'acc_1', uid: '04A22BB25C6180' as CardStepResult['uid'], agentId: 'ag_1', workstation: 'W', reader: 'R', at: 0 };
const account: LoginAccount = { id: 'acc_1', login: 'a', displayName: 'A', roles: ['clinician'], status: 'active', passwordHash: '$argon2id$x' };
const input = { card, login: 'a', password: 'p', source: { ip: '127.0.0.1' }, sessionId: 's' };
const code = (e: unknown) => (isCardauthError(e) ? e.code : 'untyped');

describe('password step order', () => {
  it('success: lockout check, then lookup, then verify, then record', async () => {
    const { step, calls } = setup({ account, passwordOk: true });
    await expect(step(input)).resolves.toBe(account);
    expect(calls).toEqual(['check', 'findByLogin', 'verify', 'recordSuccess', 'audit:password.checked:success']);
  });

  it('success with no failures counted: nothing to clear, so no lockout write', async () => {
    const { step, calls } = setup({ account, passwordOk: true, lock: { locked: false, accountFailures: 0 } });
    await expect(step(input)).resolves.toBe(account);
    expect(calls).toEqual(['check', 'findByLogin', 'verify', 'audit:password.checked:success']);
  });

  it('success after counted failures: clears them', async () => {
    const { step, calls } = setup({ account, passwordOk: true, lock: { locked: false, accountFailures: 2 } });
    await expect(step(input)).resolves.toBe(account);
    expect(calls).toEqual(['check', 'findByLogin', 'verify', 'recordSuccess', 'audit:password.checked:success']);
  });

  it('locked: stops before looking at the password', async () => {
    const { step, calls } = setup({ account, passwordOk: true, lock: { locked: true, scope: 'account', retryAfterMs: 5000 } });
    expect(code(await step(input).catch((e) => e))).toBe('locked');
    expect(calls).toEqual(['check', 'audit:password.checked:locked']);
  });

  it('one shot (ipChecked): the card step of the same request checked the IP, so only the account is checked, still first', async () => {
    const { step, calls } = setup({ account, passwordOk: true });
    await expect(step({ ...input, ipChecked: true })).resolves.toBe(account);
    expect(calls).toEqual(['checkAccount', 'findByLogin', 'verify', 'recordSuccess', 'audit:password.checked:success']);
  });

  it('one shot, account locked: stops before looking at the password', async () => {
    const { step, calls } = setup({ account, passwordOk: true, lock: { locked: true, scope: 'account', retryAfterMs: 5000 } });
    expect(code(await step({ ...input, ipChecked: true }).catch((e) => e))).toBe('locked');
    expect(calls).toEqual(['checkAccount', 'audit:password.checked:locked']);
  });

  it('unknown account still costs a (dummy) argon2 verify', async () => {
    const { step, calls } = setup({ account: null });
    expect(code(await step(input).catch((e) => e))).toBe('login_failed');
    expect(calls).toEqual(['check', 'findByLogin', 'dummyVerify', 'recordFailure', 'audit:password.checked:unknown_account']);
  });

  it('a login of another account than the card costs a dummy verify and the same failure', async () => {
    const { step, calls } = setup({ account: { ...account, id: 'acc_2' }, passwordOk: true });
    expect(code(await step(input).catch((e) => e))).toBe('login_failed');
    expect(calls).toContain('dummyVerify');
    expect(calls).not.toContain('verify');
  });
});
