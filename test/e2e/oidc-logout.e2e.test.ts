import type { Browser as Chromium, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { Browser, startOidcSetup, type OidcSetup } from '../helpers/oidc';

// RP-initiated logout in real Chromium: cardauth's logout page under its own CSP (no inline
// script), its external script signing out at once for an id_token_hint of this session, and the
// redirect to the MIS after the form's POST (CSP form-action is checked on that redirect too).
// The login itself is made through the API (test/oidc/logout.test.ts covers the rest); its
// cookies are handed to Chromium. Chromium has no network here: that it asks for the MIS's page
// (a CSP-blocked redirect would not) is the test; the page itself then fails to load.

const PASSWORD = 'Correct-Horse-Battery-42!';
const IVANOVA = { login: 'ivanova', password: PASSWORD, uid: '04A22BB25C6180' };
const WEB_REDIRECT = 'https://mis.example.ru/oidc/callback';
const WEB_LOGGED_OUT = 'https://mis.example.ru/logged-out';

let setup: OidcSetup;
let secret: string;
let chromium: Chromium;

beforeAll(async () => {
  setup = await startOidcSetup();
  const s = setup.services;
  const acc = await s.accounts.create({ login: 'ivanova', displayName: 'Иванова Анна Петровна', roles: ['clinician'], passwordHash: await s.hasher.hash(PASSWORD) });
  await s.cards.bind({ uid: IVANOVA.uid, accountId: acc.id, by: 'os:test' });
  secret = (await setup.clients.add({ id: 'web-mis', name: 'МИС поликлиники', redirectUris: [WEB_REDIRECT], postLogoutRedirectUris: [WEB_LOGGED_OUT], public: false }, Date.now())).secret!;
  chromium = await launchChromium();
}, 60_000);
afterAll(async () => {
  await chromium?.close();
  await setup?.close();
});

const webClient = () => ({ issuer: setup.issuer, clientId: 'web-mis', secret, redirectUri: WEB_REDIRECT });

/** The browser's navigation to `url` (the MIS), once it asks for it. */
const navigationTo = (page: Page, url: string) => page.waitForRequest((r) => r.url() === url && r.isNavigationRequest());

/** A login through web-mis, its cookies in a fresh Chromium context; and the CSP reports it shows. */
async function loggedInChromium(): Promise<{ api: Browser; context: BrowserContext; idToken: string; violations: string[] }> {
  const api = new Browser(setup.issuer);
  const tokens = await (await setup.signIn(api, webClient(), {}, IVANOVA)).finish();
  const context = await chromium.newContext();
  await context.addCookies([...api.cookies].map(([name, value]) => ({ name, value, url: setup.issuer })));
  const violations: string[] = [];
  context.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return { api, context, idToken: tokens.idToken, violations };
}

const sessionStatus = async (api: Browser) => (await api.fetch('/auth/session')).status;

it('with an id_token_hint of this session the page signs out by itself and the browser goes to the MIS', async () => {
  const { api, context, idToken, violations } = await loggedInChromium();
  try {
    const page = await context.newPage();
    const url = (await setup.rp.call({ op: 'logout', ...webClient(), params: { id_token_hint: idToken, post_logout_redirect_uri: WEB_LOGGED_OUT, state: 'st-7' } })).url as string;
    await Promise.all([navigationTo(page, `${WEB_LOGGED_OUT}?state=st-7`), page.goto(url)]);
    expect(violations).toEqual([]);
    expect(await sessionStatus(api)).toBe(401);
  } finally {
    await context.close();
  }
});

it('without a hint it asks in Russian; pressing «Выйти» signs out and the browser goes to the MIS', async () => {
  const { api, context, violations } = await loggedInChromium();
  try {
    const page = await context.newPage();
    await page.goto((await setup.rp.call({ op: 'logout', ...webClient(), params: { client_id: 'web-mis', post_logout_redirect_uri: WEB_LOGGED_OUT, state: 'st-8' } })).url as string);
    expect(await page.textContent('h1')).toBe('Выйти из системы?');
    // Nothing happens by itself.
    expect(page.url()).toMatch(/\/oidc\/session\/end\?/);
    await Promise.all([navigationTo(page, `${WEB_LOGGED_OUT}?state=st-8`), page.click('#logout-yes')]);
    expect(violations).toEqual([]);
    expect(await sessionStatus(api)).toBe(401);
  } finally {
    await context.close();
  }
});
