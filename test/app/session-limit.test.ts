import { createHash } from 'node:crypto';
import { auditRecords, lastAudit, withAuditUnusable } from '../helpers/audit';
import { manualClock, suiteServer, type TestAgent, type TestClient, type TestServer } from '../helpers/app';

const PW = 'Пароль-Сеансов-2026!';
const CARD_C = '04000000000C01';
const CARD_O = '04000000000D01';
const CARD_M = '04000000000E01';
const DEFAULT_LIMITS = 'clinician=1,security_officer=2,auditor=2,chief_admin=2';

const sidOf = (c: TestClient) => decodeURIComponent(c.cookie.split('=')[1]!).slice(2).split('.')[0]!;
const handleOf = (c: TestClient) => createHash('sha256').update(sidOf(c)).digest('hex');

describe('per-role session limits: at the limit the login answers where the other sessions are, and can end them', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const clock = manualClock();
  suiteServer({ clock, env: { CARDAUTH_SESSION_LIMITS: DEFAULT_LIMITS, CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_LOCKOUT_ATTEMPTS: '20', CARDAUTH_ALLOW_BELOW_PROFILE: 'true' } }, async (s, a) => {
    [srv, agent] = [s, a];
  });

  let n = 0;
  /** A fresh account (so each test starts with no sessions) with its own card. */
  async function account(roles: string[] = ['clinician']) {
    n += 1;
    const login = `user${n}`;
    const uid = `04000000001${String(n).padStart(3, '0')}`;
    await srv.account(login, PW, uid, roles);
    return { login, uid };
  }
  async function loggedIn(a: { login: string; uid: string }) {
    const c = srv.client();
    expect((await srv.login(c, agent, a.uid, a.login, PW)).status).toBe(200);
    return c;
  }

  it('a clinician has one session: a second login opens nothing and answers 409 session_limit with the other session (no id), audited login.refused', async () => {
    const a = await account();
    const first = await loggedIn(a);
    const c = srv.client();
    const res = await srv.login(c, agent, a.uid, a.login, PW);
    expect(res.status).toBe(409);
    expect(res.json.error).toEqual({
      code: 'session_limit',
      message: expect.any(String),
      limit: 1,
      sessions: [{ handle: handleOf(first), workstation: 'РМ-101', ip: '127.0.0.1', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), locked: false }],
    });
    expect(res.text).not.toContain(sidOf(first));
    // Nothing opened: the second browser is not logged in, the first still is.
    expect((await c.get('/auth/session')).status).toBe(401);
    expect((await first.get('/auth/session')).status).toBe(200);
    expect(await lastAudit(srv.redis, 'login.refused')).toMatchObject({ outcome: 'failure', reason: 'session_limit', subject: { login: a.login }, details: { limit: 1 } });
  });

  it('sent again with the handle (the same password step, the card step still pending), the other session ends, audited, and the new one opens', async () => {
    const a = await account();
    const first = await loggedIn(a);
    const c = srv.client();
    expect((await srv.login(c, agent, a.uid, a.login, PW)).status).toBe(409);
    const res = await c.post('/auth/password', { login: a.login, password: PW, endSessions: [handleOf(first)] });
    expect(res.status).toBe(200);
    expect((await c.get('/auth/session')).status).toBe(200);
    expect((await first.get('/auth/session')).status).toBe(401);
    const ended = (await auditRecords(srv.redis)).filter((r) => r.type === 'session.ended' && r.reason === 'limit');
    expect(ended.at(-1)).toMatchObject({ actor: expect.stringMatching(/^acct:/), subject: { login: a.login }, sessionIdHash: handleOf(first), cardUid: a.uid, details: { cause: 'session_limit' } });
  });

  it('with the audit trail unusable, the resend ends nothing and answers 503: no record, no end', async () => {
    const a = await account();
    const first = await loggedIn(a);
    const c = srv.client();
    expect((await srv.login(c, agent, a.uid, a.login, PW)).status).toBe(409);
    const res = await withAuditUnusable(srv.redis, () => c.post('/auth/password', { login: a.login, password: PW, endSessions: [handleOf(first)] }));
    expect(res.status).toBe(503);
    expect((await first.get('/auth/session')).status).toBe(200);
  });

  it('the one-shot login takes the handles too; a wrong password with them ends nothing', async () => {
    const a = await account();
    const first = await loggedIn(a);
    const c = srv.client();
    const wrong = await c.post('/auth/login', { statement: await srv.statementFor(c, agent, a.uid), login: a.login, password: 'не тот пароль', endSessions: [handleOf(first)] });
    expect(wrong.status).toBe(401);
    expect((await first.get('/auth/session')).status).toBe(200);
    const res = await c.post('/auth/login', { statement: await srv.statementFor(c, agent, a.uid), login: a.login, password: PW, endSessions: [handleOf(first)] });
    expect(res.status).toBe(200);
    expect((await first.get('/auth/session')).status).toBe(401);
  });

  it("a handle that is not one of the account's sessions ends nothing: still 409", async () => {
    const a = await account();
    const b = await account();
    const mine = await loggedIn(a);
    const theirs = await loggedIn(b);
    const c = srv.client();
    expect((await srv.login(c, agent, a.uid, a.login, PW)).status).toBe(409);
    const res = await c.post('/auth/password', { login: a.login, password: PW, endSessions: [handleOf(theirs), 'f'.repeat(64)] });
    expect(res.status).toBe(409);
    expect((await theirs.get('/auth/session')).status).toBe(200);
    expect((await mine.get('/auth/session')).status).toBe(200);
    expect((await c.post('/auth/password', { login: a.login, password: PW, endSessions: ['not-a-handle'] })).status).toBe(400);
  });

  it('privileged roles may have two; an account with several roles gets the strictest (clinician + chief_admin: one)', async () => {
    const officer = await account(['security_officer']);
    await loggedIn(officer);
    await loggedIn(officer);
    const third = await srv.login(srv.client(), agent, officer.uid, officer.login, PW);
    expect(third.status).toBe(409);
    expect(third.json.error.sessions).toHaveLength(2);

    const both = await account(['clinician', 'chief_admin']);
    await loggedIn(both);
    expect((await srv.login(srv.client(), agent, both.uid, both.login, PW)).status).toBe(409);
  });

  it('a logout frees the slot', async () => {
    const a = await account();
    const first = await loggedIn(a);
    expect((await first.post('/auth/logout')).status).toBe(204);
    await loggedIn(a);
  });

  it('a locked session still counts (shown as locked), and unlocking it is not refused by the limit', async () => {
    const a = await account();
    const first = await loggedIn(a);
    clock.advance((srv.config.CARDAUTH_SESSION_IDLE_SEC + 1) * 1000);
    expect((await first.get('/auth/session')).json.error.code).toBe('session_locked');
    const res = await srv.login(srv.client(), agent, a.uid, a.login, PW);
    expect(res.status).toBe(409);
    expect(res.json.error.sessions).toEqual([expect.objectContaining({ handle: handleOf(first), locked: true })]);
    // The unlock replaces the locked session itself: it is not counted against the new one.
    expect((await srv.login(first, agent, a.uid, a.login, PW)).status).toBe(200);
    expect((await first.get('/auth/session')).status).toBe(200);
  });

  it('atomic across requests: two logins at the same moment for the last slot, only one opens', async () => {
    const a = await account();
    const ready = async () => {
      const c = srv.client();
      expect((await c.post('/auth/card', { statement: await srv.statementFor(c, agent, a.uid) })).status).toBe(200);
      return c;
    };
    const [c1, c2] = [await ready(), await ready()];
    const answers = await Promise.all([c1, c2].map((c) => c.post('/auth/password', { login: a.login, password: PW })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
  });
});

describe('per-role idle lock and lifetime apply', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const clock = manualClock();
  const env = {
    CARDAUTH_SESSION_LIMITS: 'clinician=5,chief_admin=5,security_officer=5',
    CARDAUTH_SESSION_IDLE_SEC: '900',
    CARDAUTH_SESSION_IDLE_SEC_BY_ROLE: 'clinician=60,chief_admin=300',
    CARDAUTH_SESSION_MAX_SEC_BY_ROLE: 'chief_admin=600',
    CARDAUTH_IP_ATTEMPTS: '1000',
    CARDAUTH_LOCKOUT_ATTEMPTS: '20',
    CARDAUTH_ALLOW_BELOW_PROFILE: 'true',
  };
  suiteServer({ clock, env }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('klin', PW, CARD_C);
    await srv.account('officer', PW, CARD_O, ['security_officer']);
    await srv.account('mixed', PW, CARD_M, ['clinician', 'chief_admin']);
  });
  const loggedIn = async (login: string, uid: string) => {
    const c = srv.client();
    expect((await srv.login(c, agent, uid, login, PW)).status).toBe(200);
    return c;
  };

  it("a clinician's session locks after the clinician's idle time; an officer's keeps the global one", async () => {
    const klin = await loggedIn('klin', CARD_C);
    const officer = await loggedIn('officer', CARD_O);
    clock.advance(61_000);
    expect((await klin.get('/auth/session')).json.error.code).toBe('session_locked');
    expect((await officer.get('/auth/session')).status).toBe(200);
  });

  it("several roles get the strictest of each: the clinician's idle lock and the chief_admin's lifetime", async () => {
    const mixed = await loggedIn('mixed', CARD_M);
    clock.advance(61_000);
    expect((await mixed.get('/auth/session')).json.error.code).toBe('session_locked');
    const active = await loggedIn('mixed', CARD_M);
    for (let i = 0; i < 10; i++) {
      clock.advance(50_000);
      expect((await active.get('/auth/session')).status).toBe(200);
    }
    clock.advance(101_000); // 601 s since the login: past chief_admin's 600, though never idle 60 s
    const after = await active.get('/auth/session');
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('session_expired');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ reason: 'expired', subject: { login: 'mixed' } });
  });
});

describe('a waiting password change at the session limit', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const clock = manualClock();
  suiteServer({ clock, env: { CARDAUTH_SESSION_LIMITS: DEFAULT_LIMITS, CARDAUTH_SESSION_MAX_SEC: '604800', CARDAUTH_PASSWORD_MAX_AGE_DAYS: '1', CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('zhukova', PW, CARD_C);
  });

  it('answers 409 session_limit once the password is changed; the login with the new one can then end the other session', async () => {
    const NEW = 'Новый-пароль-Жуковой-2027!';
    const first = srv.client();
    expect((await srv.login(first, agent, CARD_C, 'zhukova', PW)).status).toBe(200);
    clock.advance(86_400_000 + 1000); // the password expired; the first session is idle-locked but live
    const c = srv.client();
    expect((await srv.login(c, agent, CARD_C, 'zhukova', PW)).json.error.code).toBe('password_change_required');
    const changed = await c.post('/auth/password/change', { currentPassword: PW, newPassword: NEW });
    expect(changed.status).toBe(409);
    expect(changed.json.error).toMatchObject({ code: 'session_limit', sessions: [{ handle: handleOf(first), locked: false }] });
    expect((await srv.login(c, agent, CARD_C, 'zhukova', NEW)).status).toBe(409);
    expect((await c.post('/auth/password', { login: 'zhukova', password: NEW, endSessions: [handleOf(first)] })).status).toBe(200);
    expect((await first.get('/auth/session')).status).toBe(401);
  });
});
