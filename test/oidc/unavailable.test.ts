import { startOidcSetup, type OidcSetup } from '../helpers/oidc';

// Redis down under the OpenID provider: its endpoints fail closed with 503 (not the provider's
// 500 server_error), and work again by themselves once Redis is back. `cardauth serve` from dist/.

let setup: OidcSetup;
let secret: string;
const REDIRECT = 'https://mis.example.ru/oidc/callback';

beforeAll(async () => {
  setup = await startOidcSetup();
  secret = (await setup.clients.add({ id: 'web-mis', name: 'МИС', redirectUris: [REDIRECT], public: false }, Date.now())).secret!;
}, 60_000);
afterAll(() => setup?.close());

/** A token request with a made-up code: the provider must read the client and the code from Redis. */
const tokenRequest = () =>
  fetch(`${setup.issuer}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web-mis:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'no-such-code', redirect_uri: REDIRECT }),
  });
const authorizationRequest = () =>
  fetch(`${setup.issuer}/oidc/auth?${new URLSearchParams({ client_id: 'web-mis', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT })}`, { redirect: 'manual' });

it('the token and authorization endpoints answer 503 temporarily_unavailable while Redis is down, and work again once it is back', async () => {
  expect((await tokenRequest()).status).toBe(400); // invalid_grant: the provider read Redis and found no such code
  await setup.redis.kill();
  try {
    const token = await tokenRequest();
    expect(token.status).toBe(503);
    expect(token.headers.get('retry-after')).toBe('5');
    expect(await token.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    const auth = await authorizationRequest();
    expect(auth.status).toBe(503);
    expect(await auth.text()).not.toMatch(/\bat .+\(.+:\d+:\d+\)/); // no stack trace
  } finally {
    await setup.redis.start();
  }
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if ((await tokenRequest()).status === 400) break;
  }
  expect((await tokenRequest()).status).toBe(400);
  expect((await authorizationRequest()).status).toBe(303);
}, 60_000);
