import { randomUUID } from 'node:crypto';
import { CompactSign, SignJWT, base64url, exportJWK, generateKeyPair } from 'jose';
import { signStatement, signTapout } from '../../src/card-agent/sign-statement';
import { lastAudit } from '../helpers/audit';
import { manualClock, suiteServer, TestClient, type TestAgent, type TestServer } from '../helpers/app';

const UID = '04A22BB25C6180';
const PASSWORD = 'Верный-пароль-2026!';

describe('the card step refuses, with one generic code and the reason in the audit', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const clock = manualClock();
  suiteServer({ clock, env: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('petrov', PASSWORD, UID);
  });

  async function expectRejected(c: TestClient, statement: string, reason: string) {
    const res = await c.post('/auth/card', { statement });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: { code: 'card_rejected', message: 'card not accepted' } });
    const rec = await lastAudit(srv.redis, 'card.presented');
    expect(rec).toMatchObject({ outcome: 'failure', reason });
    return rec!;
  }
  const nonceOf = async (c: TestClient) => (await c.post('/auth/nonce')).json.nonce as string;
  const claims = (nonce: string, uid = UID) => ({ aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, nonce, uid, reader: 'R' });
  /** A card statement built by hand, so that one part can be wrong: the header's alg or typ, the iss, the key. */
  const handSigned = (nonce: string, wrong: { alg?: string; typ?: string; iss?: string; key?: Parameters<SignJWT['sign']>[0] }) => {
    const now = Math.floor(clock.now() / 1000);
    return new SignJWT({ nonce, uid: UID, reader: 'R' })
      .setProtectedHeader({ alg: wrong.alg ?? 'EdDSA', kid: agent.id, typ: wrong.typ ?? 'cardauth-card+jwt' })
      .setIssuer(wrong.iss ?? agent.id)
      .setAudience(srv.config.CARDAUTH_PUBLIC_ORIGIN)
      .setIssuedAt(now)
      .setExpirationTime(now + 30)
      .setJti(randomUUID())
      .sign(wrong.key ?? agent.key.privateKey);
  };

  it('unknown card', async () => {
    const c = srv.client();
    const rec = await expectRejected(c, await srv.statementFor(c, agent, '04112233445566'), 'unknown_card');
    expect(rec.cardUid).toBe('04112233445566');
    expect(rec.source.agentId).toBe(agent.id);
  });

  it('revoked card', async () => {
    await srv.account('revoked-user', PASSWORD, '04AABBCCDDEEFF');
    await srv.services.cards.revoke({ uid: '04AABBCCDDEEFF', reason: 'lost', by: 'os:test' });
    const c = srv.client();
    await expectRejected(c, await srv.statementFor(c, agent, '04AABBCCDDEEFF'), 'revoked_card');
  });

  it('pending (unapproved) agent', async () => {
    const pending = await srv.agent({ approve: false });
    const c = srv.client();
    await expectRejected(c, await srv.statementFor(c, pending, UID), 'agent_not_approved');
  });

  it('revoked agent', async () => {
    const gone = await srv.agent();
    await srv.services.agents.revoke(gone.id, 'os:test');
    const c = srv.client();
    await expectRejected(c, await srv.statementFor(c, gone, UID), 'agent_not_approved');
  });

  it('unregistered agent id', async () => {
    const c = srv.client();
    const ghost = { ...agent, key: { ...agent.key, agentId: 'ag_0000000000000000' } };
    await expectRejected(c, await srv.statementFor(c, ghost, UID), 'agent_unknown');
  });

  it('bad signature: signed by another key under an approved kid', async () => {
    const { privateKey } = await generateKeyPair('EdDSA');
    const c = srv.client();
    const forged = await signStatement({ agentId: agent.id, alg: 'EdDSA', privateKey }, claims(await nonceOf(c)), clock);
    await expectRejected(c, forged, 'bad_signature');
  });

  it('alg none', async () => {
    const c = srv.client();
    const now = Math.floor(clock.now() / 1000);
    const header = base64url.encode(JSON.stringify({ alg: 'none', kid: agent.id, typ: 'cardauth-card+jwt' }));
    const payload = base64url.encode(JSON.stringify({ iss: agent.id, ...claims(await nonceOf(c)), iat: now, exp: now + 30, jti: 'x' }));
    await expectRejected(c, `${header}.${payload}.`, 'bad_statement');
  });

  it('HS256 signed with the agent public key as the secret', async () => {
    const registered = await srv.services.agents.get(agent.id);
    const c = srv.client();
    const forged = await handSigned(await nonceOf(c), { alg: 'HS256', key: new TextEncoder().encode(JSON.stringify(registered!.publicJwk)) });
    await expectRejected(c, forged, 'bad_statement');
    const rawKey = base64url.decode(String((registered!.publicJwk as { x: string }).x));
    const forged2 = await new CompactSign(new TextEncoder().encode('{}')).setProtectedHeader({ alg: 'HS256', kid: agent.id, typ: 'cardauth-card+jwt' }).sign(rawKey);
    await expectRejected(c, forged2, 'bad_statement');
  });

  it('ES256 agents verify too, and an EdDSA header on an ES256 agent is refused', async () => {
    const es = await srv.agent({ alg: 'ES256' });
    const c = srv.client();
    const ok = await c.post('/auth/card', { statement: await srv.statementFor(c, es, UID) });
    expect(ok.status).toBe(200);
    const { privateKey } = await generateKeyPair('EdDSA');
    const c2 = srv.client();
    const mixed = await signStatement({ agentId: es.id, alg: 'EdDSA', privateKey }, claims(await nonceOf(c2)), clock);
    await expectRejected(c2, mixed, 'bad_statement');
  });

  it('expired statement', async () => {
    const c = srv.client();
    const nonce = await nonceOf(c);
    const past = manualClock(clock.now() - 60_000);
    await expectRejected(c, await signStatement(agent.key, claims(nonce), past), 'statement_expired');
  });

  it('statement from the future (beyond the 5 s skew)', async () => {
    const c = srv.client();
    const nonce = await nonceOf(c);
    const future = manualClock(clock.now() + 60_000);
    await expectRejected(c, await signStatement(agent.key, claims(nonce), future), 'statement_expired');
  });

  it('a statement valid for longer than 30 s', async () => {
    const c = srv.client();
    await expectRejected(c, await signStatement(agent.key, { ...claims(await nonceOf(c)), lifetimeSec: 120 }, clock), 'statement_expired');
  });

  it('tolerates 5 s of clock skew', async () => {
    const c = srv.client();
    const nonce = await nonceOf(c);
    const ahead = manualClock(clock.now() + 4_000);
    const res = await c.post('/auth/card', { statement: await signStatement(agent.key, claims(nonce), ahead) });
    expect(res.status).toBe(200);
  });

  it('wrong audience', async () => {
    const c = srv.client();
    await expectRejected(c, await srv.statementFor(c, agent, UID, { aud: 'https://other.example.ru' }), 'wrong_audience');
  });

  it('replayed nonce: the same statement twice, and a nonce from another session', async () => {
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID);
    expect((await c.post('/auth/card', { statement })).status).toBe(200);
    await expectRejected(c, statement, 'replayed_nonce');

    const thief = srv.client();
    await thief.post('/auth/nonce');
    const victim = srv.client();
    const stolen = await srv.statementFor(victim, agent, UID);
    await expectRejected(thief, stolen, 'replayed_nonce');
  });

  it('malformed and random UIDs', async () => {
    const c = srv.client();
    const rec = await expectRejected(c, await signStatement(agent.key, claims(await nonceOf(c), 'zz-not-hex'), clock), 'uid_malformed');
    expect(rec.cardUid).toBe('zz-not-hex');
    await expectRejected(c, await signStatement(agent.key, claims(await nonceOf(c), '08A1B2C3'), clock), 'uid_random');
    await expectRejected(c, await signStatement(agent.key, claims(await nonceOf(c), '04A1B2'), clock), 'uid_length');
  });

  it('garbage that is not a JWS', async () => {
    const c = srv.client();
    await c.post('/auth/nonce');
    await expectRejected(c, 'not.a.jws', 'bad_statement');
  });

  it('a refused card leaves no card step behind: the password step then needs a card', async () => {
    const c = srv.client();
    await expectRejected(c, await srv.statementFor(c, agent, '04112233445566'), 'unknown_card');
    const res = await c.post('/auth/password', { login: 'petrov', password: PASSWORD });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('card_step_required');
  });

  it("the agent's own key, but iss names another agent, or typ is an agent event rather than a card statement", async () => {
    const c = srv.client();
    await expectRejected(c, await handSigned(await nonceOf(c), { iss: 'ag_ffffffffffffffff' }), 'bad_statement');
    // Every claim of a card statement, but typed as an agent event (a tap-out): only typ differs.
    await expectRejected(c, await handSigned(await nonceOf(c), { typ: 'cardauth-event+jwt' }), 'bad_statement');
    // Control: the same hand-made statement with nothing wrong passes, so the refusals above are for what was changed.
    expect((await c.post('/auth/card', { statement: await handSigned(await nonceOf(c), {}) })).status).toBe(200);
  });
});

describe('random and odd-length UIDs are audited but do not count against the client IP', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '3' } }, async (s, a) => {
    [srv, agent] = [s, a];
  });
  const signed = async (c: TestClient, uid: string) => {
    const { nonce } = (await c.post('/auth/nonce')).json;
    return signStatement(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, nonce, uid, reader: 'R' }, srv.clock);
  };
  const present = async (uid: string) => {
    const c = srv.client();
    return c.post('/auth/card', { statement: await signed(c, uid) });
  };

  it('five phones brushed past the reader leave the address its attempts; unknown cards use them up', async () => {
    for (const uid of ['08A1B2C3', '08D4E5F6', '0811223344', '08778899', '04A1B2']) expect((await present(uid)).json.error.code).toBe('card_rejected');
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ reason: 'uid_length' });
    for (let i = 0; i < 3; i++) expect((await present(`04000000000F0${i}`)).json.error.code).toBe('card_rejected');
    expect((await present('04000000000F09')).json.error.code).toBe('rate_limited');
  });
});

describe('a replayed statement is junk: audited replayed_nonce, and it cannot lock out the address', () => {
  let srv: TestServer;
  let agent: TestAgent;
  suiteServer({ env: { CARDAUTH_IP_ATTEMPTS: '2', CARDAUTH_SESSION_JUNK_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    await srv.account('replayed', 'Пароль-повтора-2026!', '04000000000F11');
  });

  it('a random UID is free once; 60 replays of it, or of an old card statement, leave the address its logins', async () => {
    const c = srv.client();
    const { nonce } = (await c.post('/auth/nonce')).json;
    const phone = await signStatement(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, nonce, uid: '08A1B2C3', reader: 'R' }, srv.clock);
    expect((await c.post('/auth/card', { statement: phone })).json.error.code).toBe('card_rejected');
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ reason: 'uid_random', cardUid: '08A1B2C3' });
    const old = await srv.statementFor(c, agent, '04000000000F11');
    expect((await c.post('/auth/card', { statement: old })).status).toBe(200);
    for (let i = 0; i < 30; i++) {
      expect((await c.post('/auth/card', { statement: phone })).json.error.code).toBe('card_rejected');
      expect((await c.post('/auth/card', { statement: old })).json.error.code).toBe('card_rejected');
    }
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ reason: 'replayed_nonce' });
    expect(await srv.redis.get('rl:ip:127.0.0.1')).toBeNull();
    expect((await srv.login(srv.client(), agent, '04000000000F11', 'replayed', 'Пароль-повтора-2026!')).status).toBe(200);
  });
});

describe('the card step is tied to the workstation: only from a client IP its agent was seen at', () => {
  let srv: TestServer;
  // Behind a trusted proxy, so each test client can stand for its own address (X-Forwarded-For).
  suiteServer({ env: { CARDAUTH_TRUST_PROXY: 'loopback', CARDAUTH_WORKSTATION_IP_EXEMPT: '10.20.0.0/16, 2001:db8::/32' } }, async (s) => {
    srv = s;
    await srv.account('sidorova', PASSWORD, UID);
  });
  const WORKSTATION = '192.0.2.10';
  const ELSEWHERE = '198.51.100.7';
  const from = (ip: string) => srv.client({ 'x-forwarded-for': ip });
  const agentAt = (ip: string) => new TestClient(srv.url, null, { 'x-forwarded-for': ip });

  /** Enrolls a fresh key over HTTP from `ip`, as `cardauth agent enroll` does, and approves it. */
  async function enrolledFrom(ip: string): Promise<TestAgent> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const res = await agentAt(ip).post('/agents/enroll', { name: 'Кабинет 12', publicJwk: await exportJWK(publicKey) });
    expect(res.status).toBe(201);
    await srv.services.agents.approve(res.json.id, 'os:officer');
    return { id: res.json.id, key: { agentId: res.json.id, alg: 'EdDSA', privateKey } };
  }
  const present = async (agent: TestAgent, ip: string) => {
    const c = from(ip);
    return c.post('/auth/card', { statement: await srv.statementFor(c, agent, UID) });
  };
  const tapoutFrom = async (agent: TestAgent, ip: string, key = agent.key) =>
    agentAt(ip).post('/agents/events', { statement: await signTapout(key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid: UID, reader: 'R', signal: 'tap' }, srv.clock) });

  it('a statement presented from an IP the workstation was never seen at is refused, generic, audited workstation_mismatch', async () => {
    const agent = await enrolledFrom(WORKSTATION);
    const res = await present(agent, ELSEWHERE);
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: { code: 'card_rejected', message: 'card not accepted' } });
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'failure', reason: 'workstation_mismatch', cardUid: UID, source: { ip: ELSEWHERE, agentId: agent.id } });
  });

  it('from the IP it enrolled from, the card step passes, and the one-shot login too', async () => {
    const agent = await enrolledFrom(WORKSTATION);
    expect((await present(agent, WORKSTATION)).json).toEqual({ next: 'password', login: 'sidorova' });
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'success', source: { ip: WORKSTATION, agentId: agent.id } });
    const c = from(WORKSTATION);
    expect((await c.post('/auth/login', { statement: await srv.statementFor(c, agent, UID), login: 'sidorova', password: PASSWORD })).status).toBe(200);
    const d = from(ELSEWHERE);
    expect((await d.post('/auth/login', { statement: await srv.statementFor(d, agent, UID), login: 'sidorova', password: PASSWORD })).json.error.code).toBe('card_rejected');
  });

  it('a verified tap-out records its IP (the workstation moved); a forged one, or a status request, does not', async () => {
    const agent = await enrolledFrom(WORKSTATION);
    const MOVED = '203.0.113.40';
    expect((await agentAt(MOVED).get(`/agents/${agent.id}/status`)).status).toBe(200);
    const { privateKey } = await generateKeyPair('EdDSA');
    expect((await tapoutFrom(agent, MOVED, { ...agent.key, privateKey })).status).toBe(401);
    expect((await present(agent, MOVED)).status).toBe(401);
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ reason: 'workstation_mismatch' });

    expect((await tapoutFrom(agent, MOVED)).status).toBe(200);
    expect((await present(agent, MOVED)).status).toBe(200);
    expect((await present(agent, WORKSTATION)).status).toBe(200); // the old address is kept too (the 16 most recent)
  });

  it('an exempt range (CARDAUTH_WORKSTATION_IP_EXEMPT: NAT, terminal servers) lets any approved agent through', async () => {
    const agent = await enrolledFrom(WORKSTATION);
    expect((await present(agent, '10.20.3.4')).status).toBe(200);
    expect((await present(agent, '2001:db8::7')).status).toBe(200);
    expect((await present(agent, '10.21.0.1')).json.error.code).toBe('card_rejected');
  });
});
