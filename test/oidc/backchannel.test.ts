import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Redis from 'ioredis';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { signStatement, signTapout } from '../../src/card-agent/sign-statement';
import { cliEnv, runCli } from '../cli/support';
import { auditRecords } from '../helpers/audit';
import { Browser, startOidcSetup, type OidcSetup } from '../helpers/oidc';
import { freePort } from '../helpers/redis';
import { startServeProcess } from '../helpers/serve';

// OpenID Connect Back-Channel Logout end to end: `cardauth serve` from dist/ (with a clock the
// test moves, for the idle lock and the lifetime), real Redis, the real openid-client as the
// RP, the real CLI, and a back-channel receiver here: a loopback HTTP server that records the
// POSTed logout tokens, each verified against the provider's published keys.

const PASSWORD = 'Correct-Horse-Battery-42!';
const IVANOVA = { login: 'ivanova', password: PASSWORD, uid: '04A22BB25C6180' };
const PETROV = { login: 'petrov', password: PASSWORD, uid: '04B3C4D5E6F701' };
const SIDOROVA = { login: 'sidorova', password: PASSWORD, uid: '04C1C1C1C1C101' };
const KOZLOV = { login: 'kozlov', password: PASSWORD, uid: '04D1D1D1D1D101' };
const REDIRECT = 'https://mis.example.ru/oidc/callback';
const IDLE_MS = 600_000;
const MAX_MS = 3_600_000;
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Received {
  path: string;
  contentType: string | undefined;
  token: string;
  claims: JWTPayload;
}

/** The back-channel endpoint of the test's MIS: records every POST; `failFirst` makes a path answer these statuses first. */
function startReceiver() {
  const received: Received[] = [];
  const statuses = new Map<string, number[]>();
  let arrived: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], token, claims: token ? decodeJwt(token) : {} });
      res.writeHead(statuses.get(req.url ?? '')?.shift() ?? 200).end();
      for (const f of arrived.splice(0)) f();
    });
  });
  return {
    received,
    failFirst: (path: string, codes: number[]) => statuses.set(path, codes),
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    /** The tokens posted to `path` for `sid`, once there are `count` of them. */
    async forSid(path: string, sid: string, count = 1): Promise<Received[]> {
      for (;;) {
        const got = received.filter((r) => r.path === path && r.claims.sid === sid);
        if (got.length >= count) return got;
        await new Promise<void>((resolve) => arrived.push(resolve));
      }
    },
    close: () => {
      arrived = [];
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let setup: OidcSetup;
let receiver: ReturnType<typeof startReceiver>;
let redis: Redis;
let cli: Record<string, string>;
const secrets = new Map<string, string>();
const accounts = new Map<string, string>();

beforeAll(async () => {
  setup = await startOidcSetup(
    { CARDAUTH_SESSION_IDLE_SEC: String(IDLE_MS / 1000), CARDAUTH_SESSION_MAX_SEC: String(MAX_MS / 1000), CARDAUTH_OIDC_LOGOUT_ATTEMPTS: '3', CARDAUTH_OIDC_LOGOUT_RETRY_MS: '100', CARDAUTH_IP_ATTEMPTS: '1000' },
    { movableClock: true },
  );
  redis = setup.redis.client();
  cli = cliEnv({ REDIS_URL: setup.redis.url });
  const s = setup.services;
  for (const who of [IVANOVA, PETROV, SIDOROVA, KOZLOV]) {
    const acc = await s.accounts.create({ login: who.login, displayName: who.login, roles: ['clinician'], passwordHash: await s.hasher.hash(PASSWORD) });
    await s.cards.bind({ uid: who.uid, accountId: acc.id, by: 'os:test' });
    accounts.set(who.login, acc.id);
  }
  receiver = startReceiver();
  const base = await receiver.listen();
  const add = async (id: string, backchannelLogoutUri?: string) =>
    secrets.set(id, (await setup.clients.add({ id, name: id, redirectUris: [REDIRECT], public: false, ...(backchannelLogoutUri ? { backchannelLogoutUri } : {}) }, Date.now())).secret!);
  await add('mis', `${base}/mis`);
  await add('flaky-mis', `${base}/flaky`);
  await add('down-mis', `http://127.0.0.1:${await freePort()}/bcl`);
  await add('plain-mis');
}, 60_000);
afterAll(async () => {
  await receiver?.close();
  await setup?.close();
});

const rpClient = (clientId: string) => ({ issuer: setup.issuer, clientId, secret: secrets.get(clientId), redirectUri: REDIRECT });

/** The cardauth session id of a browser (its signed cookie `s:<id>.<signature>`). */
const cardauthSid = (browser: Browser) => /^s:([^.]+)\./.exec(decodeURIComponent(browser.cookies.get('cardauth.sid') ?? ''))![1]!;
/** How the audit stores a session id. */
const hashOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex');

/** `browser` (logged in to cardauth) signs in to `clientId` without a form; answers the tokens, the ID token's sid and the cardauth session. */
async function mis(browser: Browser, clientId = 'mis') {
  const start = await setup.rp.call({ op: 'start', ...rpClient(clientId) });
  const trip = await browser.follow(start.url);
  if (!trip.callback) throw new Error(`no callback; a page answered ${trip.page?.status} at ${trip.pageUrl}`);
  const tokens = await setup.rp.call({ op: 'finish', ...rpClient(clientId), callbackUrl: trip.callback, verifier: start.verifier, state: start.state, nonce: start.nonce });
  if (tokens.error) throw new Error(`token: ${tokens.error}`);
  return { sid: String(tokens.claims.sid), accessToken: String(tokens.accessToken), session: cardauthSid(browser) };
}

/** A browser logged in to cardauth as `who` and signed in to `clientId`. */
async function signedIn(who: typeof IVANOVA, clientId = 'mis') {
  const browser = new Browser(setup.issuer);
  await setup.login(browser, who);
  return { browser, ...(await mis(browser, clientId)) };
}

/** Checks a logout token as an RP must (OpenID Connect Back-Channel Logout 1.0 §2.6) against the provider's JWKS. */
async function verifiedLogoutToken(r: Received, clientId: string): Promise<JWTPayload> {
  expect(r.contentType).toBe('application/x-www-form-urlencoded');
  const discovery = (await (await fetch(`${setup.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  const { payload, protectedHeader } = await jwtVerify(r.token, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: setup.issuer, audience: clientId, typ: 'logout+jwt' });
  expect(['RS256', 'ES256']).toContain(protectedHeader.alg);
  expect(payload.events).toEqual({ [EVENT]: {} });
  expect(payload).not.toHaveProperty('nonce');
  expect(typeof payload.jti).toBe('string');
  expect(typeof payload.iat).toBe('number');
  return payload;
}

/** Polls the audit until `pick` finds something. */
async function audited<T>(pick: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const found = await pick();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const recordsOf = async (type: string, session: string) => (await auditRecords(redis, type)).filter((r) => r.sessionIdHash === hashOf(session));
const deliveredFor = (session: string, clientId = 'mis') =>
  audited(async () => (await recordsOf('oidc.backchannel_delivered', session)).find((r) => r.details.clientId === clientId));

/** The logout token `clientId` got for this sign-in, verified, with its delivery record. */
async function loggedOut(m: { sid: string; session: string }, clientId = 'mis', path = '/mis') {
  const [r] = await receiver.forSid(path, m.sid);
  const claims = await verifiedLogoutToken(r!, clientId);
  return { claims, delivered: await deliveredFor(m.session, clientId) };
}

const userinfoStatus = async (accessToken: string) => (await fetch(`${setup.issuer}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

const tapout = async (uid: string, base = setup.issuer) => {
  const statement = await signTapout(setup.agentKey, { aud: setup.issuer, uid, reader: 'Virtual PCD 00 00', signal: 'tap' }, { now: () => Date.now() });
  return fetch(`${base}/agents/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statement }) });
};

describe('every end or lock of a cardauth session logs its clients out through the back channel', () => {
  it('discovery says so', async () => {
    const d = (await (await fetch(`${setup.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(d).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
  });

  it('logout: the MIS gets a signed logout token for its ID token\'s sid and subject; its access token stops working', async () => {
    const m = await signedIn(IVANOVA);
    expect(await userinfoStatus(m.accessToken)).toBe(200);
    expect((await m.browser.fetch('/auth/logout', { method: 'POST', body: {} })).status).toBe(204);
    const { claims, delivered } = await loggedOut(m);
    expect(claims).toMatchObject({ sub: accounts.get('ivanova'), sid: m.sid, aud: 'mis', iss: setup.issuer });
    expect(delivered).toMatchObject({ outcome: 'success', subject: { accountId: accounts.get('ivanova'), login: 'ivanova' }, details: { clientId: 'mis', cause: 'ended', attempts: 1 } });
    // The same session the logout record names.
    expect((await recordsOf('session.logout', m.session))).toHaveLength(1);
    expect(await userinfoStatus(m.accessToken)).toBe(401);
    expect(await redis.exists(`oidc:rp:${m.session}`)).toBe(0);
  });

  it('tap-out', async () => {
    const m = await signedIn(IVANOVA);
    const res = await tapout(IVANOVA.uid);
    expect(res.status).toBe(200);
    const { claims, delivered } = await loggedOut(m);
    expect(claims).toMatchObject({ sub: accounts.get('ivanova'), sid: m.sid });
    expect(delivered.details).toEqual({ clientId: 'mis', cause: 'tapout', attempts: 1 });
  });

  it('another clinician\'s card at the open session (switch)', async () => {
    const m = await signedIn(IVANOVA);
    const nonce = ((await (await m.browser.fetch('/auth/nonce', { method: 'POST', body: {} })).json()) as { nonce: string }).nonce;
    const statement = await signStatement(setup.agentKey, { aud: setup.issuer, nonce, uid: PETROV.uid, reader: 'Virtual PCD 00 00' }, { now: () => Date.now() });
    expect((await m.browser.fetch('/auth/card', { method: 'POST', body: { statement } })).status).toBe(200);
    const { delivered } = await loggedOut(m);
    expect(delivered.details).toEqual({ clientId: 'mis', cause: 'switch', attempts: 1 });
  });

  it('the idle lock, at the idle moment, with no request to cardauth; the guard later writes no second record', async () => {
    const m = await signedIn(PETROV);
    await setup.server.advance(IDLE_MS + 1000);
    try {
      const { claims, delivered } = await loggedOut(m);
      expect(claims).toMatchObject({ sub: accounts.get('petrov'), sid: m.sid });
      expect(delivered.details).toEqual({ clientId: 'mis', cause: 'idle', attempts: 1 });
      expect(await recordsOf('session.locked', m.session)).toEqual([expect.objectContaining({ reason: 'idle', subject: { accountId: accounts.get('petrov'), login: 'petrov' } })]);
    } finally {
      await setup.server.advance(-(IDLE_MS + 1000));
    }
    const res = await m.browser.fetch('/auth/session');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('session_locked');
    expect(await recordsOf('session.locked', m.session)).toHaveLength(1);
  });

  it('the absolute lifetime: the session ends (`session.ended` expired) and its clients are logged out', async () => {
    const m = await signedIn(PETROV);
    await setup.server.advance(MAX_MS + 1000);
    try {
      const { delivered } = await loggedOut(m);
      expect(delivered.details).toEqual({ clientId: 'mis', cause: 'expired', attempts: 1 });
      expect(await recordsOf('session.ended', m.session)).toEqual([expect.objectContaining({ reason: 'expired' })]);
    } finally {
      await setup.server.advance(-(MAX_MS + 1000));
    }
    expect((await m.browser.fetch('/auth/session')).status).toBe(401);
  });

  it('`account block`, through the real CLI in its own process', async () => {
    const m = await signedIn(SIDOROVA);
    const r = await runCli(['account', 'block', '--login', 'sidorova'], { env: cli });
    expect(r.code).toBe(0);
    const { claims, delivered } = await loggedOut(m);
    expect(claims).toMatchObject({ sub: accounts.get('sidorova'), sid: m.sid });
    expect(delivered.details).toEqual({ clientId: 'mis', cause: 'ended', attempts: 1 });
    expect(await recordsOf('session.ended', m.session)).toEqual([expect.objectContaining({ reason: 'admin', details: expect.objectContaining({ cause: 'account_blocked' }) })]);
  });

  it('`card revoke`, through the real CLI', async () => {
    const m = await signedIn(KOZLOV);
    expect((await runCli(['card', 'revoke', '--uid', KOZLOV.uid, '--reason', 'lost'], { env: cli })).code).toBe(0);
    const { claims } = await loggedOut(m);
    expect(claims).toMatchObject({ sub: accounts.get('kozlov'), sid: m.sid });
  });

  it('a client that was down (503) gets the same logout again after the backoff', async () => {
    receiver.failFirst('/flaky', [503]);
    const m = await signedIn(IVANOVA, 'flaky-mis');
    await m.browser.fetch('/auth/logout', { method: 'POST', body: {} });
    const [first, second] = await receiver.forSid('/flaky', m.sid, 2);
    for (const r of [first!, second!]) expect(await verifiedLogoutToken(r, 'flaky-mis')).toMatchObject({ sid: m.sid, sub: accounts.get('ivanova') });
    expect(await deliveredFor(m.session, 'flaky-mis')).toMatchObject({ details: { clientId: 'flaky-mis', cause: 'ended', attempts: 2 } });
  });

  it('a client down all the time: the logout is given up after the last attempt, audited', async () => {
    const m = await signedIn(IVANOVA, 'down-mis');
    await m.browser.fetch('/auth/logout', { method: 'POST', body: {} });
    const failed = await audited(async () => (await recordsOf('oidc.backchannel_failed', m.session))[0]);
    expect(failed).toMatchObject({ outcome: 'failure', reason: 'retries_exhausted', subject: { accountId: accounts.get('ivanova') }, details: { clientId: 'down-mis', cause: 'ended', attempts: 3, failure: 'ECONNREFUSED' } });
  });

  it('a client without a back-channel URI is not linked, and a session without clients is not watched', async () => {
    const m = await signedIn(IVANOVA, 'plain-mis');
    expect(await redis.exists(`oidc:rp:${m.session}`)).toBe(0);
    expect(await redis.zscore('oidc:watch', m.session)).toBeNull();
    expect((await m.browser.fetch('/auth/logout', { method: 'POST', body: {} })).status).toBe(204);
  });

  // The provider keeps the login time in seconds: an unlock in the same second as the login (likely
  // without a gap here) and one in a later second take different paths to the new sid.
  it.each([0, 1500])('after an unlock with card + password (%i ms after the login) the MIS gets its code through redirects alone, with a new sid that a later logout names', async (gapMs) => {
    const m = await signedIn(IVANOVA);
    expect((await tapout(IVANOVA.uid)).status).toBe(200);
    await loggedOut(m);
    await setup.server.advance(gapMs);
    try {
      await setup.login(m.browser, IVANOVA); // the unlock
    } finally {
      await setup.server.advance(-gapMs);
    }
    expect(cardauthSid(m.browser)).not.toBe(m.session);
    m.browser.pages.length = 0;
    const again = await mis(m.browser);
    expect(m.browser.pages).toEqual([]);
    expect(again.sid).not.toBe(m.sid);
    expect(await userinfoStatus(again.accessToken)).toBe(200);
    await m.browser.fetch('/auth/logout', { method: 'POST', body: {} });
    expect((await loggedOut(again)).claims.sid).toBe(again.sid);
  });

  it('a logout the provider sends itself (an application ending its session at /oidc/session/end) is audited too', async () => {
    const m = await signedIn(IVANOVA);
    const page = await m.browser.fetch('/oidc/session/end?client_id=mis');
    expect(page.status).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const cookie = [...m.browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const confirm = await fetch(`${setup.issuer}/oidc/session/end/confirm`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    expect(confirm.status).toBe(303);
    const [r] = await receiver.forSid('/mis', m.sid);
    expect(await verifiedLogoutToken(r!, 'mis')).toMatchObject({ sid: m.sid, sub: accounts.get('ivanova') });
    const record = await audited(async () => (await auditRecords(redis, 'oidc.backchannel_delivered')).find((x) => x.details.cause === 'provider_logout'));
    expect(record).toMatchObject({ subject: { accountId: accounts.get('ivanova') }, details: { clientId: 'mis', cause: 'provider_logout', attempts: 1 } });
  });

  it('two nodes on one Redis: each logout is delivered, once', async () => {
    const node2 = await startServeProcess({ ...setup.env, CARDAUTH_PORT: String(await freePort()) });
    try {
      const runs = [];
      for (const base of [setup.issuer, node2.url, node2.url, setup.issuer]) {
        const m = await signedIn(IVANOVA);
        await m.browser.fetch(`${base}/auth/logout`, { method: 'POST', body: {} });
        runs.push(m);
      }
      const m = await signedIn(IVANOVA);
      expect((await tapout(IVANOVA.uid, node2.url)).status).toBe(200);
      runs.push(m);
      for (const r of runs) await loggedOut(r);
      // Both nodes poll every 200 ms: give them a few more looks before counting.
      await new Promise((r) => setTimeout(r, 1000));
      for (const r of runs) {
        expect(receiver.received.filter((x) => x.claims.sid === r.sid)).toHaveLength(1);
        expect(await recordsOf('oidc.backchannel_delivered', r.session)).toHaveLength(1);
      }
    } finally {
      await node2.stop();
    }
  });

  // Last: it revokes the agent every login of this file comes through.
  it('`agent revoke`, through the real CLI', async () => {
    const m = await signedIn(PETROV);
    expect((await runCli(['agent', 'revoke', setup.agentId], { env: cli })).code).toBe(0);
    const { claims, delivered } = await loggedOut(m);
    expect(claims).toMatchObject({ sub: accounts.get('petrov'), sid: m.sid });
    expect(delivered.details).toEqual({ clientId: 'mis', cause: 'ended', attempts: 1 });
  });
});
