import express, { type Express } from 'express';
import { Passport } from 'passport';
import { createApp } from '../src/app';
import { signTapout } from '../src/card-agent/sign-statement';
import { createCardauth, type Cardauth } from '../src/embed';
import type { LoggedInRequest } from '../src/http/require-login';
import { silentLogger } from '../src/logger';
import type { LoginDenial } from '../src/strategies/card-password';
import type { LoginResult } from '../src/strategies/session-user';
import { auditRecords, lastAudit } from './helpers/audit';
import { manualClock, startTestServer, suiteServer, TEST_SECRET, TestClient, type TestAgent, type TestServer } from './helpers/app';
import { startRedis, suiteRedis } from './helpers/redis';
import { addSkud, send, statement, type Skud } from './helpers/skud';
import type { AddressInfo } from 'node:net';
import { loadServerConfig } from '../src/config';

const PW = 'Пароль-Иванова-1';
const UID = '04000000000E01';
const MB = 1024 * 1024;

/** A host MIS: its own upload route with its own body limit, its own pages behind requireLogin. */
function hostRoutes(app: express.Router, cardauth: Pick<Cardauth, 'requireLogin'>): void {
  app.post('/upload', express.raw({ limit: '2mb', type: '*/*' }), (req, res) => {
    res.json({ bytes: (req.body as Buffer).length });
  });
  app.get('/patients', cardauth.requireLogin(), (req, res) => {
    const { user } = req as LoggedInRequest;
    res.type('html').send(`<h1>Patients of ${user.displayName} (${user.login})</h1>`);
  });
  app.get('/api/patients', cardauth.requireLogin({ api: true }), (req, res) => {
    res.json({ login: (req as LoggedInRequest).user.login });
  });
  app.get('/security', cardauth.requireLogin({ roles: ['security_officer', 'chief_admin'] }), (_req, res) => {
    res.send('officers only');
  });
}

const upload = (base: string, bytes: number) =>
  fetch(`${base}/upload`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(bytes, 1) });

describe('createCardauth: cardauth embedded in a host Express app', () => {
  let srv: TestServer;
  let agent: TestAgent;
  let cardauth: Cardauth;
  const clock = manualClock();
  suiteServer(
    {
      clock,
      app: ({ config, redis, clock: c }): Express => {
        cardauth = createCardauth({ config, redis, clock: c, logger: silentLogger });
        const app = express();
        app.set('trust proxy', config.CARDAUTH_TRUST_PROXY);
        app.use(cardauth.router);
        hostRoutes(app, cardauth);
        // A host that runs its own Passport with cardauth's strategy (one-shot login).
        const own = new Passport();
        own.use('card-password', cardauth.strategy);
        app.post('/mis/login', express.json(), cardauth.session, own.initialize(), own.authenticate('card-password', { session: false, failWithError: true }), (req, res) => {
          res.json({ login: (req.user as LoginResult).account.login });
        });
        // The same login with Passport's callback: the host reads a refusal's code (LoginDenial).
        app.post('/mis/login/why', express.json(), cardauth.session, own.initialize(), (req, res, next) => {
          own.authenticate('card-password', { session: false }, (err: unknown, user: LoginResult | false, denial?: LoginDenial) => {
            if (err) return next(err);
            res.status(user ? 200 : 401).json(user ? { login: user.account.login } : { code: denial?.error.code });
          })(req, res, next);
        });
        return app;
      },
    },
    async (s, a) => {
      [srv, agent] = [s, a];
      await srv.account('ivanov', PW, UID);
    },
  );
  afterAll(() => cardauth.close());

  async function loggedIn() {
    const c = srv.client();
    expect((await srv.login(c, agent, UID, 'ivanov', PW)).status).toBe(200);
    return c;
  }

  it('a 1 MB upload to a host route: 413 inside createApp (extraRoutes), accepted when the host mounts cardauth.router', async () => {
    const redis = await startRedis();
    const inside = await startTestServer(redis, {
      app: ({ config, redis: client, clock: c, services }) => {
        const routes = express.Router();
        hostRoutes(routes, { requireLogin: () => (_req, _res, next) => next() });
        return createApp({ config, redis: client, clock: c, logger: silentLogger, ...services, extraRoutes: [routes] });
      },
    });
    try {
      const res = await upload(inside.url, MB);
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: 'body_too_large' } });
    } finally {
      await inside.close();
      await redis.stop();
    }

    const res = await upload(srv.url, MB);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: MB });
    // cardauth's own routes keep its 16 KB limit.
    expect((await srv.client().post('/auth/login', 'x'.repeat(20_000))).status).toBe(413);
  });

  it("the host's pages get none of cardauth's headers; cardauth's pages keep them", async () => {
    const host = await srv.client().get('/patients');
    expect(host.headers.get('content-security-policy')).toBeNull();
    expect(host.headers.get('x-frame-options')).toBeNull();
    const login = await srv.client().get('/login');
    expect(login.status).toBe(200);
    expect(login.text).toContain('<form');
    expect(login.headers.get('content-security-policy')).toContain("script-src 'self'");
    const asset = await srv.client().get('/assets/login.js');
    expect(asset.status).toBe(200);
  });

  it("cardauth's Origin rule covers its own writes only", async () => {
    const foreign = new TestClient(srv.url, 'https://elsewhere.example');
    expect((await foreign.post('/auth/nonce')).json.error.code).toBe('origin_forbidden');
    expect((await foreign.request('POST', '/upload', 'abc', { 'content-type': 'application/octet-stream' })).json).toEqual({ bytes: 3 });
  });

  it('an unknown path under cardauth\'s prefixes is its 404; any other path is the host\'s', async () => {
    const own = await srv.client().get('/auth/nope');
    expect(own.status).toBe(404);
    expect(own.json.error.code).toBe('not_found');
    const hosts = await srv.client().get('/nope');
    expect(hosts.status).toBe(404);
    expect(hosts.json).toBeUndefined(); // Express's own final handler, not cardauth's
    expect(hosts.headers.get('content-security-policy')).not.toContain("script-src 'self'");
  });

  it('no session: a page is sent to the login with its path as next, an API request gets 401 JSON', async () => {
    const page = await srv.client().get('/patients?ward=3');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fpatients%3Fward%3D3');
    const bare = await srv.client().get('/patients');
    expect(bare.headers.get('location')).toBe('/login?next=%2Fpatients');
    const api = await srv.client().get('/api/patients');
    expect(api.status).toBe(401);
    expect(api.json).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    const prefersJson = await srv.client().get('/patients', { accept: 'application/json' });
    expect(prefersJson.status).toBe(401);
    expect(prefersJson.json.error.code).toBe('unauthenticated');
  });

  it('after a card + password login through the router the host page has req.user', async () => {
    const c = await loggedIn();
    const page = await c.get('/patients');
    expect(page.status).toBe(200);
    expect(page.text).toBe('<h1>Patients of Д-р ivanov (ivanov)</h1>');
    expect((await c.get('/api/patients')).json).toEqual({ login: 'ivanov' });
    expect((await c.get('/auth/session')).json.login).toBe('ivanov');
  });

  it('a session locked by a tap-out is refused', async () => {
    const c = await loggedIn();
    const statement = await signTapout(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid: UID, reader: 'Virtual PCD 00 00', signal: 'tap' }, clock);
    expect((await new TestClient(srv.url, null).post('/agents/events', { statement })).status).toBe(200);
    const page = await c.get('/patients');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fpatients');
    const api = await c.get('/api/patients');
    expect(api.status).toBe(401);
    expect(api.json.error.code).toBe('session_locked');
  });

  it('an idle session is locked and refused (the session guard runs on host routes)', async () => {
    const c = await loggedIn();
    clock.advance((srv.config.CARDAUTH_SESSION_IDLE_SEC + 1) * 1000);
    expect((await c.get('/api/patients')).json.error.code).toBe('session_locked');
  });

  it('roles: a user with none of them gets 403', async () => {
    const c = await loggedIn();
    const res = await c.get('/security');
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('forbidden');
  });

  it("strategy: a host's own Passport logs in with a one-shot statement, login and password", async () => {
    const c = srv.client();
    const statement = await srv.statementFor(c, agent, UID);
    const ok = await c.post('/mis/login', { statement, login: 'ivanov', password: PW });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ login: 'ivanov' });
    const wrong = await c.post('/mis/login', { statement: await srv.statementFor(c, agent, UID), login: 'ivanov', password: 'wrong-password' });
    expect(wrong.status).toBe(401);
  });

  it("strategy: a host's login is audited (password.checked), and a password due for change is refused there too", async () => {
    const c = srv.client();
    const before = (await auditRecords(srv.redis, 'password.checked')).length;
    expect((await c.post('/mis/login', { statement: await srv.statementFor(c, agent, UID), login: 'ivanov', password: PW })).status).toBe(200);
    const checked = await auditRecords(srv.redis, 'password.checked');
    expect(checked).toHaveLength(before + 1);
    expect(checked[checked.length - 1]).toMatchObject({ outcome: 'success', subject: { login: 'ivanov' } });
    const account = (await srv.services.accounts.findByLogin('ivanov'))!;
    await srv.services.accounts.setPasswordHash(account.id, account.passwordHash, { temporary: true });
    try {
      const held = await c.post('/mis/login', { statement: await srv.statementFor(c, agent, UID), login: 'ivanov', password: PW });
      expect(held.status).toBe(401);
    } finally {
      await srv.services.accounts.setPasswordHash(account.id, account.passwordHash, { temporary: false });
    }
    expect((await c.post('/mis/login', { statement: await srv.statementFor(c, agent, UID), login: 'ivanov', password: PW })).status).toBe(200);
  });

  it('POST /skud/events is cardauth\'s path in the host too: a junk body is its 400, not the host\'s 404', async () => {
    const res = await fetch(`${srv.url}/skud/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });

  it("strategy: the presence gate holds for a host's login too (a gated account, a feed never heard: refused, audited)", async () => {
    const c = srv.client();
    const account = (await srv.services.accounts.findByLogin('ivanov'))!;
    await srv.services.accounts.setPresenceRequired(account.id, true);
    try {
      expect((await c.post('/mis/login', { statement: await srv.statementFor(c, agent, UID), login: 'ivanov', password: PW })).status).toBe(401);
      expect(await lastAudit(srv.redis, 'presence.denied')).toMatchObject({ reason: 'feed_silent', subject: { login: 'ivanov' } });
    } finally {
      await srv.services.accounts.setPresenceRequired(account.id, false);
    }
  });

  // After the test above: it needs a feed never heard, these a live one.
  describe("strategy and the presence gate, the access control's feed alive", () => {
    const UID2 = '04000000000E02';
    let skud: Skud;
    let accountId: string;
    beforeAll(async () => {
      ({ id: accountId } = await srv.account('petrova', PW, UID2));
      await srv.services.accounts.setPresenceRequired(accountId, true);
      skud = await addSkud(srv);
      expect((await send(srv, await statement(srv, skud, []))).status).toBe(200); // a heartbeat
    });
    const hostLogin = async (c: TestClient) => c.post('/mis/login/why', { statement: await srv.statementFor(c, agent, UID2), login: 'petrova', password: PW });

    it("no check-in today: the host's login is refused (presence_required) after both factors, audited as cardauth's own login is, no session", async () => {
      const from = (await auditRecords(srv.redis)).length;
      const c = srv.client();
      const r = await hostLogin(c);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ code: 'presence_required' });
      expect((await c.get('/api/patients')).status).toBe(401);
      expect((await c.get('/auth/session')).status).toBe(401);
      // The login's records, then the gate's refusal, and nothing opened.
      const trail = (await auditRecords(srv.redis)).slice(from);
      expect(trail.map((e) => [e.type, e.outcome])).toEqual([
        ['card.presented', 'success'],
        ['password.checked', 'success'],
        ['presence.denied', 'failure'],
      ]);
      const denied = trail[2]!;
      expect(denied).toMatchObject({ reason: 'presence_absent', subject: { accountId, login: 'petrova' }, details: { feedLastAt: new Date(srv.clock.now()).toISOString(), onSilent: 'deny' } });
      // cardauth's own login route, refused the same way, writes the same trail and the same record.
      expect((await srv.login(srv.client(), agent, UID2, 'petrova', PW)).json.error.code).toBe('presence_required');
      const ownTrail = (await auditRecords(srv.redis)).slice(from + trail.length);
      expect(ownTrail.map((e) => e.type)).toEqual(trail.map((e) => e.type));
      const { type, outcome, reason, subject, details } = ownTrail[2]!;
      expect(denied).toMatchObject({ type, outcome, reason, subject, details });
      expect(Object.keys(denied).sort()).toEqual(Object.keys(ownTrail[2]!).sort());
    });

    it("checked in today: the host's login passes, audited presence.allowed after the login's records", async () => {
      expect((await send(srv, await statement(srv, skud, [{ login: 'petrova', direction: 'entry', time: new Date(srv.clock.now()).toISOString() }]))).json).toMatchObject({ accepted: 1 });
      const from = (await auditRecords(srv.redis)).length;
      const r = await hostLogin(srv.client());
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ login: 'petrova' });
      const trail = (await auditRecords(srv.redis)).slice(from);
      expect(trail.map((e) => [e.type, e.outcome])).toEqual([
        ['card.presented', 'success'],
        ['password.checked', 'success'],
        ['presence.allowed', 'success'],
      ]);
      expect(trail[2]).toMatchObject({ subject: { accountId, login: 'petrova' }, details: { lastDirection: 'entry', skudId: skud.id, onSilent: 'deny' } });
      expect(trail[2]!.reason).toBeUndefined();
    });
  });
});

describe('createCardauth: options and close()', () => {
  const redis = suiteRedis();
  const redisUrl = () => `redis://127.0.0.1:${redis().options.port}`;
  const configFor = (url: string, env: Record<string, string> = {}) =>
    loadServerConfig({ REDIS_URL: url, CARDAUTH_PUBLIC_ORIGIN: 'http://127.0.0.1:1', CARDAUTH_SESSION_SECRET: TEST_SECRET, ...env });

  it('refuses a config not loaded by loadServerConfig, and a redis that is neither a client nor a URL', () => {
    expect(() => createCardauth({ config: { CARDAUTH_PUBLIC_ORIGIN: 'http://x' } as never })).toThrow(TypeError);
    expect(() => createCardauth({ config: configFor(redisUrl()), redis: 42 as never })).toThrow(TypeError);
  });

  it('close() disconnects the client it constructed from a URL, never the host\'s own', async () => {
    const own = createCardauth({ config: configFor(redisUrl()) });
    const shared = createCardauth({ config: configFor(redisUrl()), redis: redis() });
    await own.close();
    await own.close();
    await shared.close();
    expect(await redis().ping()).toBe('PONG');
  });

  it("a host app whose trust proxy differs from CARDAUTH_TRUST_PROXY gets 503, not a silently lost cookie", async () => {
    const logs: string[] = [];
    const logger = { ...silentLogger, error: (event: string) => void logs.push(event) };
    const cardauth = createCardauth({ config: configFor(redisUrl(), { CARDAUTH_TRUST_PROXY: 'loopback' }), logger });
    const app = express();
    app.use(cardauth.router);
    app.get('/patients', cardauth.requireLogin(), (_req, res) => res.send('x'));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/auth/session`)).status).toBe(503);
      expect((await fetch(`${base}/patients`)).status).toBe(503);
      expect(logs).toContain('trust_proxy_mismatch');
      app.set('trust proxy', 'loopback');
      expect((await fetch(`${base}/auth/session`)).status).toBe(401);
    } finally {
      server.close();
      await cardauth.close();
    }
  });
});

