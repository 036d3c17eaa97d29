import { Browser, startOidcSetup, type OidcSetup } from '../helpers/oidc';

// The OpenID provider inside a host app: examples/express-mis (createCardauth's router mounted in
// the MIS's own Express app, from dist/) with CARDAUTH_OIDC_JWKS_FILE set, real Redis, and the
// real openid-client 6 as a relying party (another MIS) in its own process.

const PASSWORD = 'Correct-Horse-Battery-42!';
const IVANOVA = { login: 'ivanova', password: PASSWORD, uid: '04A22BB25C6180' };
const WEB_REDIRECT = 'https://other-mis.example.ru/oidc/callback';

let setup: OidcSetup;
let accountId: string;
let secret: string;

beforeAll(async () => {
  setup = await startOidcSetup({}, { host: 'embedded' });
  const s = setup.services;
  const acc = await s.accounts.create({ login: 'ivanova', displayName: 'Иванова Анна Петровна', roles: ['clinician'], passwordHash: await s.hasher.hash(PASSWORD) });
  await s.cards.bind({ uid: IVANOVA.uid, accountId: acc.id, by: 'os:test' });
  accountId = acc.id;
  secret = (await setup.clients.add({ id: 'web-mis', name: 'МИС', redirectUris: [WEB_REDIRECT], postLogoutRedirectUris: ['https://other-mis.example.ru/'], public: false }, Date.now())).secret!;
}, 60_000);
afterAll(() => setup?.close());

const webClient = () => ({ issuer: setup.issuer, clientId: 'web-mis', secret, redirectUri: WEB_REDIRECT });

it('the host app serves the discovery document and the keys at the issuer', async () => {
  const d = (await (await fetch(`${setup.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  expect(d).toMatchObject({ issuer: setup.issuer, authorization_endpoint: `${setup.issuer}/oidc/auth`, token_endpoint: `${setup.issuer}/oidc/token`, end_session_endpoint: `${setup.issuer}/oidc/session/end` });
  const jwks = (await (await fetch(`${setup.issuer}/oidc/jwks`)).json()) as { keys: Array<{ alg: string }> };
  expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
});

it('completes a code flow through cardauth\'s login page in the host app, and the host\'s own pages see the same login', async () => {
  const browser = new Browser(setup.issuer);
  const { finish } = await setup.signIn(browser, webClient(), {}, IVANOVA);
  expect(browser.pages).toEqual([expect.stringMatching(/^\/login\?next=%2Foidc%2Finteraction%2F/)]);
  const tokens = await finish();
  expect(tokens.error).toBeUndefined();
  expect(tokens.claims).toMatchObject({ iss: setup.issuer, aud: 'web-mis', sub: accountId, preferred_username: 'ivanova', amr: ['sc', 'pwd', 'mfa'] });
  expect(tokens.userinfo).toMatchObject({ sub: accountId, name: 'Иванова Анна Петровна' });
  // The host MIS's own route behind requireLogin.
  const patients = await browser.fetch('/patients');
  expect(patients.status).toBe(200);
  expect(await patients.text()).toContain('Иванова Анна Петровна (ivanova)');
});

it('an RP-initiated logout ends the host\'s cardauth session too', async () => {
  const browser = new Browser(setup.issuer);
  await (await setup.signIn(browser, webClient(), {}, IVANOVA)).finish();
  const url = (await setup.rp.call({ op: 'logout', ...webClient(), params: {} })).url as string;
  const html = await (await browser.fetch(url)).text();
  const form = /action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/.exec(html)!;
  expect((await browser.submit(form[1]!, { xsrf: form[2]!, logout: 'yes' })).status).toBe(303);
  expect((await browser.fetch('/patients')).status).not.toBe(200);
});
