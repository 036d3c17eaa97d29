import { createPasswordStep, type LoginAccount } from '../../src/strategies/password-step';
import type { CardStepResult } from '../../src/strategies/card-step';
import type { AttemptStart, AttemptSubject } from '../../src/policy/lockout';
import { CardauthError, isCardauthError } from '../../src/errors';

// White-box: the order of the password step, with plain fakes that log calls.
function setup(opts: { account?: LoginAccount | null; start?: AttemptStart; passwordOk?: boolean; verifyThrows?: boolean }) {
  const calls: string[] = [];
  const subjects: AttemptSubject[] = [];
  const claimed = new Set<string>();
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
        if (opts.verifyThrows) throw new Error('hasher failed');
        return opts.passwordOk ?? false;
      },
      dummyVerify: async () => {
        calls.push('dummyVerify');
        return false;
      },
    },
    lockout: {
      begin: async (s) => {
        calls.push('begin');
        subjects.push(s);
        return opts.start ?? { ok: true, lastAttempt: false, token: 't' };
      },
      end: async (_s, token, outcome) => {
        calls.push(`end:${token}:${outcome}`);
      },
    },
    ipLimit: {
      limited: async () => {
        calls.push('ip-limited');
        throw new CardauthError('rate_limited', 'too many failed attempts from this address');
      },
    },
    claimOnce: async (key) => {
      calls.push(`claim:${key}`);
      if (claimed.has(key)) return false;
      claimed.add(key);
      return true;
    },
    audit: {
      append: async (e) => {
        calls.push(`audit:${e.type}:${e.reason ?? e.outcome}`);
      },
    },
  });
  return { step, calls, subjects };
}

const card: CardStepResult = { accountId: 'acc_1', uid: '04A22BB25C6180' as CardStepResult['uid'], agentId: 'ag_1', workstation: 'W', reader: 'R', at: 1234 };
const account: LoginAccount = { id: 'acc_1', login: 'a', displayName: 'A', roles: ['clinician'], status: 'active', passwordHash: '$argon2id$x' };
const input = { card, login: 'a', password: 'p', source: { ip: '127.0.0.1' }, sessionId: 's' };
const code = (e: unknown) => (isCardauthError(e) ? e.code : 'untyped');

describe('password step order', () => {
  it('success: the attempt is taken first, then lookup, verify, and ended as a success; its record is answered for the session opener to append', async () => {
    const { step, calls, subjects } = setup({ account, passwordOk: true });
    const passed = await step(input);
    expect(passed.account).toBe(account);
    expect(passed.record).toMatchObject({ type: 'password.checked', outcome: 'success', subject: { accountId: 'acc_1', login: 'a' }, cardUid: '04A22BB25C6180', sessionId: 's' });
    expect(calls).toEqual(['begin', 'findByLogin', 'verify', 'end:t:success']);
    expect(subjects).toEqual([{ accountId: 'acc_1', cardUid: '04A22BB25C6180', ip: '127.0.0.1', sessionId: 's', cardStepAt: 1234 }]);
  });

  it('a wrong password keeps its attempt', async () => {
    const { step, calls } = setup({ account, passwordOk: false });
    expect(code(await step(input).catch((e) => e))).toBe('login_failed');
    expect(calls).toEqual(['begin', 'findByLogin', 'verify', 'end:t:failure', 'audit:password.checked:wrong_password']);
  });

  it("a failure that took the account's last attempt records the lock", async () => {
    const { step, calls } = setup({ account, passwordOk: false, start: { ok: true, lastAttempt: true, token: 't' } });
    expect(code(await step(input).catch((e) => e))).toBe('login_failed');
    expect(calls).toEqual(['begin', 'findByLogin', 'verify', 'end:t:failure', 'audit:password.checked:wrong_password', 'audit:account.locked:failed_attempts']);
  });

  it('the last attempt succeeding is no lock: it is given back and nothing is locked', async () => {
    const { step, calls } = setup({ account, passwordOk: true, start: { ok: true, lastAttempt: true, token: 't' } });
    expect((await step(input)).account).toBe(account);
    expect(calls).not.toContain('audit:account.locked:failed_attempts');
  });

  it('locked: stops before looking at the password, even a right one; recorded once per account and lock', async () => {
    const { step, calls } = setup({ account, passwordOk: true, start: { ok: false, refused: 'account', retryAfterMs: 5000 } });
    expect(code(await step(input).catch((e) => e))).toBe('locked');
    expect(code(await step(input).catch((e) => e))).toBe('locked');
    expect(calls).toEqual(['begin', 'claim:lkd:acc_1', 'audit:password.checked:locked', 'begin', 'claim:lkd:acc_1']);
  });

  it('IP over its budget: rate_limited before the password, through the IP limit (audited once per period there)', async () => {
    const { step, calls } = setup({ account, passwordOk: true, start: { ok: false, refused: 'ip', retryAfterMs: 5000 } });
    expect(code(await step(input).catch((e) => e))).toBe('rate_limited');
    expect(calls).toEqual(['begin', 'ip-limited']);
  });

  it('another attempt in flight in this session: attempt_in_progress, nothing read, nothing recorded', async () => {
    const { step, calls } = setup({ account, passwordOk: true, start: { ok: false, refused: 'busy' } });
    expect(code(await step(input).catch((e) => e))).toBe('attempt_in_progress');
    expect(calls).toEqual(['begin']);
  });

  it("the card step's attempts used up: card_step_required, left to the strategy to record", async () => {
    const { step, calls } = setup({ account, passwordOk: true, start: { ok: false, refused: 'card_step_used_up' } });
    expect(code(await step(input).catch((e) => e))).toBe('card_step_required');
    expect(calls).toEqual(['begin']);
  });

  it('one shot: the card step is this request, so no stored card step is counted', async () => {
    const { step, subjects } = setup({ account, passwordOk: true });
    await step({ ...input, oneShot: true });
    expect(subjects).toEqual([{ accountId: 'acc_1', cardUid: '04A22BB25C6180', ip: '127.0.0.1', sessionId: 's' }]);
  });

  it('one shot: an account already being read is taken as is, after the attempt, not read again', async () => {
    const { step, calls } = setup({ account: null, passwordOk: true });
    const passed = await step({ ...input, oneShot: true, account: Promise.resolve(account) });
    expect(passed.account).toBe(account);
    expect(calls).toEqual(['begin', 'verify', 'end:t:success']);
  });

  it('one shot: an account read that failed gives the attempt back, nothing was judged', async () => {
    const { step, calls } = setup({ account });
    const failed = Promise.reject(new CardauthError('unavailable', 'store unavailable'));
    failed.catch(() => undefined);
    expect(code(await step({ ...input, oneShot: true, account: failed }).catch((e) => e))).toBe('unavailable');
    expect(calls).toEqual(['begin', 'end:t:void']);
  });

  it('a hasher failure gives the attempt back: nothing was judged', async () => {
    const { step, calls } = setup({ account, verifyThrows: true });
    await expect(step(input)).rejects.toThrow('hasher failed');
    expect(calls).toEqual(['begin', 'findByLogin', 'verify', 'end:t:void']);
  });

  it('unknown account still costs a (dummy) argon2 verify, and the attempt', async () => {
    const { step, calls } = setup({ account: null });
    expect(code(await step(input).catch((e) => e))).toBe('login_failed');
    expect(calls).toEqual(['begin', 'findByLogin', 'dummyVerify', 'end:t:failure', 'audit:password.checked:unknown_account']);
  });

  it('a login of another account than the card costs a dummy verify and the same failure', async () => {
    const { step, calls } = setup({ account: { ...account, id: 'acc_2' }, passwordOk: true });
    expect(code(await step(input).catch((e) => e))).toBe('login_failed');
    expect(calls).toContain('dummyVerify');
    expect(calls).not.toContain('verify');
  });
});
