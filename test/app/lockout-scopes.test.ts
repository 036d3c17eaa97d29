import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, suiteServer, type TestAgent, type TestClient, type TestServer } from '../helpers/app';
import { OFFICER } from '../admin/support';
import { createAccountAdmin } from '../../src/admin/accounts';
import { createAgentAdmin } from '../../src/admin/agents';
import { createCardAdmin } from '../../src/admin/cards';
import { normaliseUid } from '../../src/contract/uid';

// Issue 10 §3: the card and agent scopes of the lockout, and what a login shows of the failures since the previous one.

const PASSWORD = 'Верный-пароль-2026!';
const CARD_A = '04A1A1A1A1A1A1';
const CARD_B = '04B1B1B1B1B1B1';

describe('card scope: a separate count per card UID', () => {
  let srv: TestServer;
  let agent: TestAgent;
  let accountId: string;
  // The card's budget below the account's, so that only the card locks.
  suiteServer({ env: { CARDAUTH_LOCKOUT_ATTEMPTS: '5', CARDAUTH_CARD_LOCKOUT_ATTEMPTS: '3', CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    ({ id: accountId } = await srv.account('petrov', PASSWORD, CARD_A));
    await srv.services.cards.bind({ uid: CARD_B, accountId, by: 'os:test' });
  });

  const cardStep = async (c: TestClient, uid: string) => c.post('/auth/card', { statement: await srv.statementFor(c, agent, uid) });

  it('three wrong passwords after card A lock card A (card.locked, system actor); its card step is then refused with the generic failure, audited card_locked', async () => {
    for (let i = 0; i < 3; i++) {
      const c = srv.client();
      expect((await cardStep(c, CARD_A)).status).toBe(200);
      expect((await c.post('/auth/password', { login: 'petrov', password: `wrong-${i}` })).status).toBe(401);
    }
    expect(await lastAudit(srv.redis, 'card.locked')).toMatchObject({ outcome: 'success', actor: 'system:lockout', cardUid: CARD_A, subject: { accountId } });
    expect(await srv.services.lockout.cardCount(CARD_A)).toMatchObject({ failures: 3, locked: true });

    const c = srv.client();
    const refused = await cardStep(c, CARD_A);
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe('card_rejected');
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'failure', reason: 'card_locked', cardUid: CARD_A, subject: { accountId } });

    // The one-shot login refuses it too, with the password step's generic failure, even with the right password.
    const one = srv.client();
    const shot = await one.post('/auth/login', { statement: await srv.statementFor(one, agent, CARD_A), login: 'petrov', password: PASSWORD });
    expect(shot.status).toBe(401);
    expect(shot.json.error.code).toBe('login_failed');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'card_locked', cardUid: CARD_A });
  });

  it("the account's other card still logs in, and the login shows the failures since the previous login: 3 wrong passwords, 1 card-locked card step, 1 card-locked one-shot login", async () => {
    const c = srv.client();
    const res = await srv.login(c, agent, CARD_B, 'petrov', PASSWORD);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ previousLogin: null, failedAttempts: 5 });
    expect((await c.get('/auth/session')).json.failedAttempts).toBe(5);
    const home = await c.get('/home?lang=en');
    expect(home.text).toContain('Failed sign-in attempts since the previous sign-in');
    expect(home.text).toMatch(/id="failed-attempts">5</);
    expect((await c.get('/home?lang=ru')).text).toContain('Неудачных попыток входа с предыдущего входа');
    // The next login starts counting again.
    const again = await srv.login(srv.client(), agent, CARD_B, 'petrov', PASSWORD);
    expect(again.json).toMatchObject({ previousLogin: { workstation: 'РМ-101' }, failedAttempts: 0 });
  });

  it('an officer unlocks card A: audited card.unlocked with the actor, the account, before/after; the card logs in again', async () => {
    const { failures } = await createCardAdmin(srv.services).unlock(OFFICER, normaliseUid(CARD_A));
    expect(failures).toBe(3);
    expect(await lastAudit(srv.redis, 'card.unlocked')).toMatchObject({
      outcome: 'success',
      actor: OFFICER.actor,
      cardUid: CARD_A,
      subject: { accountId, login: 'petrov' },
      details: expect.objectContaining({ failures: 3, before: 'locked', after: 'unlocked' }),
    });
    expect((await srv.login(srv.client(), agent, CARD_A, 'petrov', PASSWORD)).status).toBe(200);
  });

  it("privileged unlock: an officer may not unlock an officer's card or account (403 forbidden, audited privileged_account); the system (command line) and a chief_admin may; account.unlocked carries the count before and after", async () => {
    const { id: officerId } = await srv.account('officer2', PASSWORD, '04D9D9D9D9D9D9', ['security_officer']);
    await srv.redis.set('rl:card:04D9D9D9D9D9D9', '10', 'PX', 3_600_000);
    await srv.redis.set(`rl:acct:${officerId}`, '2', 'PX', 900_000);
    await expect(createCardAdmin(srv.services).unlock(OFFICER, normaliseUid('04D9D9D9D9D9D9'))).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'card.unlocked')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', actor: OFFICER.actor, subject: { accountId: officerId, login: 'officer2' } });
    await expect(createAccountAdmin(srv.services).unlock(OFFICER, 'officer2')).rejects.toMatchObject({ code: 'forbidden' });
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({ outcome: 'failure', reason: 'privileged_account', actor: OFFICER.actor });
    expect((await srv.services.lockout.cardCount('04D9D9D9D9D9D9')).failures).toBe(10);

    const CHIEF = { ...OFFICER, actor: 'acct:acc_00000000000000fe', principal: { accountId: 'acc_00000000000000fe', roles: ['chief_admin' as const] } };
    expect(await createCardAdmin(srv.services).unlock(CHIEF, normaliseUid('04D9D9D9D9D9D9'))).toMatchObject({ failures: 10 });
    const SYSTEM = { actor: 'os:root', via: { via: 'cli', host: 'test' }, principal: 'system' as const };
    expect(await createAccountAdmin(srv.services).unlock(SYSTEM, 'officer2')).toMatchObject({ failures: 2 });
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({ outcome: 'success', actor: 'os:root', subject: { login: 'officer2' }, details: expect.objectContaining({ failures: 2, before: '2', after: '0' }) });
  });

  it('a right password clears the card count', async () => {
    const c = srv.client();
    expect((await cardStep(c, CARD_A)).status).toBe(200);
    expect((await c.post('/auth/password', { login: 'petrov', password: 'wrong' })).status).toBe(401);
    expect((await srv.services.lockout.cardCount(CARD_A)).failures).toBe(1);
    expect((await srv.login(srv.client(), agent, CARD_A, 'petrov', PASSWORD)).status).toBe(200);
    expect((await srv.services.lockout.cardCount(CARD_A)).failures).toBe(0);
  });
});

describe('agent scope: too many unknown or refused cards from one agent suspend it', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_AGENT_REFUSALS: '3', CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('sidorova', PASSWORD, CARD_A);
  });

  const tap = async (uid: string) => {
    const c = srv.client();
    return c.post('/auth/card', { statement: await srv.statementFor(c, agent, uid) });
  };

  it('the third unknown card in the window suspends the agent, once, with an alert; then even a good card from it is refused (agent_suspended)', async () => {
    expect((await tap('04C0C0C0C0C001')).status).toBe(401);
    expect((await tap('04C0C0C0C0C002')).status).toBe(401);
    expect((await srv.services.agents.get(agent.id))?.status).toBe('approved');
    expect((await tap('04C0C0C0C0C003')).status).toBe(401);
    expect((await srv.services.agents.get(agent.id))?.status).toBe('suspended');
    const alerts = await auditRecords(srv.redis, 'agent.suspended');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ outcome: 'failure', reason: 'refused_cards', actor: 'system:abuse', source: { agentId: agent.id }, details: { count: 3, before: 'approved', after: 'suspended' } });

    const good = await tap(CARD_A);
    expect(good.status).toBe(401);
    expect(good.json.error.code).toBe('card_rejected');
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'failure', reason: 'agent_suspended', source: { agentId: agent.id } });
    expect(await auditRecords(srv.redis, 'agent.suspended')).toHaveLength(1);
  });

  it('an officer unsuspends it (agent.unsuspended with actor, before/after): approved again, its count starts again, a good card logs in', async () => {
    const back = await createAgentAdmin(srv.services).unsuspend(OFFICER, agent.id);
    expect(back.status).toBe('approved');
    expect(await lastAudit(srv.redis, 'agent.unsuspended')).toMatchObject({
      outcome: 'success',
      actor: OFFICER.actor,
      source: { agentId: agent.id },
      details: expect.objectContaining({ before: 'suspended', after: 'approved' }),
    });
    expect(await srv.redis.exists(`rl:agent:${agent.id}`)).toBe(0);
    expect((await srv.login(srv.client(), agent, CARD_A, 'sidorova', PASSWORD)).status).toBe(200);
    // Unsuspending an agent that is not suspended changes nothing.
    await expect(createAgentAdmin(srv.services).unsuspend(OFFICER, agent.id)).rejects.toMatchObject({ code: 'agent_state' });
  });

  it('two nodes counting at once suspend it exactly once (one Lua script)', async () => {
    const other = await srv.agent({ name: 'РМ-202' });
    const results = await Promise.all(Array.from({ length: 12 }, () => srv.services.agents.countRefusal(other.id, { max: 3, windowSec: 300 })));
    expect(results.filter((r) => r.suspended)).toHaveLength(1);
    expect((await srv.services.agents.get(other.id))?.status).toBe('suspended');
  });
});

describe('a suspended agent: its new statements and stored card steps are refused, the sessions it opened stay', () => {
  const clock = manualClock();
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ clock, env: { CARDAUTH_AGENT_REFUSALS: '2', CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('orlova', PASSWORD, CARD_A);
  });

  it('session kept (a suspension is reversible; revoke ends them), a waiting card step void (card_step_required, audited agent_suspended)', async () => {
    const open = srv.client();
    expect((await srv.login(open, agent, CARD_A, 'orlova', PASSWORD)).status).toBe(200);
    const waiting = srv.client();
    expect((await waiting.post('/auth/card', { statement: await srv.statementFor(waiting, agent, CARD_A) })).status).toBe(200);
    for (const uid of ['04C1C1C1C1C101', '04C1C1C1C1C102']) {
      const c = srv.client();
      expect((await c.post('/auth/card', { statement: await srv.statementFor(c, agent, uid) })).status).toBe(401);
    }
    expect((await srv.services.agents.get(agent.id))?.status).toBe('suspended');
    clock.advance(16_000); // past the session guard's 15 s between reads of the factors
    expect((await open.get('/auth/session')).status).toBe(200);
    const pw = await waiting.post('/auth/password', { login: 'orlova', password: PASSWORD });
    expect(pw.status).toBe(401);
    expect(pw.json.error.code).toBe('card_step_required');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'agent_suspended' });
  });
});
