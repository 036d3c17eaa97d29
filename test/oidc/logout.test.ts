import type Redis from 'ioredis';
import { lastAudit, withAuditUnusable } from '../helpers/audit';
import { Browser, startOidcSetup, type OidcSetup } from '../helpers/oidc';

// RP-initiated logout end to end: `cardauth serve` from dist/, real Redis, the real openid-client 6
// as the relying party (its end-session URL), and the fetch-driven browser posting the page's form.

const PASSWORD = 'Correct-Horse-Battery-42!';
const IVANOVA = { login: 'ivanova', password: PASSWORD, uid: '04A22BB25C6180' };
const WEB_REDIRECT = 'https://mis.example.ru/oidc/callback';
const WEB_LOGGED_OUT = 'https://mis.example.ru/logged-out';

let setup: OidcSetup;
let accountId: string;
let webSecret: string;
let redis: Redis;

beforeAll(async () => {
  setup = await startOidcSetup();
  redis = setup.redis.client();
  const s = setup.services;
  const acc = await s.accounts.create({ login: 'ivanova', displayName: 'Иванова Анна Петровна', roles: ['clinician'], passwordHash: await s.hasher.hash(PASSWORD) });
  await s.cards.bind({ uid: IVANOVA.uid, accountId: acc.id, by: 'os:test' });
  accountId = acc.id;
  webSecret = (await setup.clients.add({ id: 'web-mis', name: 'МИС поликлиники', redirectUris: [WEB_REDIRECT], postLogoutRedirectUris: [WEB_LOGGED_OUT], public: false }, Date.now())).secret!;
  await setup.clients.add({ id: 'desktop-mis', name: 'МИС (рабочее место)', redirectUris: ['http://127.0.0.1/callback'], public: true }, Date.now());
}, 60_000);
afterAll(() => setup?.close());

const webClient = () => ({ issuer: setup.issuer, clientId: 'web-mis', secret: webSecret, redirectUri: WEB_REDIRECT });
const desktopClient = () => ({ issuer: setup.issuer, clientId: 'desktop-mis', redirectUri: 'http://127.0.0.1:53117/callback' });

/** A browser logged in to cardauth and, through web-mis, to the provider; answers web-mis's ID token. */
async function loggedIn(): Promise<{ browser: Browser; idToken: string }> {
  const browser = new Browser(setup.issuer);
  const tokens = await (await setup.signIn(browser, webClient(), {}, IVANOVA)).finish();
  expect(tokens.error).toBeUndefined();
  return { browser, idToken: tokens.idToken };
}

/** The end-session URL the RP sends the browser to. */
const logoutUrl = async (params: Record<string, string>) => (await setup.rp.call({ op: 'logout', ...webClient(), params })).url as string;

/** The logout page's form: where it posts, its xsrf value, whether it signs out by itself, and the page text. */
async function logoutPage(res: Response) {
  expect(res.status).toBe(200);
  const html = await res.text();
  const form = /<form id="op\.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"\/><\/form>/.exec(html);
  if (!form) throw new Error(`no logout form in ${html}`);
  return { action: form[1]!.replace(/&amp;/g, '&'), xsrf: form[2]!, auto: /data-auto="yes"/.test(html), html, csp: res.headers.get('content-security-policy') ?? '' };
}

const sessionStatus = async (browser: Browser) => (await browser.fetch('/auth/session')).status;

/** Whether the next authorization of another application asks for card + password (true) or goes through silently. */
async function nextLoginAsks(browser: Browser): Promise<boolean> {
  browser.pages.length = 0;
  const trip = await setup.signIn(browser, desktopClient(), {}, IVANOVA);
  expect(trip.callback).toMatch(/^http:\/\/127\.0\.0\.1:53117\/callback\?code=/);
  return browser.pages.some((p) => p.startsWith('/login'));
}

describe('RP-initiated logout', () => {
  it('asks in Russian, for whom and from which application; "Выйти" ends cardauth\'s session too, audited, and goes back to the registered URI', async () => {
    const { browser } = await loggedIn();
    const page = await logoutPage(await browser.fetch(await logoutUrl({ post_logout_redirect_uri: WEB_LOGGED_OUT, state: 'st-1' })));
    expect(page.auto).toBe(false);
    expect(page.html).toContain('<html lang="ru">');
    expect(page.html).toContain('Выйти из системы?');
    expect(page.html).toContain('Приложение «МИС поликлиники» просит завершить ваш вход.');
    expect(page.html).toContain('Иванова Анна Петровна (ivanova)');
    expect(page.html).toContain('понадобятся карта и пароль');
    // cardauth's page CSP, with the registered URI's origin as a form target (the redirect after the POST).
    expect(page.csp).toContain("script-src 'self'");
    expect(page.csp).toContain("form-action 'self' https://mis.example.ru");
    expect(page.csp).not.toContain('unsafe-inline');

    const done = await browser.submit(page.action, { xsrf: page.xsrf, logout: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`${WEB_LOGGED_OUT}?state=st-1`);
    expect(await sessionStatus(browser)).toBe(401);
    expect(await lastAudit(redis, 'session.logout')).toMatchObject({ outcome: 'success', subject: { accountId, login: 'ivanova' }, details: { via: 'oidc', clientId: 'web-mis' } });
    // Every application now asks for card + password again.
    expect(await nextLoginAsks(browser)).toBe(true);
  });

  it('ends the tokens given in the login, refresh tokens (offline_access) too', async () => {
    const browser = new Browser(setup.issuer);
    const tokens = await (await setup.signIn(browser, webClient(), { scope: 'openid profile offline_access', prompt: 'consent' }, IVANOVA)).finish();
    expect(typeof tokens.refreshToken).toBe('string');
    const page = await logoutPage(await browser.fetch(await logoutUrl({})));
    expect((await browser.submit(page.action, { xsrf: page.xsrf, logout: 'yes' })).status).toBe(303);
    expect(await setup.rp.call({ op: 'refresh', ...webClient(), refreshToken: tokens.refreshToken })).toMatchObject({ error: 'invalid_grant' });
    expect(await setup.rp.call({ op: 'userinfo', ...webClient(), accessToken: tokens.accessToken, sub: accountId })).toMatchObject({ error: 'invalid_token' });
  });

  it('"Не выходить" ends only the application\'s sign-in: cardauth\'s session stays, and the page says so', async () => {
    const { browser } = await loggedIn();
    const page = await logoutPage(await browser.fetch(await logoutUrl({})));
    const done = await browser.submit(page.action, { xsrf: page.xsrf });
    expect(done.status).toBe(303);
    const success = await browser.follow(done.headers.get('location')!);
    expect(success.pageUrl).toMatch(/\/oidc\/session\/end\/success\?client_id=web-mis$/);
    const html = await success.page!.text();
    expect(html).toContain('Вход в приложение завершён');
    expect(html).toContain('Приложение «МИС поликлиники» завершило вход');
    expect(await sessionStatus(browser)).toBe(200);
    expect(await nextLoginAsks(browser)).toBe(false);
  });

  it('without a post_logout_redirect_uri the "signed out" page is cardauth\'s, in Russian or English', async () => {
    const { browser } = await loggedIn();
    // In English on request; the language link keeps the request's own parameters.
    const asked = await logoutPage(await browser.fetch(`${await logoutUrl({ client_id: 'web-mis' })}&lang=en`));
    expect(asked.html).toContain('Sign out?');
    expect(asked.html).toContain('The application “МИС поликлиники” asks to end your sign-in.');
    expect(asked.html).toMatch(/<a class="lang" href="\/oidc\/session\/end\?client_id=web-mis&amp;lang=ru"/);
    const page = await logoutPage(await browser.fetch(await logoutUrl({ client_id: 'web-mis', lang: 'ru' })));
    const done = await browser.submit(page.action, { xsrf: page.xsrf, logout: 'yes' });
    const success = await browser.follow(done.headers.get('location')!);
    expect(success.page!.status).toBe(200);
    expect(success.page!.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await success.page!.text();
    expect(html).toContain('Вы вышли из системы');
    expect(html).toContain('<link rel="stylesheet" href="/assets/app.css">');
    const en = await (await browser.fetch('/oidc/session/end/success?lang=en')).text();
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('You are signed out');
  });

  it('an id_token_hint of this very session signs out without asking; one of an earlier session asks', async () => {
    const first = await loggedIn();
    const page = await logoutPage(await first.browser.fetch(await logoutUrl({ id_token_hint: first.idToken, post_logout_redirect_uri: WEB_LOGGED_OUT })));
    expect(page.auto).toBe(true);
    expect(page.html).toContain('<script src="/assets/logout.js" defer></script>');
    // The script clicks "Выйти"; a browser without scripts shows the same question.
    const done = await first.browser.submit(page.action, { xsrf: page.xsrf, logout: 'yes' });
    expect(done.headers.get('location')).toBe(WEB_LOGGED_OUT);
    expect(await sessionStatus(first.browser)).toBe(401);

    // Only a GET starts a logout (a cross-site GET is bounced so the page sees the cardauth session):
    // a form POSTed from another site, which would carry no cardauth cookie, is not taken.
    expect((await first.browser.submit('/oidc/session/end', { id_token_hint: first.idToken })).status).toBe(404);

    // A new login in the same browser: the old ID token is not of this session.
    const again = await setup.signIn(first.browser, webClient(), {}, IVANOVA);
    expect((await again.finish()).error).toBeUndefined();
    const stale = await logoutPage(await first.browser.fetch(await logoutUrl({ id_token_hint: first.idToken })));
    expect(stale.auto).toBe(false);
  });

  it('a logout request from another site is sent again from cardauth\'s origin first, so the page sees the cardauth session', async () => {
    const { browser } = await loggedIn();
    const url = await logoutUrl({});
    const res = await browser.fetch(url, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(res.status).toBe(200);
    const target = new URL(url);
    expect(await res.text()).toContain(`<meta http-equiv="refresh" content="0;url=${(target.pathname + target.search).replace(/&/g, '&amp;')}">`);
  });

  it('with a cardauth session but no provider session, it asks too, and "Выйти" ends the cardauth session', async () => {
    const browser = new Browser(setup.issuer);
    await setup.login(browser, IVANOVA);
    const page = await logoutPage(await browser.fetch('/oidc/session/end'));
    expect(page.auto).toBe(false);
    expect(page.html).toContain('Иванова Анна Петровна (ivanova)');
    const done = await browser.submit(page.action, { xsrf: page.xsrf, logout: 'yes' });
    expect(done.status).toBe(303);
    expect(await sessionStatus(browser)).toBe(401);
  });

  it('a logout that cannot be recorded answers 503 and leaves the cardauth session as it was', async () => {
    const { browser } = await loggedIn();
    const page = await logoutPage(await browser.fetch(await logoutUrl({ post_logout_redirect_uri: WEB_LOGGED_OUT })));
    const done = await withAuditUnusable(redis, () => browser.submit(page.action, { xsrf: page.xsrf, logout: 'yes' }));
    expect(done.status).toBe(503);
    expect(done.headers.get('location')).toBeNull();
    expect(await done.text()).toMatch(/Сервис временно недоступен/);
    expect(await sessionStatus(browser)).toBe(200);
  });

  it('never redirects to an unregistered post_logout_redirect_uri', async () => {
    const { browser, idToken } = await loggedIn();
    // Named with the client (its ID token): refused with an error page.
    const refused = await browser.fetch(await logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example.com/' }));
    expect(refused.status).toBe(400);
    expect(refused.headers.get('location')).toBeNull();
    expect(await refused.text()).toMatch(/post_logout_redirect_uri/);
    // Without a client to check it against: ignored, the user ends on cardauth's own page.
    const res = await browser.fetch(`/oidc/session/end?post_logout_redirect_uri=${encodeURIComponent('https://evil.example.com/')}`);
    const page = await logoutPage(res);
    expect(page.csp).not.toContain('evil.example.com');
    const done = await browser.submit(page.action, { xsrf: page.xsrf, logout: 'yes' });
    expect(new URL(done.headers.get('location')!, setup.issuer).href).toBe(`${setup.issuer}/oidc/session/end/success`);
    expect(await sessionStatus(browser)).toBe(401);
  });
});
