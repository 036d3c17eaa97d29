import { createAccountAdmin } from '../../src/admin/accounts';
import { OFFICER } from '../admin/support';
import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, suiteServer, type TestAgent, type TestClient, type TestServer } from '../helpers/app';

const OLD = 'Старый-пароль-2026!';
const NEW = 'Новый-пароль-2027!';
const THIRD = 'Третий-пароль-2028!';
const DAY = 86_400_000;
const GENERIC = { error: { code: 'login_failed', message: 'login failed' } };

// The clock moves past 90 days, when a workstation's address would no longer count as seen: exempt.
let n = 0;
/** A fresh account with its own card, so each test stands alone. */
async function person(srv: TestServer, password = OLD): Promise<{ login: string; uid: string; id: string }> {
  n += 1;
  const login = `user${n}`;
  const uid = `04B1${String(n).padStart(10, '0')}`;
  const { id } = await srv.account(login, password, uid);
  return { login, uid, id };
}

describe('the password lifecycle at the login', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const clock = manualClock();
  suiteServer({ clock, env: { CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_WORKSTATION_IP_EXEMPT: '127.0.0.1' } }, (s, a) => {
    [srv, agent] = [s, a];
  });
  const change = (c: TestClient, currentPassword: string, newPassword: string) => c.post('/auth/password/change', { currentPassword, newPassword });
  /** A logged-in client of `p`. */
  const loggedIn = async (p: { login: string; uid: string }, password = OLD) => {
    const c = srv.client();
    expect((await srv.login(c, agent, p.uid, p.login, password)).status).toBe(200);
    return c;
  };

  it('an expired password: both factors pass, no session exists until it is changed; the change opens it', async () => {
    const p = await person(srv);
    clock.advance(90 * DAY + 1);
    const c = srv.client();
    const res = await srv.login(c, agent, p.uid, p.login, OLD);
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('password_change_required');
    expect((await c.get('/auth/session')).status).toBe(401);
    expect(await lastAudit(srv.redis, 'password.expired')).toMatchObject({ outcome: 'success', subject: { accountId: p.id, login: p.login }, cardUid: p.uid, details: { maxAgeDays: 90 } });
    expect((await auditRecords(srv.redis, 'session.created')).filter((r) => r.subject.accountId === p.id)).toEqual([]);

    const changed = await change(c, OLD, NEW);
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ login: p.login, amr: ['sc', 'pwd'] });
    expect((await c.get('/auth/session')).json.login).toBe(p.login);
    const types = (await auditRecords(srv.redis)).filter((r) => r.subject?.accountId === p.id).map((r) => r.type);
    expect(types.slice(-5)).toEqual(['password.checked', 'password.expired', 'password.checked', 'password.changed', 'session.created']);
    expect(await lastAudit(srv.redis, 'password.changed')).toMatchObject({ outcome: 'success', details: { due: 'expired' } });

    // The new password logs in at once; the old one no longer does.
    expect((await srv.login(srv.client(), agent, p.uid, p.login, NEW)).status).toBe(200);
    expect((await srv.login(srv.client(), agent, p.uid, p.login, OLD)).json).toEqual(GENERIC);
  });

  it('a password just inside its age logs in', async () => {
    const p = await person(srv);
    clock.advance(90 * DAY);
    expect((await srv.login(srv.client(), agent, p.uid, p.login, OLD)).status).toBe(200);
  });

  it("an officer's reset: a one-time password, which logs in only to be changed; audited without it", async () => {
    const p = await person(srv);
    const { password: temporary } = await createAccountAdmin(srv.services).resetPassword(OFFICER, p.login);
    expect(temporary.length).toBeGreaterThanOrEqual(16);
    expect((await srv.login(srv.client(), agent, p.uid, p.login, OLD)).json).toEqual(GENERIC);
    const c = srv.client();
    const res = await srv.login(c, agent, p.uid, p.login, temporary);
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('password_change_required');
    expect(await lastAudit(srv.redis, 'password.expired')).not.toMatchObject({ subject: { accountId: p.id } });
    // The temporary password cannot be kept.
    expect((await change(c, temporary, temporary)).json.error.code).toBe('password_reused');
    const changed = await change(c, temporary, NEW);
    expect(changed.status).toBe(200);
    expect(await lastAudit(srv.redis, 'password.changed')).toMatchObject({ outcome: 'success', details: { due: 'temporary' } });
    expect(await lastAudit(srv.redis, 'password.reset')).toMatchObject({ outcome: 'success', actor: OFFICER.actor, subject: { accountId: p.id }, details: { temporary: true } });
    // No password, temporary or chosen, anywhere in the audit trail.
    const trail = JSON.stringify(await auditRecords(srv.redis));
    for (const secret of [temporary, NEW, OLD]) expect(trail).not.toContain(secret);
  });

  it('history: none of the last passwords again, the current one included; only hashes are kept', async () => {
    const p = await person(srv);
    const c = await loggedIn(p);
    expect((await change(c, OLD, OLD)).json.error.code).toBe('password_reused');
    expect((await change(c, OLD, NEW)).status).toBe(200);
    expect((await change(c, NEW, THIRD)).status).toBe(200);
    for (const earlier of [OLD, NEW, THIRD]) {
      const res = await change(c, THIRD, earlier);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('password_reused');
    }
    expect(await lastAudit(srv.redis, 'password.changed')).toMatchObject({ outcome: 'failure', reason: 'password_reused' });
    const history = await srv.redis.lrange(`acct:${p.id}:pwhist`, 0, -1);
    expect(history).toHaveLength(2);
    for (const h of history) expect(h).toMatch(/^\$argon2id\$/);
    const stored = JSON.stringify([await srv.redis.hgetall(`acct:${p.id}`), history]);
    for (const secret of [OLD, NEW, THIRD]) expect(stored).not.toContain(secret);
  });

  it('strength by the profile: too short, too small an alphabet, holding the login or the name; nothing changes', async () => {
    const p = await person(srv);
    const c = await loggedIn(p);
    const refusals: Array<[string, string]> = [
      ['Кор-2026!', 'password_weak'],
      ['abcdefghijklmnop2026', 'password_weak'],
      [`Весна-${p.login.toUpperCase()}-2026`, 'password_contains_name'],
      [`Д-р ${p.login}-Весна-2026`, 'password_contains_name'],
    ];
    for (const [password, code] of refusals) {
      const res = await change(c, OLD, password);
      expect([res.status, res.json.error.code]).toEqual([400, code]);
      expect(res.text).not.toContain(password);
    }
    expect((await srv.login(srv.client(), agent, p.uid, p.login, OLD)).status).toBe(200);
  });
});

describe('POST /auth/password/change refuses', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const clock = manualClock();
  suiteServer({ clock, env: { CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_WORKSTATION_IP_EXEMPT: '127.0.0.1' } }, (s, a) => {
    [srv, agent] = [s, a];
  });
  const change = (c: TestClient, currentPassword: string, newPassword: string) => c.post('/auth/password/change', { currentPassword, newPassword });

  it('without a session or a login waiting for it: 401 unauthenticated', async () => {
    const c = srv.client();
    await c.post('/auth/nonce');
    const res = await change(c, OLD, NEW);
    expect([res.status, res.json.error.code]).toEqual([401, 'unauthenticated']);
  });

  it('a bad body (a missing or extra field, a non-string) with 400 bad_request, before anything is checked', async () => {
    const c = srv.client();
    for (const body of [{ newPassword: NEW }, { currentPassword: OLD, newPassword: NEW, login: 'x' }, { currentPassword: { $ne: 1 }, newPassword: NEW }]) {
      const res = await c.post('/auth/password/change', body);
      expect([res.status, res.json.error.code]).toEqual([400, 'bad_request']);
    }
  });

  it('without the Origin of the login page, as every /auth write (CSRF)', async () => {
    const p = await person(srv);
    const c = srv.client();
    expect((await srv.login(c, agent, p.uid, p.login, OLD)).status).toBe(200);
    c.origin = 'https://evil.example';
    expect((await change(c, OLD, NEW)).json.error.code).toBe('origin_forbidden');
    c.origin = null;
    expect((await change(c, OLD, NEW)).status).toBe(403);
    c.origin = srv.config.CARDAUTH_PUBLIC_ORIGIN;
    expect((await change(c, OLD, NEW)).status).toBe(200);
  });

  it('a wrong current password with the login\'s generic failure, counted against the account: once locked, the right one is refused too', async () => {
    const p = await person(srv);
    const c = srv.client();
    expect((await srv.login(c, agent, p.uid, p.login, OLD)).status).toBe(200);
    for (let i = 0; i < srv.config.CARDAUTH_LOCKOUT_ATTEMPTS; i++) {
      const res = await change(c, 'не-тот-пароль', NEW);
      expect([res.status, res.json]).toEqual([401, GENERIC]);
    }
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'wrong_password', subject: { accountId: p.id } });
    expect(await lastAudit(srv.redis, 'account.locked')).toMatchObject({ subject: { accountId: p.id } });
    const locked = await change(c, OLD, NEW);
    expect([locked.status, locked.json.error.code]).toEqual([423, 'locked']);
    // Nothing changed: once unlocked, the old password is still the one.
    await createAccountAdmin(srv.services).unlock(OFFICER, p.login);
    expect((await srv.login(srv.client(), agent, p.uid, p.login, OLD)).status).toBe(200);
  });

  it('a login that waited too long for its change must log in again', async () => {
    const p = await person(srv);
    clock.advance(91 * DAY);
    const c = srv.client();
    expect((await srv.login(c, agent, p.uid, p.login, OLD)).status).toBe(403);
    clock.advance(10 * 60_000 + 1);
    expect((await change(c, OLD, NEW)).json.error.code).toBe('unauthenticated');
  });

  it("a waiting login whose card was revoked since: the card is needed again, and nothing changes", async () => {
    const p = await person(srv);
    await createAccountAdmin(srv.services).resetPassword(OFFICER, p.login).then(async ({ password }) => {
      const c = srv.client();
      expect((await srv.login(c, agent, p.uid, p.login, password)).status).toBe(403);
      await srv.services.cards.revoke({ uid: p.uid, reason: 'lost', by: 'os:test' });
      expect((await change(c, password, NEW)).json.error.code).toBe('card_step_required');
      expect((await change(c, password, NEW)).json.error.code).toBe('unauthenticated');
    });
  });
});
