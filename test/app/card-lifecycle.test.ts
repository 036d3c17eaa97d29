import { signTapout } from '../../src/card-agent/sign-statement';
import { createCardAdmin } from '../../src/admin/cards';
import { normaliseUid } from '../../src/contract/uid';
import { OFFICER } from '../admin/support';
import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, startTestServer, suiteServer, TestClient, type TestAgent, type TestServer } from '../helpers/app';

const PASSWORD = 'Пароль-Сидоровой-7';
const HOUR = 3600_000;

// The login side of the card lifecycle: an expired binding, a card reported lost, a card replaced.
describe('card lifecycle at login and in a live session', () => {
  let srv: TestServer;
  let agent: TestAgent;
  let agent2: TestAgent;
  /** A second server node on the same Redis. */
  let node2: TestServer;
  const clock = manualClock();
  const env = { CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_SESSION_IDLE_SEC: '3600' };
  let n = 0;
  suiteServer({ clock, env }, async (s, a, redis) => {
    [srv, agent] = [s, a];
    agent2 = await srv.agent({ name: 'РМ-202' });
    node2 = await startTestServer(redis, { clock, env });
  });
  afterAll(() => node2.close());
  const admin = () => createCardAdmin(srv.services);
  /** A fresh account with a fresh card (expiring at `expiresAt` when given). */
  async function clinician(expiresAt?: number) {
    const login = `sidorova${++n}`;
    const uid = normaliseUid(`04${n.toString(16).toUpperCase().padStart(12, '0')}`);
    await srv.account(login, PASSWORD);
    await admin().bind(OFFICER, { login, uid, expiresAt });
    return { login, uid };
  }
  async function loggedIn(who: { login: string; uid: string }, at = agent, node = srv) {
    const c = node.client();
    expect((await node.login(c, at, who.uid, who.login, PASSWORD)).status).toBe(200);
    return c;
  }
  const tapout = (uid: string) => signTapout(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid, reader: 'Virtual PCD 00 00', signal: 'tap' }, clock);

  describe('expiry', () => {
    it('an expired card is refused at the card step with the generic failure; the audit says expired_card', async () => {
      const who = await clinician(clock.now() + HOUR);
      await loggedIn(who);
      clock.advance(HOUR);
      const c = srv.client();
      const res = await c.post('/auth/card', { statement: await srv.statementFor(c, agent, who.uid) });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: { code: 'card_rejected', message: 'card not accepted' } });
      expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'failure', reason: 'expired_card', cardUid: who.uid });
    });

    it('a card that expires mid-session ends its session at the next check (cause card_expired)', async () => {
      const who = await clinician(clock.now() + 10 * 60_000);
      const c = await loggedIn(who);
      clock.advance(9 * 60_000);
      expect((await c.get('/auth/session')).status).toBe(200);
      clock.advance(60_000);
      const res = await c.get('/auth/session');
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('session_expired');
      expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ reason: 'admin', subject: { login: who.login }, details: { cause: 'card_expired' } });
    });

    it('a card that expires between the card step and the password voids the card step (password.checked card_expired)', async () => {
      const who = await clinician(clock.now() + 30_000);
      const c = srv.client();
      expect((await c.post('/auth/card', { statement: await srv.statementFor(c, agent, who.uid) })).status).toBe(200);
      clock.advance(30_000);
      const res = await c.post('/auth/password', { login: who.login, password: PASSWORD });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('card_step_required');
      expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'card_expired' });
    });
  });

  describe('report lost', () => {
    it('ends at once every session opened with the card, open or locked, at every workstation and on every node; none can be unlocked with it', async () => {
      const who = await clinician();
      const open = await loggedIn(who, agent2, node2);
      const locked = await loggedIn(who);
      expect((await new TestClient(srv.url, null).post('/agents/events', { statement: await tapout(who.uid) })).json).toEqual({ locked: 1 });
      expect((await locked.get('/auth/session')).json.error.code).toBe('session_locked');

      expect(await admin().lost(OFFICER, { login: who.login })).toMatchObject({ already: false, ended: 2, binding: { uid: who.uid, status: 'revoked', revokeReason: 'lost' } });
      expect(await lastAudit(srv.redis, 'card.revoked')).toMatchObject({ reason: 'lost', cardUid: who.uid, subject: { login: who.login }, actor: OFFICER.actor });
      const ended = (await auditRecords(srv.redis, 'session.ended')).filter((r) => r.cardUid === who.uid);
      expect(ended).toHaveLength(2);
      for (const c of [open, locked]) expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');

      // The lock screen's unlock (the same card and the password) finds the card revoked.
      const unlock = await locked.post('/auth/card', { statement: await srv.statementFor(locked, agent, who.uid) });
      expect(unlock.json).toEqual({ error: { code: 'card_rejected', message: 'card not accepted' } });
      expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'failure', reason: 'revoked_card', cardUid: who.uid });
    });

    it('by login needs exactly one card that is not revoked; by UID always works', async () => {
      const who = await clinician();
      await expect(admin().lost(OFFICER, { login: 'nobody' })).rejects.toMatchObject({ code: 'account_not_found' });
      const second = normaliseUid('04FFFFFFFFFF01');
      await admin().bind(OFFICER, { login: who.login, uid: second });
      await expect(admin().lost(OFFICER, { login: who.login })).rejects.toMatchObject({ code: 'bad_request' });
      expect(await admin().lost(OFFICER, { uid: second })).toMatchObject({ already: false, binding: { uid: second } });
      expect(await admin().lost(OFFICER, { login: who.login })).toMatchObject({ binding: { uid: who.uid } });
      await expect(admin().lost(OFFICER, { login: who.login })).rejects.toMatchObject({ code: 'card_not_found' });
    });
  });

  describe('replace', () => {
    it("the old card's sessions end and it is refused; the new card logs in; audited card.bound (replaces) and card.revoked (replaced)", async () => {
      const who = await clinician();
      const c = await loggedIn(who);
      const fresh = normaliseUid('04EEEEEEEEEE01');
      expect(await admin().replace(OFFICER, { oldUid: who.uid, uid: fresh, label: 'новая' })).toMatchObject({ ended: 1, old: { status: 'revoked' }, binding: { uid: fresh } });
      expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
      expect(await lastAudit(srv.redis, 'card.bound')).toMatchObject({ cardUid: fresh, subject: { login: who.login }, details: expect.objectContaining({ replaces: who.uid, label: 'новая' }) });
      expect(await lastAudit(srv.redis, 'card.revoked')).toMatchObject({ reason: 'replaced', cardUid: who.uid, subject: { login: who.login }, details: expect.objectContaining({ replacedBy: fresh }) });
      await loggedIn({ login: who.login, uid: fresh });
      const old = srv.client();
      expect((await old.post('/auth/card', { statement: await srv.statementFor(old, agent, who.uid) })).status).toBe(401);
    });
  });
});
