import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { Browser, startOidcSetup, type OidcSetup } from '../helpers/oidc';
import { registerOidcMis, startOidcMis, type OidcMis } from '../helpers/oidc-mis';
import { freePort } from '../helpers/redis';

// examples/oidc-mis run as its README says (node), against `cardauth serve` with the OpenID provider
// on: its patients page behind cardauth's login (code flow, PKCE, openid-client 6), and its
// back-channel logout endpoint taking logout tokens signed here with cardauth's own key, as
// oidc-provider's would be (OpenID Connect Back-Channel Logout 1.0), and refusing every other.

const PASSWORD = 'Пароль-для-МИС-2026!';
const CLINICIAN = { login: 'sidorova', password: PASSWORD, uid: '04000000000E52' };
const CLIENT_ID = 'oidc-mis';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let setup: OidcSetup;
let mis: OidcMis;
let accountId: string;
let signingKey: JWK;

beforeAll(async () => {
  setup = await startOidcSetup();
  const s = setup.services;
  const acc = await s.accounts.create({ login: CLINICIAN.login, displayName: 'Сидорова Елена Павловна', roles: ['clinician'], passwordHash: await s.hasher.hash(PASSWORD) });
  await s.cards.bind({ uid: CLINICIAN.uid, accountId: acc.id, by: 'os:test' });
  accountId = acc.id;
  const port = await freePort();
  const secret = await registerOidcMis(setup.clients, CLIENT_ID, `http://127.0.0.1:${port}`);
  mis = await startOidcMis({ MIS_CARDAUTH_ORIGIN: setup.issuer, MIS_CLIENT_ID: CLIENT_ID, MIS_CLIENT_SECRET: secret, MIS_PORT: String(port) });
  signingKey = (JSON.parse(readFileSync(setup.env.CARDAUTH_OIDC_JWKS_FILE!, 'utf8')) as { keys: JWK[] }).keys.find((k) => k.alg === 'RS256')!;
}, 60_000);
afterAll(async () => {
  await mis?.stop();
  await setup?.close();
});

/** The MIS session cookie a response set, if any (with its attributes). */
const misCookie = (res: Response) => res.headers.getSetCookie().find((c) => c.startsWith('mis.sid='));

/** Opens the MIS's patients page in `browser`, through cardauth's login (card + password) or silently; answers the MIS login's sid. */
async function logIn(browser: Browser, login = true): Promise<string> {
  const start = await browser.fetch(`${mis.url}/patients`);
  expect(start.status).toBe(303);
  const trip = await browser.follow(start.headers.get('location')!, login ? () => setup.login(browser, CLINICIAN) : undefined);
  expect(trip.callback).toMatch(new RegExp(`^${mis.url}/callback\\?code=`));
  const before = mis.eventsOf('login').length;
  const back = await browser.fetch(trip.callback!);
  expect(back.status).toBe(303);
  expect(back.headers.get('location')).toBe('/patients');
  // The MIS logs each login with its sid (its output may come a moment after its answer).
  return String((await mis.waitForEvent('login', (_e, i) => i === before)).sid);
}

const active = async (browser: Browser) => ((await (await browser.fetch(`${mis.url}/session`)).json()) as { active: boolean }).active;

/** A logout token as oidc-provider makes one (client.backchannelLogout), with `change` applied. */
async function logoutToken(claims: { sid?: string; sub?: string }, change: { payload?: Record<string, unknown>; header?: Record<string, unknown>; key?: JWK } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = { iss: setup.issuer, aud: CLIENT_ID, iat: now, exp: now + 120, jti: `jti-${Math.random()}`, events: { [EVENT]: {} }, ...claims, ...change.payload };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  const jwk = change.key ?? signingKey;
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: signingKey.kid!, typ: 'logout+jwt', ...change.header }).sign(await importJWK(jwk, String(change.header?.alg ?? 'RS256')));
}

const postLogout = (token: string | undefined) =>
  fetch(`${mis.url}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: token === undefined ? '' : new URLSearchParams({ logout_token: token }) });

describe('examples/oidc-mis', () => {
  it('refuses to start without its configuration, naming each bad key, exit 2', () => {
    const r = spawnSync(process.execPath, [join(__dirname, '..', '..', 'examples', 'oidc-mis', 'server.mjs')], {
      env: { PATH: process.env.PATH ?? '', MIS_CARDAUTH_ORIGIN: 'http://192.0.2.1:8080', MIS_PORT: 'x' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      [
        'oidc-mis: bad configuration (see examples/oidc-mis/README.md):',
        '  MIS_CARDAUTH_ORIGIN: must be an origin such as https://auth.clinic.example (http only on 127.0.0.1, [::1] or localhost), without a path',
        '  MIS_CLIENT_ID: required',
        '  MIS_PORT: a port number, 1 to 65535',
        '',
      ].join('\n'),
    );
  });

  it('sends a browser without a session to cardauth (code flow, PKCE S256, state, nonce) with its own httpOnly, SameSite=Lax cookie', async () => {
    const res = await fetch(`${mis.url}/patients`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin + to.pathname).toBe(`${setup.issuer}/oidc/auth`);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: `${mis.url}/callback`,
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      state: expect.stringMatching(/^[\w-]{43}$/),
      nonce: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect(misCookie(res)).toMatch(/^mis\.sid=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('after card + password at cardauth, shows the clinician by the ID token\'s name, under a new session id', async () => {
    const browser = new Browser(setup.issuer);
    const start = await browser.fetch(`${mis.url}/patients`);
    const pendingId = browser.cookies.get('mis.sid');
    const trip = await browser.follow(start.headers.get('location')!, () => setup.login(browser, CLINICIAN));
    // cardauth's own login page was shown.
    expect(browser.pages).toEqual([expect.stringMatching(/^\/login\?next=%2Foidc%2Finteraction%2F/)]);
    await browser.fetch(trip.callback!);
    expect(browser.cookies.get('mis.sid')).not.toBe(pendingId);
    const page = await browser.fetch(`${mis.url}/patients`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('<strong id="clinician-name">Сидорова Елена Павловна</strong> (sidorova)');
    expect(html).toContain('Смирнов Алексей Викторович');
    expect(html).toContain('<button id="logout" type="submit">Выйти</button>');
    expect(await active(browser)).toBe(true);
    expect(await mis.waitForEvent('login')).toMatchObject({ sub: accountId, sid: expect.any(String) });
  });

  it('a callback that does not match the login under way shows "login failed" and keeps no session', async () => {
    const browser = new Browser(setup.issuer);
    const start = await browser.fetch(`${mis.url}/patients`);
    const trip = await browser.follow(start.headers.get('location')!, () => setup.login(browser, CLINICIAN));
    const forged = new URL(trip.callback!);
    forged.searchParams.set('state', 'x'.repeat(43));
    const res = await browser.fetch(forged.href);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Вход не выполнен');
    expect(await active(browser)).toBe(false);
  });

  it('a back-channel logout drops every MIS session of that cardauth login at once, and no other', async () => {
    const first = new Browser(setup.issuer);
    const sid = await logIn(first);
    // The same cardauth login in a second MIS session (another tab's cookie jar): silent, the same sid.
    const second = new Browser(setup.issuer);
    for (const [k, v] of first.cookies) if (k !== 'mis.sid') second.cookies.set(k, v);
    expect(await logIn(second, false)).toBe(sid);
    // Another cardauth login of the same clinician.
    const other = new Browser(setup.issuer);
    const otherSid = await logIn(other);
    expect(otherSid).not.toBe(sid);

    const res = await postLogout(await logoutToken({ sid, sub: accountId }));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await active(first)).toBe(false);
    expect(await active(second)).toBe(false);
    expect(await active(other)).toBe(true);
    expect(await mis.waitForEvent('backchannel_logout', (e) => e.sid === sid)).toMatchObject({ dropped: 2 });
    // Its patients page now sends it to log in again.
    expect((await first.fetch(`${mis.url}/patients`)).status).toBe(303);
  });

  it('a logout token with sub and no sid drops every session of that user', async () => {
    const a = new Browser(setup.issuer);
    const b = new Browser(setup.issuer);
    await logIn(a);
    await logIn(b);
    expect((await postLogout(await logoutToken({ sub: accountId }))).status).toBe(200);
    expect(await active(a)).toBe(false);
    expect(await active(b)).toBe(false);
  });

  it('refuses (400) every logout token that is not a valid one, and keeps the session', async () => {
    const browser = new Browser(setup.issuer);
    const sid = await logIn(browser);
    const claims = { sid, sub: accountId };
    const now = Math.floor(Date.now() / 1000);
    const hs = new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256');
    const stranger = { ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), alg: 'RS256' };
    const bad: [string, string | undefined][] = [
      ['no token', undefined],
      ['not a JWT', 'not-a-jwt'],
      ['another audience', await logoutToken(claims, { payload: { aud: 'another-mis' } })],
      ['another issuer', await logoutToken(claims, { payload: { iss: 'http://127.0.0.1:1' } })],
      ['a nonce', await logoutToken(claims, { payload: { nonce: 'n' } })],
      ['no events', await logoutToken(claims, { payload: { events: undefined } })],
      ['another event', await logoutToken(claims, { payload: { events: { 'http://schemas.openid.net/event/other': {} } } })],
      ['neither sid nor sub', await logoutToken({})],
      ['an old iat', await logoutToken(claims, { payload: { iat: now - 600, exp: now + 60 } })],
      ['expired', await logoutToken(claims, { payload: { iat: now - 100, exp: now - 30 } })],
      ['no jti', await logoutToken(claims, { payload: { jti: undefined } })],
      ['typ JWT (an ID token, say)', await logoutToken(claims, { header: { typ: 'JWT' } })],
      ['a key cardauth does not publish', await logoutToken(claims, { key: stranger })],
      ['HS256', await new SignJWT({ iss: setup.issuer, aud: CLIENT_ID, iat: now, jti: 'h', events: { [EVENT]: {} }, ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' }).sign(hs)],
      ['alg none', `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'logout+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: setup.issuer, aud: CLIENT_ID, iat: now, jti: 'n', events: { [EVENT]: {} }, ...claims })).toString('base64url')}.`],
    ];
    for (const [why, token] of bad) {
      const res = await postLogout(token);
      expect([why, res.status, await res.json()]).toEqual([why, 400, { error: 'invalid_request', error_description: 'invalid logout token' }]);
    }
    expect(await active(browser)).toBe(true);
    // Taken once: the same valid token a second time is refused.
    const good = await logoutToken({ sub: 'acc_nobody' });
    expect((await postLogout(good)).status).toBe(200);
    expect((await postLogout(good)).status).toBe(400);
    expect(await active(browser)).toBe(true);
  });

  it('"Выйти" ends the MIS session and goes to cardauth\'s end_session with id_token_hint and the registered post-logout URI', async () => {
    const browser = new Browser(setup.issuer);
    await logIn(browser);
    const res = await browser.fetch(`${mis.url}/logout`, { method: 'POST', body: {} });
    expect(res.status).toBe(303);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin + to.pathname).toBe(`${setup.issuer}/oidc/session/end`);
    expect(to.searchParams.get('post_logout_redirect_uri')).toBe(`${mis.url}/logged-out`);
    expect(to.searchParams.get('id_token_hint')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await active(browser)).toBe(false);
    // cardauth takes the request (an unregistered URI or a bad hint would be a 400 error page).
    const end = await browser.fetch(to.href);
    expect(end.status).toBeLessThan(400);
    // Where it comes back to.
    const back = await browser.fetch(`${mis.url}/logged-out?state=ru`);
    expect(await back.text()).toContain('Вы вышли из системы. Приложите карту, чтобы войти снова.');
  });
});
