import { signStatement } from '../../src/card-agent/sign-statement';
import { Browser, startOidcSetup, type OidcSetup } from '../helpers/oidc';

// An OpenID login goes through cardauth's own login page and login API, so it has the per-role
// session limit too (issue 10 §4): `cardauth serve` from dist/ with the provider on, one session
// per clinician.

const IVANOVA = { login: 'ivanova', password: 'Correct-Horse-Battery-42!', uid: '04A22BB25C6180' };

let setup: OidcSetup;
beforeAll(async () => {
  setup = await startOidcSetup({ CARDAUTH_SESSION_LIMITS: 'clinician=1' });
  const s = setup.services;
  const acc = await s.accounts.create({ login: IVANOVA.login, displayName: 'Иванова Анна Петровна', roles: ['clinician'], passwordHash: await s.hasher.hash(IVANOVA.password) });
  await s.cards.bind({ uid: IVANOVA.uid, accountId: acc.id, by: 'os:test' });
  await setup.clients.add({ id: 'desktop-mis', name: 'МИС (рабочее место)', redirectUris: ['http://127.0.0.1/callback'], public: true }, Date.now());
}, 60_000);
afterAll(() => setup?.close());

it("the interaction's login page is the login page with the session-limit panel; a 409 there, resent with the handle, ends the other session and the code is issued", async () => {
  const elsewhere = new Browser(setup.issuer);
  await setup.login(elsewhere, IVANOVA);

  const browser = new Browser(setup.issuer);
  const rpClient = { issuer: setup.issuer, clientId: 'desktop-mis', redirectUri: 'http://127.0.0.1:53117/callback' };
  const start = await setup.rp.call({ op: 'start', ...rpClient, params: {} });
  let refused: any;
  const trip = await browser.follow(start.url, async () => {
    const page = await (await browser.fetch(browser.pages.at(-1)!)).text();
    expect(page).toContain('id="step-limit"'); // the same page, the same script, as /login
    expect(page).toContain('/assets/login.js');
    const nonce = ((await (await browser.fetch('/auth/nonce', { method: 'POST', body: {} })).json()) as { nonce: string }).nonce;
    const statement = await signStatement(setup.agentKey, { aud: setup.issuer, nonce, uid: IVANOVA.uid, reader: 'Virtual PCD 00 00' }, { now: () => Date.now() });
    expect((await browser.fetch('/auth/card', { method: 'POST', body: { statement } })).status).toBe(200);
    const pw = await browser.fetch('/auth/password', { method: 'POST', body: { login: IVANOVA.login, password: IVANOVA.password } });
    expect(pw.status).toBe(409);
    refused = await pw.json();
    const again = await browser.fetch('/auth/password', { method: 'POST', body: { login: IVANOVA.login, password: IVANOVA.password, endSessions: refused.error.sessions.map((s: { handle: string }) => s.handle) } });
    expect(again.status).toBe(200);
  });
  expect(refused.error).toMatchObject({ code: 'session_limit', limit: 1, sessions: [{ workstation: 'РМ-101', locked: false }] });
  expect(trip.callback?.startsWith('http://127.0.0.1:53117/callback?code=')).toBe(true);
  const tokens = await setup.rp.call({ op: 'finish', ...rpClient, callbackUrl: trip.callback, verifier: start.verifier, state: start.state, nonce: start.nonce });
  expect(tokens.error).toBeUndefined();
  expect((await elsewhere.fetch('/auth/session')).status).toBe(401);
});
