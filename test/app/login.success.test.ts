import { verifyAuditChain } from '../../src/audit/verify';
import { signStatement } from '../../src/card-agent/sign-statement';
import { suiteServer, type TestServer, type TestAgent } from '../helpers/app';
import { sentCommands } from '../helpers/redis-trips';

const UID = '04A22BB25C6180';
const PASSWORD = 'Верный-пароль-2026!';
/** The round trips one one-shot login waits for (bench/README.md, Results); the session slot (issue 10 §4) added one. */
const ROUND_TRIPS = 11;

/** In the enclosing describe: a server of its own (config `env` on top of the test defaults), with ivanova's account bound to UID. */
function serverWithIvanova(env: Record<string, string>, use: (srv: TestServer, agent: TestAgent) => void) {
  suiteServer({ env }, async (srv, agent) => {
    await srv.account('ivanova', PASSWORD, UID);
    use(srv, agent);
  });
}

describe('card + password login succeeds', () => {
  let srv: TestServer;
  let agent: TestAgent;
  serverWithIvanova({}, (s, a) => {
    srv = s;
    agent = a;
  });

  it('two steps: card answers next=password with the login, password opens a session', async () => {
    const c = srv.client();
    const nonce = await c.post('/auth/nonce');
    expect(nonce.status).toBe(200);
    expect(nonce.json.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(nonce.json.expiresAt)).toBeGreaterThan(Date.now());
    expect(nonce.json.expiresInSec).toBe(srv.config.CARDAUTH_NONCE_TTL_SEC);
    const preauthCookie = c.cookie;

    const statement = await signStatement(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, nonce: nonce.json.nonce, uid: '04:a2:2b:b2:5c:61:80', reader: 'R' }, srv.clock);
    const card = await c.post('/auth/card', { statement });
    expect(card.status).toBe(200);
    expect(card.json).toEqual({ next: 'password', login: 'ivanova' });

    const pw = await c.post('/auth/password', { login: 'IVANOVA', password: PASSWORD });
    expect(pw.status).toBe(200);
    expect(pw.json).toMatchObject({ login: 'ivanova', amr: ['sc', 'pwd'], roles: ['clinician'], previousLogin: null, workstation: 'РМ-101' });
    expect(c.cookie).not.toBe(preauthCookie); // session id regenerated on login

    const who = await c.get('/auth/session');
    expect(who.status).toBe(200);
    expect(who.json.login).toBe('ivanova');
  });

  it('the session cookie is httpOnly, SameSite=Strict, signed, and not Secure on http', async () => {
    const res = await fetch(srv.url + '/auth/nonce', { method: 'POST', headers: { origin: srv.config.CARDAUTH_PUBLIC_ORIGIN, 'content-type': 'application/json' }, body: '{}' });
    const cookie = res.headers.getSetCookie().find((x) => x.startsWith('cardauth.sid='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    expect(decodeURIComponent(cookie.split(';')[0]!)).toMatch(/^cardauth\.sid=s:[^.]+\.[A-Za-z0-9+/=_-]+$/);
  });

  it('a login in progress lives only as long as a nonce; the logged-in session gets the full lifetime, and keeps it', async () => {
    const sidOf = (cookie: string) => decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0];
    const { CARDAUTH_NONCE_TTL_SEC: nonceTtl, CARDAUTH_SESSION_MAX_SEC: maxTtl } = srv.config;
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID); // POST /auth/nonce
    const preauth = await srv.redis.ttl(`sess:${sidOf(c.cookie)}`);
    expect(preauth).toBeGreaterThan(0);
    expect(preauth).toBeLessThanOrEqual(nonceTtl);
    expect((await c.post('/auth/card', { statement })).status).toBe(200);
    expect(await srv.redis.ttl(`sess:${sidOf(c.cookie)}`)).toBeLessThanOrEqual(nonceTtl);

    const res = await c.post('/auth/password', { login: 'ivanova', password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).not.toMatch(/Expires=/i); // a browser-session cookie again
    const loggedIn = sidOf(c.cookie);
    expect(await srv.redis.ttl(`sess:${loggedIn}`)).toBeGreaterThan(maxTtl - 60);
    // A new login attempt on it (the lock screen asks for a nonce) does not shorten it.
    expect((await c.post('/auth/nonce')).status).toBe(200);
    expect(await srv.redis.ttl(`sess:${loggedIn}`)).toBeGreaterThan(maxTtl - 60);
  });

  it('stores {accountId, amr, authTime, cardUid, agentId} in Redis and shows the previous login next time', async () => {
    const c1 = srv.client();
    expect((await srv.login(c1, agent, UID, 'ivanova', PASSWORD)).status).toBe(200);
    const c2 = srv.client();
    const second = await srv.login(c2, agent, UID, 'ivanova', PASSWORD);
    expect(second.status).toBe(200);
    expect(second.json.previousLogin).toMatchObject({ workstation: 'РМ-101' });

    const sid = decodeURIComponent(c2.cookie.split('=')[1]!).slice(2).split('.')[0];
    const stored = JSON.parse((await srv.redis.get(`sess:${sid}`))!);
    expect(stored.passport.user).toMatchObject({ amr: ['sc', 'pwd'], cardUid: UID, agentId: agent.id });
    expect(typeof stored.passport.user.accountId).toBe('string');
    expect(typeof stored.passport.user.authTime).toBe('number');
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
  });

  it('one-shot POST /auth/login does the same with the statement in the body', async () => {
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID);
    const res = await c.post('/auth/login', { statement, login: 'ivanova', password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.json.amr).toEqual(['sc', 'pwd']);
  });

  it("one-shot login within issue 9's Redis budget: at most 15 commands (a script call is one), and the independent ones sent together", async () => {
    const login = async () => {
      const c = srv.client();
      const statement = await srv.statementFor(c, agent, UID);
      return sentCommands(srv.redis, async () => expect((await c.post('/auth/login', { statement, login: 'ivanova', password: PASSWORD })).status).toBe(200));
    };
    await login(); // every script loaded and the audit head known, as on a running server
    const sent = await login();
    expect(sent.names.length).toBeLessThanOrEqual(15);
    // What bench/README.md's Results account for, round trip by round trip.
    expect(sent.roundTrips).toBeLessThanOrEqual(ROUND_TRIPS);
  });

  it('logout ends the session', async () => {
    const c = srv.client();
    await srv.login(c, agent, UID, 'ivanova', PASSWORD);
    expect((await c.post('/auth/logout')).status).toBe(204);
    const after = await c.get('/auth/session');
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('unauthenticated');
    // No OpenID provider, no client: back-channel logout left nothing behind.
    expect(await srv.redis.keys('oidc:*')).toEqual([]);
  });

  it('the audit chain verifies and never contains the password', async () => {
    const result = await verifyAuditChain({ redis: srv.redis });
    expect(result.ok).toBe(true);
    const entries = await srv.redis.xrange('audit:log', '-', '+');
    const text = JSON.stringify(entries);
    expect(text).not.toContain(PASSWORD);
    expect(text).toContain('session.created');
    expect(text).toContain('card.presented');
    expect(text).toContain('password.checked');
  });
});

describe('behind a trusted proxy with an https public origin, login succeeds', () => {
  const ORIGIN = 'https://mis.example.ru';
  let srv: TestServer;
  let agent: TestAgent;
  serverWithIvanova({ CARDAUTH_PUBLIC_ORIGIN: ORIGIN, CARDAUTH_TRUST_PROXY: 'loopback' }, (s, a) => {
    srv = s;
    agent = a;
  });

  it('the session cookie of a login through the proxy is Secure, HttpOnly and SameSite=Strict', async () => {
    const c = srv.client({ 'x-forwarded-proto': 'https' });
    expect(c.origin).toBe(ORIGIN);
    const res = await srv.login(c, agent, UID, 'ivanova', PASSWORD);
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((x) => x.startsWith('cardauth.sid='));
    expect(cookie).toBeDefined();
    const attributes = cookie!.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=strict']));
    expect((await c.get('/auth/session')).json.login).toBe('ivanova');
  });

  it('the language cookie set through the proxy is Secure too', async () => {
    const res = await srv.client({ 'x-forwarded-proto': 'https' }).get('/login?lang=en');
    const cookie = res.headers.getSetCookie().find((x) => x.startsWith('lang='));
    expect(cookie?.split(';').map((a) => a.trim().toLowerCase())).toEqual(expect.arrayContaining(['lang=en', 'secure', 'httponly']));
  });
});

describe('with CARDAUTH_CARD_IDENTIFIES_USER=false, login succeeds', () => {
  let srv: TestServer;
  let agent: TestAgent;
  serverWithIvanova({ CARDAUTH_CARD_IDENTIFIES_USER: 'false' }, (s, a) => {
    srv = s;
    agent = a;
  });

  it('the card step answers only next=password, and the password step logs in', async () => {
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID);
    const card = await c.post('/auth/card', { statement });
    expect(card.status).toBe(200);
    expect(card.json).toEqual({ next: 'password' });
    expect((await c.get('/auth/session')).status).toBe(401);

    const pw = await c.post('/auth/password', { login: 'ivanova', password: PASSWORD });
    expect(pw.status).toBe(200);
    expect(pw.json).toMatchObject({ login: 'ivanova', amr: ['sc', 'pwd'] });
    expect((await c.get('/auth/session')).json.login).toBe('ivanova');
  });
});
