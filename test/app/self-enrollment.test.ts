import { createEnrollmentAdmin } from '../../src/admin/enrollments';
import { normaliseUid } from '../../src/contract/uid';
import { OFFICER } from '../admin/support';
import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, suiteServer, type TestAgent, type TestClient, type TestServer } from '../helpers/app';

const PASSWORD = 'Пароль-Новенькой-2026';
const DAY = 86_400_000;

// Self-enrollment (issue 10 §5): an unknown card, then the login and password of an account with no
// card, make a pending request; only an officer's approval makes the card log in.
describe('self-enrollment at the login', () => {
  const clock = manualClock();
  let srv: TestServer;
  let agent: TestAgent;
  let n = 0;
  suiteServer({ clock, env: { CARDAUTH_SELF_ENROLLMENT: 'true', CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_LOCKOUT_ATTEMPTS: '5' } }, (s, a) => {
    [srv, agent] = [s, a];
  });
  const uid = () => normaliseUid(`04${(0xe00000 + ++n).toString(16).toUpperCase().padStart(12, '0')}`);
  /** A clinician with no card (or with `card`). */
  const clinician = async (card?: string) => {
    const login = `novenkaya${++n}`;
    const { id } = await srv.account(login, PASSWORD, card);
    return { login, id };
  };
  const cardStep = async (c: TestClient, card: string) => c.post('/auth/card', { statement: await srv.statementFor(c, agent, card) });
  const pending = () => srv.services.enrollments.list();
  const expectGeneric = (r: { status: number; json: any }) => {
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('login_failed');
  };
  /** A clinician with no card who asked for a fresh card: 202. */
  const requested = async () => {
    const who = await clinician();
    const card = uid();
    const c = srv.client();
    await cardStep(c, card);
    expect((await c.post('/auth/password', { login: who.login, password: PASSWORD })).status).toBe(202);
    return { who, card };
  };

  it('an unknown card is still refused at the card step; then login + password make a pending request: 202 enrollment_pending, no session', async () => {
    const who = await clinician();
    const card = uid();
    const c = srv.client();
    const step = await cardStep(c, card);
    expect(step.status).toBe(401);
    expect(step.json).toEqual({ error: { code: 'card_rejected', message: 'card not accepted' } });
    const res = await c.post('/auth/password', { login: who.login, password: PASSWORD });
    expect(res.status).toBe(202);
    expect(res.json.error.code).toBe('enrollment_pending');
    expect((await c.get('/auth/session')).status).toBe(401);
    expect(await pending()).toEqual([expect.objectContaining({ uid: card, accountId: who.id, agentId: agent.id, workstation: 'РМ-101', requestedAt: clock.now(), expiresAt: clock.now() + 7 * DAY })]);
    expect(await lastAudit(srv.redis, 'card.enrollment_requested')).toMatchObject({ outcome: 'success', subject: { accountId: who.id, login: who.login }, cardUid: card, source: expect.objectContaining({ agentId: agent.id, workstation: 'РМ-101' }) });
    expect(await srv.services.cards.get(card)).toBeNull();
  });

  it('before approval neither the card nor the password alone logs in; after approval card + password do', async () => {
    const { who, card } = await requested();
    // Again with the same card: the request stands, still no session.
    const again = srv.client();
    expect((await cardStep(again, card)).status).toBe(401);
    expect((await again.post('/auth/password', { login: who.login, password: PASSWORD })).status).toBe(202);
    expect((await again.get('/auth/session')).status).toBe(401);
    // The password with no card step.
    const bare = srv.client();
    await bare.post('/auth/nonce');
    expect((await bare.post('/auth/password', { login: who.login, password: PASSWORD })).json.error.code).toBe('card_step_required');

    await createEnrollmentAdmin(srv.services).approve(OFFICER, { uid: card });
    expect(await pending()).not.toContainEqual(expect.objectContaining({ uid: card }));
    const after = srv.client();
    const res = await srv.login(after, agent, card, who.login, PASSWORD);
    expect(res.status).toBe(200);
    expect(res.json.login).toBe(who.login);
    expect((await after.get('/auth/session')).status).toBe(200);
  });

  it('the one-shot POST /auth/login makes the same request', async () => {
    const who = await clinician();
    const card = uid();
    const c = srv.client();
    const res = await c.post('/auth/login', { statement: await srv.statementFor(c, agent, card), login: who.login, password: PASSWORD });
    expect(res.status).toBe(202);
    expect(res.json.error.code).toBe('enrollment_pending');
    expect((await srv.services.enrollments.get(card))?.accountId).toBe(who.id);
  });

  it('an account that has a card cannot self-enroll another: the generic failure, nothing pending, its password not tried (no failure counted against it)', async () => {
    const who = await clinician(uid());
    const card = uid();
    const c = srv.client();
    await cardStep(c, card);
    expectGeneric(await c.post('/auth/password', { login: who.login, password: PASSWORD }));
    expect(await srv.services.enrollments.get(card)).toBeNull();
    expect(await lastAudit(srv.redis, 'card.enrollment_requested')).toMatchObject({ outcome: 'failure', reason: 'has_card', subject: { login: who.login } });
    await cardStep(c, card);
    expectGeneric(await c.post('/auth/password', { login: who.login, password: 'wrong' }));
    expect((await srv.services.lockout.accountCount(who.id)).failures).toBe(0);
  });

  it('a wrong password creates nothing and counts as a failure; an unknown login, the same answer', async () => {
    const who = await clinician();
    const card = uid();
    const c = srv.client();
    await cardStep(c, card);
    const wrong = await c.post('/auth/password', { login: who.login, password: 'Не-тот-пароль-1' });
    expectGeneric(wrong);
    expect(await srv.services.enrollments.get(card)).toBeNull();
    expect((await srv.services.lockout.accountCount(who.id)).failures).toBe(1);
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'wrong_password', subject: { accountId: who.id } });

    const unknown = await c.post('/auth/password', { login: 'nobody-here', password: PASSWORD });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.json).toEqual(wrong.json);
    expect(await lastAudit(srv.redis, 'card.enrollment_requested')).toMatchObject({ outcome: 'failure', reason: 'unknown_account', subject: { login: 'nobody-here' } });
    expect(await srv.services.enrollments.get(card)).toBeNull();
  });

  it('a locked account gets the generic failure too, not `locked` (no card proves who asks)', async () => {
    const who = await clinician();
    const card = uid();
    for (let i = 0; i < 5; i++) {
      const c = srv.client();
      await cardStep(c, card);
      expectGeneric(await c.post('/auth/password', { login: who.login, password: `wrong-${i}` }));
    }
    const c = srv.client();
    await cardStep(c, card);
    expectGeneric(await c.post('/auth/password', { login: who.login, password: PASSWORD }));
    expect(await srv.services.enrollments.get(card)).toBeNull();
  });

  it("a pending request reserves its card: another account's request for it gets the generic failure", async () => {
    const [first, second] = [await clinician(), await clinician()];
    const card = uid();
    const c = srv.client();
    await cardStep(c, card);
    expect((await c.post('/auth/password', { login: first.login, password: PASSWORD })).status).toBe(202);
    const d = srv.client();
    await cardStep(d, card);
    expectGeneric(await d.post('/auth/password', { login: second.login, password: PASSWORD }));
    expect(await lastAudit(srv.redis, 'card.enrollment_requested')).toMatchObject({ outcome: 'failure', reason: 'card_pending', subject: { accountId: second.id } });
    expect((await srv.services.enrollments.get(card))?.accountId).toBe(first.id);
  });

  it('a request expires after CARDAUTH_ENROLLMENT_PENDING_DAYS: gone from the list, approve is enrollment_not_found, the card can be asked for again', async () => {
    const { card } = await requested();
    clock.advance(7 * DAY);
    expect(await pending()).not.toContainEqual(expect.objectContaining({ uid: card }));
    await expect(createEnrollmentAdmin(srv.services).approve(OFFICER, { uid: card })).rejects.toMatchObject({ code: 'enrollment_not_found' });
    expect(await srv.services.cards.get(card)).toBeNull();
    const other = await clinician();
    const d = srv.client();
    await cardStep(d, card);
    expect((await d.post('/auth/password', { login: other.login, password: PASSWORD })).status).toBe(202);
  });

  it('a rejected request is gone; the card still does not log in and is free again', async () => {
    const { who, card } = await requested();
    await createEnrollmentAdmin(srv.services).reject(OFFICER, { uid: card, note: 'не та карта' });
    expect(await srv.services.enrollments.get(card)).toBeNull();
    expect(await lastAudit(srv.redis, 'card.enrollment_rejected')).toMatchObject({ outcome: 'success', actor: OFFICER.actor, cardUid: card, subject: { accountId: who.id, login: who.login }, details: expect.objectContaining({ note: 'не та карта', before: 'pending', after: 'rejected' }) });
    const d = srv.client();
    expect((await cardStep(d, card)).status).toBe(401);
  });

  it('the remembered card lives as a card step does: its password attempts (CARDAUTH_CARD_STEP_ATTEMPTS) and its nonce lifetime', async () => {
    const who = await clinician();
    const card = uid();
    const c = srv.client();
    await cardStep(c, card);
    for (let i = 0; i < 3; i++) expectGeneric(await c.post('/auth/password', { login: who.login, password: `wrong-${i}` }));
    expect((await c.post('/auth/password', { login: who.login, password: PASSWORD })).json.error.code).toBe('card_step_required');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'card_step_used_up' });
    await srv.services.lockout.unlock(who.id);

    const late = srv.client();
    await cardStep(late, card);
    clock.advance(srv.config.CARDAUTH_NONCE_TTL_SEC * 1000 + 1);
    expect((await late.post('/auth/password', { login: who.login, password: PASSWORD })).json.error.code).toBe('card_step_required');
    expect(await srv.services.enrollments.get(card)).toBeNull();
  });

  it('neither the pending record nor any audit record holds the password', async () => {
    const { who, card } = await requested();
    const stored = JSON.stringify(await srv.redis.hgetall(`card:pend:${card}`));
    expect(stored).toContain(who.id);
    expect(stored).not.toContain(PASSWORD);
    expect(JSON.stringify(await auditRecords(srv.redis))).not.toContain(PASSWORD);
  });
  it('unknown cards tapped for self-enrollment do not suspend the desk\'s agent (CARDAUTH_AGENT_REFUSALS counts them only while it is off)', async () => {
    const refusals = srv.config.CARDAUTH_AGENT_REFUSALS;
    for (let i = 0; i <= refusals; i++) expect((await cardStep(srv.client(), uid())).status).toBe(401);
    expect((await srv.services.agents.get(agent.id))?.status).toBe('approved');
    await requested();
  });
});

describe('self-enrollment off (the default)', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({}, (s, a) => {
    [srv, agent] = [s, a];
  });

  it('an unknown card and a right password make no request and no session', async () => {
    expect(srv.config.CARDAUTH_SELF_ENROLLMENT).toBe(false);
    await srv.account('novaya', PASSWORD);
    const c = srv.client();
    expect((await c.post('/auth/card', { statement: await srv.statementFor(c, agent, '04EEEEEEEEEE01') })).status).toBe(401);
    const res = await c.post('/auth/password', { login: 'novaya', password: PASSWORD });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('card_step_required');
    const one = srv.client();
    const shot = await one.post('/auth/login', { statement: await srv.statementFor(one, agent, '04EEEEEEEEEE01'), login: 'novaya', password: PASSWORD });
    expect(shot.json.error.code).toBe('card_rejected');
    expect(await srv.services.enrollments.list()).toEqual([]);
  });
});
