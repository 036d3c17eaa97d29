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
    slots: {
      take: async (t) => {
        calls.push(`bind:${t.sessionId}:${t.agentId}:${t.uid}:${t.cardIndexTtlSec}`);
        if (opts.bindFails) throw new CardauthError('unavailable', 'store unavailable');
        return { ok: true };
      },
      release: async (_accountId, sessionId) => {
        calls.push(`release:${sessionId}`);
      },
    },
    sessions: { endIds: async () => undefined },
    rules: () => ({ idleSec: 900, maxSec: 43_200, limit: 1 }),
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
  it('success: the session slot (with the tap-out index), then session.created, then the last login; the payload keeps the previous login and no password hash', async () => {
    const { open, calls } = setup();
    const user = await open(result, 'sid-1', { source: { ip: '127.0.0.1' }, replacing: 'pre-1', endSessions: [] });
    expect(calls).toEqual(['bind:sid-1:ag_1:04A22BB25C6180:43200', 'audit:session.created', 'appended:session.created', 'recordLogin:acc_1:6000:Кабинет 12']);
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
      ip: '127.0.0.1',
      idleSec: 900,
      maxSec: 43_200,
      previousLogin: { at: 1_000, workstation: 'Кабинет 3' },
      failedAttempts: 0,
    });
  });

  it('no audit record, no session: a failed session.created rejects before the session is saved or its login recorded, and gives its slot back (only the tap-out index names it)', async () => {
    const { open, calls } = setup({ auditFails: true });
    const err = await open(result, 'sid-2', { source: { ip: '127.0.0.1' }, replacing: 'pre-1', endSessions: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardauthError);
    expect((err as CardauthError).code).toBe('audit_unavailable');
    expect(calls).toEqual(['bind:sid-2:ag_1:04A22BB25C6180:43200', 'audit:session.created', 'appended:session.created', 'release:sid-2']);
  });

  it("the login's pending records go to the audit in one batch with session.created, in order, before anything of the session is stored", async () => {
    const { open, calls } = setup();
    await open({ ...result, records: [passwordChecked] }, 'sid-4', { source: { ip: '127.0.0.1' }, replacing: 'pre-1', endSessions: [] });
    // Both handed over before either answered: the audit log's group commit writes them in one script call.
    expect(calls).toEqual(['bind:sid-4:ag_1:04A22BB25C6180:43200', 'audit:password.checked', 'audit:session.created', 'appended:password.checked', 'appended:session.created', 'recordLogin:acc_1:6000:Кабинет 12']);
  });

  it('no record of the password check, no session: its failure fails the login before the session is stored or its login recorded', async () => {
    const { open, calls } = setup({ auditFails: true });
    const err = await open({ ...result, records: [passwordChecked] }, 'sid-5', { source: { ip: '127.0.0.1' }, replacing: 'pre-1', endSessions: [] }).catch((e: unknown) => e);
    expect((err as CardauthError).code).toBe('audit_unavailable');
    expect(calls.filter((c) => c.startsWith('recordLogin'))).toEqual([]);
  });

  it('a session slot (and tap-out index) that cannot be taken fails the login before any record or its last login', async () => {
    const { open, calls } = setup({ bindFails: true });
    const err = await open(result, 'sid-3', { source: { ip: '127.0.0.1' }, replacing: 'pre-1', endSessions: [] }).catch((e: unknown) => e);
    expect((err as CardauthError).code).toBe('unavailable');
    expect(calls).toEqual(['bind:sid-3:ag_1:04A22BB25C6180:43200']);
  });
});
