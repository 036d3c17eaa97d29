import { exportJWK, generateKeyPair } from 'jose';
import { signTapout } from '../../src/card-agent/sign-statement';
import { auditRecords, lastAudit, withAuditUnusable } from '../helpers/audit';
import { manualClock, suiteServer, TestClient, type TestAgent, type TestServer } from '../helpers/app';

const PW_A = 'Пароль-Алексеевой-1';
const PW_B = 'Пароль-Борисова-22';
const CARD_A = '04000000000A01';
const CARD_B = '04000000000B01';
const CARD_A2 = '04000000000A02';

describe('locked sessions: idle, tap-out, switch; unlock only with the same card and the password', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const clock = manualClock();
  suiteServer({ clock, env: { CARDAUTH_SESSION_IDLE_SEC: '600', CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_LOCKOUT_ATTEMPTS: '20', CARDAUTH_ALLOW_BELOW_PROFILE: 'true' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('alekseeva', PW_A, CARD_A);
    await srv.account('borisov', PW_B, CARD_B);
  });

  const tapout = (uid: string, signal: 'tap' | 'removed' | 'switch' = 'tap', who = agent) =>
    signTapout(who.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid, reader: 'Virtual PCD 00 00', signal }, clock);
  const agentPost = (path: string, body: unknown) => new TestClient(srv.url, null).post(path, body);

  async function loggedIn(login = 'alekseeva', uid = CARD_A, pw = PW_A, at = agent) {
    const c = srv.client();
    expect((await srv.login(c, at, uid, login, pw)).status).toBe(200);
    return c;
  }

  it('idle past the timeout locks the session rather than ending it, and hides its content', async () => {
    const c = await loggedIn();
    clock.advance(601_000);
    const res = await c.get('/auth/session');
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: { code: 'session_locked', message: expect.any(String) } });
    expect(res.text).not.toContain('alekseeva');
    expect(await lastAudit(srv.redis, 'session.locked')).toMatchObject({ reason: 'idle', source: { agentId: agent.id, ip: expect.any(String) } });
  });

  it('activity within the timeout keeps the session open', async () => {
    const c = await loggedIn();
    for (let i = 0; i < 3; i++) {
      clock.advance(400_000);
      expect((await c.get('/auth/session')).status).toBe(200);
    }
  });

  it('background checks do not count as activity: an unattended page still locks when idle', async () => {
    const c = await loggedIn();
    for (let i = 0; i < 2; i++) {
      clock.advance(290_000);
      expect((await c.get('/auth/session', { 'x-cardauth-background': '1' })).status).toBe(200);
    }
    clock.advance(30_000);
    const res = await c.get('/auth/session', { 'x-cardauth-background': '1' });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('session_locked');
    expect(await lastAudit(srv.redis, 'session.locked')).toMatchObject({ reason: 'idle' });
  });

  it('past the absolute lifetime (12 h) an active session ends: session_expired, audited, and the cookie is spent', async () => {
    const c = await loggedIn();
    for (let t = 0; t + 590_000 < 12 * 3600_000; t += 590_000) {
      clock.advance(590_000);
      expect((await c.get('/auth/session')).status).toBe(200);
    }
    clock.advance(600_000);
    const res = await c.get('/auth/session');
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('session_expired');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ reason: 'expired', subject: { login: 'alekseeva' }, source: { agentId: agent.id, ip: expect.any(String) } });
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
  });

  it('a sign-out that finds its session past the lifetime says session_expired', async () => {
    const c = await loggedIn();
    clock.advance(12 * 3600_000 + 1000);
    const res = await c.post('/auth/logout');
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('session_expired');
  });

  it('a session whose card was revoked (and not swept) ends at its next request after 15 s, audited admin / card_revoked', async () => {
    await srv.account('gromova', 'Пароль-Громовой-1', '04000000000C01');
    const c = await loggedIn('gromova', '04000000000C01', 'Пароль-Громовой-1');
    await srv.services.cards.revoke({ uid: '04000000000C01', reason: 'stolen', by: 'os:test' });
    clock.advance(16_000);
    const res = await c.get('/auth/session', { 'x-cardauth-background': '1' });
    expect(res.json.error.code).toBe('session_expired');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ reason: 'admin', subject: { login: 'gromova' }, details: { cause: 'card_revoked' } });
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
  });

  it('a session whose account was blocked (and not swept) ends the same way, audited admin / account_blocked', async () => {
    const { id } = await srv.account('zaitseva', 'Пароль-Зайцевой-1', '04000000000C02');
    const c = await loggedIn('zaitseva', '04000000000C02', 'Пароль-Зайцевой-1');
    await srv.services.accounts.setStatus(id, 'blocked');
    clock.advance(16_000);
    expect((await c.get('/auth/session')).json.error.code).toBe('session_expired');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ reason: 'admin', subject: { login: 'zaitseva' }, details: { cause: 'account_blocked' } });
  });

  it('a session whose agent was revoked ends the same way, even while locked', async () => {
    const station = await srv.agent({ name: 'РМ-404' });
    const c = await loggedIn('alekseeva', CARD_A, PW_A, station);
    await agentPost('/agents/events', { statement: await tapout(CARD_A, 'tap', station) });
    expect((await c.get('/auth/session')).json.error.code).toBe('session_locked');
    await srv.services.agents.revoke(station.id, 'os:test');
    clock.advance(16_000);
    expect((await c.get('/auth/session')).json.error.code).toBe('session_expired');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ reason: 'admin', details: { cause: 'agent_revoked' } });
  });

  it('a passed card step is void once its card or agent is revoked: card_step_required, audited', async () => {
    await srv.account('belova', 'Пароль-Беловой-1', '04000000000D01');
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, '04000000000D01');
    expect((await c.post('/auth/card', { statement })).status).toBe(200);
    await srv.services.cards.revoke({ uid: '04000000000D01', reason: 'stolen', by: 'os:test' });
    const res = await c.post('/auth/password', { login: 'belova', password: 'Пароль-Беловой-1' });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('card_step_required');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'card_revoked', cardUid: '04000000000D01' });
    // The void card step is gone from the session: trying again is a password step with no card step.
    expect((await c.post('/auth/password', { login: 'belova', password: 'Пароль-Беловой-1' })).json.error.code).toBe('card_step_required');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'no_card_step' });

    const station = await srv.agent({ name: 'РМ-505' });
    const d = srv.client();
    expect((await d.post('/auth/card', { statement: await srv.statementFor(d, station, CARD_B) })).status).toBe(200);
    await srv.services.agents.revoke(station.id, 'os:test');
    expect((await d.post('/auth/password', { login: 'borisov', password: PW_B })).json.error.code).toBe('card_step_required');
    expect(await lastAudit(srv.redis, 'password.checked')).toMatchObject({ outcome: 'failure', reason: 'agent_revoked' });
  });

  it('a signed tap-out locks every session of that card at that agent, and only those', async () => {
    const a1 = await loggedIn();
    const a2 = await loggedIn();
    const b = await loggedIn('borisov', CARD_B, PW_B);
    const elsewhere = await loggedIn('alekseeva', CARD_A, PW_A, await srv.agent({ name: 'РМ-202' }));
    const res = await agentPost('/agents/events', { statement: await tapout(CARD_A) });
    expect(res.status).toBe(200);
    expect(res.json.locked).toBeGreaterThanOrEqual(2);
    expect((await a1.get('/auth/session')).json.error.code).toBe('session_locked');
    expect((await a2.get('/auth/session')).json.error.code).toBe('session_locked');
    expect((await b.get('/auth/session')).status).toBe(200);
    expect((await elsewhere.get('/auth/session')).status).toBe(200); // the same card at another workstation
    expect(await lastAudit(srv.redis, 'card.tapout')).toMatchObject({ outcome: 'success', cardUid: CARD_A, details: { signal: 'tap' } });
    expect(await lastAudit(srv.redis, 'session.locked')).toMatchObject({ reason: 'tapout', cardUid: CARD_A });
    const page = await a1.get('/home');
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="locked"');
  });

  it('a tap-out whose records failed still locks (503), and the retry writes each missing session.locked record once', async () => {
    expect((await agentPost('/agents/events', { statement: await tapout(CARD_A) })).status).toBe(200); // earlier tests' sessions
    const a1 = await loggedIn();
    const a2 = await loggedIn();
    const before = (await auditRecords(srv.redis, 'session.locked')).length;
    clock.advance(1000);
    const lockedAt = clock.now();
    const lost = await withAuditUnusable(srv.redis, async () => agentPost('/agents/events', { statement: await tapout(CARD_A) }));
    expect(lost.status).toBe(503);
    expect((await a1.get('/auth/session')).json.error.code).toBe('session_locked'); // the lock did not wait for the audit
    expect((await a2.get('/auth/session')).json.error.code).toBe('session_locked');
    expect(await auditRecords(srv.redis, 'session.locked')).toHaveLength(before);

    clock.advance(1000);
    const retry = await agentPost('/agents/events', { statement: await tapout(CARD_A) });
    expect(retry.status).toBe(200);
    expect(retry.json.locked).toBe(0); // nothing new to lock
    const late = (await auditRecords(srv.redis, 'session.locked')).slice(before);
    expect(late).toHaveLength(2);
    expect(new Set(late.map((r) => r.sessionIdHash)).size).toBe(2);
    for (const r of late) expect(r).toMatchObject({ reason: 'tapout', cardUid: CARD_A, details: { lockedAt: new Date(lockedAt).toISOString() } });

    expect((await agentPost('/agents/events', { statement: await tapout(CARD_A) })).status).toBe(200);
    expect(await auditRecords(srv.redis, 'session.locked')).toHaveLength(before + 2); // written once
  });

  it('a replayed or forged tap-out is refused', async () => {
    const statement = await tapout(CARD_A);
    expect((await agentPost('/agents/events', { statement })).status).toBe(200);
    const again = await agentPost('/agents/events', { statement });
    expect(again.status).toBe(401);
    expect(again.json.error.code).toBe('card_rejected');
    clock.advance(60_000); // a new minute: only the first refused event of an address in a minute is recorded
    const { privateKey } = await generateKeyPair('EdDSA');
    const forged = await signTapout({ ...agent.key, privateKey }, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid: CARD_A, reader: 'R', signal: 'tap' }, clock);
    expect((await agentPost('/agents/events', { statement: forged })).status).toBe(401);
    expect(await lastAudit(srv.redis, 'card.tapout')).toMatchObject({ outcome: 'failure', reason: 'bad_signature' });
  });

  it('unlocks with the same card and the password', async () => {
    const c = await loggedIn();
    await agentPost('/agents/events', { statement: await tapout(CARD_A) });
    const res = await srv.login(c, agent, CARD_A, 'alekseeva', PW_A);
    expect(res.status).toBe(200);
    expect((await c.get('/auth/session')).json.login).toBe('alekseeva');
    expect(await lastAudit(srv.redis, 'session.unlocked')).toMatchObject({ outcome: 'success' });
  });

  it('an unlock is audited with the card and where it came from', async () => {
    const c = await loggedIn();
    await agentPost('/agents/events', { statement: await tapout(CARD_A) });
    expect((await srv.login(c, agent, CARD_A, 'alekseeva', 'wrong')).status).toBe(401);
    const from = { agentId: agent.id, reader: 'Virtual PCD 00 00', ip: expect.any(String) };
    expect(await lastAudit(srv.redis, 'session.unlocked')).toMatchObject({ outcome: 'failure', cardUid: CARD_A, source: from });
    expect((await srv.login(c, agent, CARD_A, 'alekseeva', PW_A)).status).toBe(200);
    expect(await lastAudit(srv.redis, 'session.unlocked')).toMatchObject({ outcome: 'success', cardUid: CARD_A, source: from });
  });

  it('one-shot logins count as unlock attempts too: the third failure ends the session', async () => {
    const c = await loggedIn();
    await agentPost('/agents/events', { statement: await tapout(CARD_A) });
    const oneShot = async () => c.post('/auth/login', { statement: await srv.statementFor(c, agent, CARD_A), login: 'alekseeva', password: 'wrong' });
    expect((await oneShot()).json.error.code).toBe('login_failed');
    expect((await oneShot()).json.error.code).toBe('login_failed');
    expect((await oneShot()).json.error.code).toBe('session_expired');
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
  });

  it("the account's other card does not unlock: it starts a new login, and the locked session is gone", async () => {
    const c = await loggedIn();
    const { id } = (await srv.services.accounts.findByLogin('alekseeva'))!;
    await srv.services.cards.bind({ uid: CARD_A2, accountId: id, by: 'os:test' });
    await agentPost('/agents/events', { statement: await tapout(CARD_A) });
    const before = (await auditRecords(srv.redis)).length;
    const lockedCookie = c.cookie;
    const res = await srv.login(c, agent, CARD_A2, 'alekseeva', PW_A);
    expect(res.status).toBe(200);
    const old = srv.client();
    old.cookie = lockedCookie;
    expect((await old.get('/auth/session')).json.error.code).toBe('unauthenticated');
    const since = (await auditRecords(srv.redis)).slice(before).map((r) => r.type);
    expect(since).toContain('session.created');
    expect(since).not.toContain('session.unlocked');
    expect((await c.get('/auth/session')).json.login).toBe('alekseeva');
  });

  it('ends the session after 3 failed unlocks', async () => {
    const c = await loggedIn();
    await agentPost('/agents/events', { statement: await tapout(CARD_A) });
    for (let i = 1; i <= 2; i++) {
      const r = await srv.login(c, agent, CARD_A, 'alekseeva', 'wrong');
      expect(r.json.error.code).toBe('login_failed');
      expect((await c.get('/auth/session')).json.error.code).toBe('session_locked');
    }
    const third = await srv.login(c, agent, CARD_A, 'alekseeva', 'wrong');
    expect(third.json.error.code).toBe('session_expired');
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ reason: 'unlock_failures' });
  });

  it("another clinician's card locks the open session and starts their login (fast user switching)", async () => {
    const c = await loggedIn();
    const statement = await srv.statementFor(c, agent, CARD_B);
    const card = await c.post('/auth/card', { statement });
    expect(card.json).toEqual({ next: 'password', login: 'borisov' });
    expect((await c.get('/auth/session')).json.error.code).toBe('session_locked');
    expect(await lastAudit(srv.redis, 'session.locked')).toMatchObject({ reason: 'switch', cardUid: CARD_B, source: { agentId: agent.id, ip: expect.any(String) } });
    const pw = await c.post('/auth/password', { login: 'borisov', password: PW_B });
    expect(pw.status).toBe(200);
    expect((await c.get('/auth/session')).json.login).toBe('borisov');
  });

  it('a locked session can be signed out from the lock screen', async () => {
    const c = await loggedIn();
    await agentPost('/agents/events', { statement: await tapout(CARD_A) });
    expect((await c.post('/auth/logout')).status).toBe(204);
    expect((await c.get('/auth/session')).json.error.code).toBe('unauthenticated');
  });
});

describe('agent enrollment', () => {
  let srv: TestServer;
  suiteServer({}, async (s) => {
    srv = s;
  });
  const post = (body: unknown) => new TestClient(srv.url, null).post('/agents/enroll', body);

  it('registers a public key as a pending agent with its fingerprint, audited', async () => {
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const res = await post({ name: 'Регистратура-1', publicJwk: await exportJWK(publicKey) });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ id: expect.stringMatching(/^ag_[0-9a-f]{16}$/), status: 'pending', fingerprint: expect.any(String) });
    const status = await new TestClient(srv.url, null).get(`/agents/${res.json.id}/status`);
    expect(status.json.status).toBe('pending');
    expect(await lastAudit(srv.redis, 'agent.enrolled')).toMatchObject({ outcome: 'success', source: { agentId: res.json.id } });
  });

  it('a retry completes an enrollment whose audit record failed; an approved key or another name is not taken over', async () => {
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const lost = await withAuditUnusable(srv.redis, () => post({ name: 'Регистратура-2', publicJwk }));
    expect(lost.status).toBe(503);
    const retry = await post({ name: 'Регистратура-2', publicJwk });
    expect(retry.status).toBe(201);
    expect(retry.json.status).toBe('pending');
    expect(await lastAudit(srv.redis, 'agent.enrolled')).toMatchObject({ source: { agentId: retry.json.id }, details: { resumed: true } });
    expect((await post({ name: 'Чужое имя', publicJwk })).json.error.code).toBe('agent_state');
    await srv.services.agents.approve(retry.json.id, 'os:test');
    expect((await post({ name: 'Регистратура-2', publicJwk })).json.error.code).toBe('agent_state');
  });

  it('refuses a private key and garbage with 400', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    expect((await post({ name: 'x', publicJwk: await exportJWK(privateKey) })).status).toBe(400);
    expect((await post({ name: 'x', publicJwk: 'nope' })).status).toBe(400);
  });

  it('is rate-limited per address', async () => {
    let last = 0;
    for (let i = 0; i < 12; i++) last = (await post({ name: `ws-${i}`, publicJwk: { kty: 'oct', k: 'AA' } })).status;
    expect(last).toBe(429);
  });
});
