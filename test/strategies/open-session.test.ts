import { createSessionOpener } from '../../src/strategies/open-session';
import type { LoginResult } from '../../src/strategies/session-user';
import { CardauthError } from '../../src/errors';

// White-box: what the session opener does, in which order, with plain fakes that log calls.
function setup(opts: { auditFails?: boolean; bindFails?: boolean } = {}) {
  const calls: string[] = [];
  const open = createSessionOpener({
    audit: {
      append: async (e) => {
        calls.push(`audit:${e.type}`);
        // Answers a turn later, as the audit log does: a record appended after an earlier one answered was not in its batch.
        await new Promise((r) => setImmediate(r));
        calls.push(`appended:${e.type}`);
        if (opts.auditFails) throw new CardauthError('audit_unavailable', 'audit write failed');
      },
    },
    locks: {
      bind: async (sessionId, agentId, uid, ttl) => {
        calls.push(`bind:${sessionId}:${agentId}:${uid}:${ttl}`);
        if (opts.bindFails) throw new CardauthError('unavailable', 'store unavailable');
      },
    },
    accounts: {
      recordLogin: async (id, login) => {
        calls.push(`recordLogin:${id}:${login.at}:${login.workstation}`);
        return { previous: { at: 1_000, workstation: 'Кабинет 3' }, failedAttempts: 0 };
      },
    },
    sessionTtlSec: 43_200,
  });
  return { open, calls };
}

const result: LoginResult = {
  account: { id: 'acc_1', login: 'ivanova', displayName: 'Иванова А. П.', roles: ['clinician'], status: 'active', passwordHash: '$argon2id$x' },
  card: { accountId: 'acc_1', uid: '04A22BB25C6180' as LoginResult['card']['uid'], agentId: 'ag_1', workstation: 'Кабинет 12', reader: 'R', at: 5_000 },
  authTime: 6_000,
  records: [],
};
const passwordChecked = { type: 'password.checked', outcome: 'success', subject: { accountId: 'acc_1', login: 'ivanova' }, sessionId: 'pre-1' } as const;

describe('session opener', () => {
  it('success: session.created with the tap-out index alongside, then the last login; the payload keeps the previous login and no password hash', async () => {
    const { open, calls } = setup();
    const user = await open(result, 'sid-1', { ip: '127.0.0.1' });
    expect(calls).toEqual(['audit:session.created', 'bind:sid-1:ag_1:04A22BB25C6180:43200', 'appended:session.created', 'recordLogin:acc_1:6000:Кабинет 12']);
    expect(user).toEqual({
      accountId: 'acc_1',
      login: 'ivanova',
      displayName: 'Иванова А. П.',
      roles: ['clinician'],
      amr: ['sc', 'pwd'],
      authTime: 6_000,
      cardUid: '04A22BB25C6180',
      agentId: 'ag_1',
      workstation: 'Кабинет 12',
      reader: 'R',
      previousLogin: { at: 1_000, workstation: 'Кабинет 3' },
      failedAttempts: 0,
    });
  });

  it('no audit record, no session: a failed session.created rejects before the session is saved or its login recorded (only the tap-out index, sent alongside, names it)', async () => {
    const { open, calls } = setup({ auditFails: true });
    const err = await open(result, 'sid-2', { ip: '127.0.0.1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardauthError);
    expect((err as CardauthError).code).toBe('audit_unavailable');
    expect(calls).toEqual(['audit:session.created', 'bind:sid-2:ag_1:04A22BB25C6180:43200', 'appended:session.created']);
  });

  it("the login's pending records go to the audit in one batch with session.created, in order, before anything of the session is stored", async () => {
    const { open, calls } = setup();
    await open({ ...result, records: [passwordChecked] }, 'sid-4', { ip: '127.0.0.1' });
    // Both handed over before either answered: the audit log's group commit writes them in one script call.
    expect(calls).toEqual(['audit:password.checked', 'audit:session.created', 'bind:sid-4:ag_1:04A22BB25C6180:43200', 'appended:password.checked', 'appended:session.created', 'recordLogin:acc_1:6000:Кабинет 12']);
  });

  it('no record of the password check, no session: its failure fails the login before the session is stored or its login recorded', async () => {
    const { open, calls } = setup({ auditFails: true });
    const err = await open({ ...result, records: [passwordChecked] }, 'sid-5', { ip: '127.0.0.1' }).catch((e: unknown) => e);
    expect((err as CardauthError).code).toBe('audit_unavailable');
    expect(calls.filter((c) => c.startsWith('recordLogin'))).toEqual([]);
  });

  it('a tap-out index that cannot be written fails the login before it is recorded as the last one', async () => {
    const { open, calls } = setup({ bindFails: true });
    const err = await open(result, 'sid-3', { ip: '127.0.0.1' }).catch((e: unknown) => e);
    expect((err as CardauthError).code).toBe('unavailable');
    expect(calls).toEqual(['audit:session.created', 'bind:sid-3:ag_1:04A22BB25C6180:43200']);
  });
});
