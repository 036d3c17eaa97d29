import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { addSigningKeys, readSigningJwks, useSigningKeys } from '../../src/oidc/keys';
import { Browser, startOidcSetup, type OidcSetup } from '../helpers/oidc';
import { freePort } from '../helpers/redis';
import { startServeProcess } from '../helpers/serve';

// The OpenID provider end to end: `cardauth serve` from dist/ (oidc-provider is an ES module
// Jest cannot load), real Redis, the real openid-client 6 as the relying party in its own
// process, and a fetch-driven browser that logs in through cardauth's own card + password API.

const PASSWORD = 'Correct-Horse-Battery-42!';
const IVANOVA = { login: 'ivanova', password: PASSWORD, uid: '04A22BB25C6180' };
const PUBLIC_REDIRECT = 'http://127.0.0.1/callback';
const WEB_REDIRECT = 'https://mis.example.ru/oidc/callback';

let setup: OidcSetup;
let accountId: string;
let webSecret: string;
let otherSecret: string;

beforeAll(async () => {
  setup = await startOidcSetup();
  const s = setup.services;
  const acc = await s.accounts.create({ login: 'ivanova', displayName: 'Иванова Анна Петровна', roles: ['clinician'], passwordHash: await s.hasher.hash(PASSWORD) });
  await s.cards.bind({ uid: IVANOVA.uid, accountId: acc.id, by: 'os:test' });
  accountId = acc.id;
  await setup.clients.add({ id: 'desktop-mis', name: 'МИС (рабочее место)', redirectUris: [PUBLIC_REDIRECT], public: true }, Date.now());
  webSecret = (await setup.clients.add({ id: 'web-mis', name: 'МИС', redirectUris: [WEB_REDIRECT], public: false }, Date.now())).secret!;
  otherSecret = (await setup.clients.add({ id: 'other-mis', name: 'Другая МИС', redirectUris: ['https://other.example.ru/cb'], public: false }, Date.now())).secret!;
}, 60_000);
afterAll(() => setup?.close());

const publicClient = () => ({ issuer: setup.issuer, clientId: 'desktop-mis', redirectUri: 'http://127.0.0.1:53117/callback' });
const webClient = () => ({ issuer: setup.issuer, clientId: 'web-mis', secret: webSecret, redirectUri: WEB_REDIRECT });

/** Starts an authorization at the RP, drives the browser to the callback (logging in if asked), and redeems the code. */
const signIn = (browser: Browser, rpClient: Record<string, unknown>, params: Record<string, string> = {}, login = true) => setup.signIn(browser, rpClient, params, login ? IVANOVA : undefined);

/** The cardauth login time of the browser's session, in ms. */
const authTimeOf = async (browser: Browser) => Date.parse(((await (await browser.fetch('/auth/session')).json()) as { authTime: string }).authTime);

/** Verifies an ID token's signature against the provider's published JWKS and answers its claims. */
async function verifiedIdToken(idToken: string, audience: string): Promise<JWTPayload & Record<string, unknown>> {
  const discovery = (await (await fetch(`${setup.issuer}/.well-known/openid-configuration`)).json()) as any;
  const { payload, protectedHeader } = await jwtVerify(idToken, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: setup.issuer, audience });
  expect(['RS256', 'ES256']).toContain(protectedHeader.alg);
  return payload as JWTPayload & Record<string, unknown>;
}

describe('discovery and keys', () => {
  it('publishes the discovery document at the issuer root, with RS256, S256 PKCE and the claims', async () => {
    const res = await fetch(`${setup.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const d = (await res.json()) as any;
    expect(d.issuer).toBe(setup.issuer);
    expect(d.authorization_endpoint).toBe(`${setup.issuer}/oidc/auth`);
    expect(d.token_endpoint).toBe(`${setup.issuer}/oidc/token`);
    expect(d.jwks_uri).toBe(`${setup.issuer}/oidc/jwks`);
    expect(d.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256']));
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.response_types_supported).toEqual(['code']);
    expect(d.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']));
    expect(d.claims_supported).toEqual(expect.arrayContaining(['sub', 'preferred_username', 'name', 'roles', 'amr', 'acr', 'auth_time', 'sid']));
  });

  it('publishes the public RS256 and ES256 keys, never a private part', async () => {
    const jwks = (await (await fetch(`${setup.issuer}/oidc/jwks`)).json()) as any;
    expect(jwks.keys.map((k: { alg: string }) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const k of jwks.keys) expect(k).not.toHaveProperty('d');
  });
});

describe('authorization code flow', () => {
  it('a public desktop client (PKCE, a loopback redirect on any port) gets an ID token with the cardauth login in it', async () => {
    const browser = new Browser(setup.issuer);
    const { start, callback, finish } = await signIn(browser, publicClient());
    // The browser went through cardauth's own login page.
    expect(browser.pages).toEqual([expect.stringMatching(/^\/login\?next=%2Foidc%2Finteraction%2F/)]);
    expect(callback.startsWith('http://127.0.0.1:53117/callback?code=')).toBe(true);
    const tokens = await finish();
    expect(tokens.error).toBeUndefined();
    const claims = await verifiedIdToken(tokens.idToken, 'desktop-mis');
    expect(claims).toMatchObject({
      sub: accountId,
      preferred_username: 'ivanova',
      name: 'Иванова Анна Петровна',
      roles: ['clinician'],
      amr: ['sc', 'pwd', 'mfa'],
      acr: 'urn:cardauth:card-password',
      auth_time: Math.floor((await authTimeOf(browser)) / 1000),
      nonce: start.nonce,
    });
    expect(claims.sub).not.toBe('ivanova');
    expect(typeof claims.sid).toBe('string');
    expect(tokens.userinfo).toMatchObject({ sub: accountId, preferred_username: 'ivanova', name: 'Иванова Анна Петровна', roles: ['clinician'] });
  });

  it('a confidential client (client_secret_basic) gets its tokens; a logged-in session gets its code through redirects alone', async () => {
    const browser = new Browser(setup.issuer);
    await setup.login(browser, IVANOVA);
    const { finish } = await signIn(browser, webClient(), {}, false);
    expect(browser.pages).toEqual([]);
    const tokens = await finish();
    expect(tokens.error).toBeUndefined();
    const claims = await verifiedIdToken(tokens.idToken, 'web-mis');
    expect(claims).toMatchObject({ sub: accountId, amr: ['sc', 'pwd', 'mfa'] });
    // A second application: silent too.
    const again = await signIn(browser, publicClient(), {}, false);
    expect(browser.pages).toEqual([]);
    expect((await again.finish()).claims.sub).toBe(accountId);
  });

  it('a login takes one interaction: a registered web client gets its grant with the login, not on a second (consent) round; a second one is silent at once', async () => {
    const browser = new Browser(setup.issuer);
    const { callback, finish } = await signIn(browser, webClient());
    expect(callback.startsWith(`${WEB_REDIRECT}?code=`)).toBe(true);
    const interactions = browser.trail.filter((p) => p.startsWith('/oidc/interaction/'));
    // Before the login and after it: the same interaction.
    expect(interactions).toHaveLength(2);
    expect(new Set(interactions).size).toBe(1);
    expect(browser.trail.filter((p) => p.startsWith('/oidc/auth'))).toEqual(['/oidc/auth', `/oidc/auth/${interactions[0]!.split('/').pop()}`]);
    expect((await finish()).claims).toMatchObject({ sub: accountId, preferred_username: 'ivanova' });
    browser.trail.length = 0;
    const other = { issuer: setup.issuer, clientId: 'other-mis', secret: otherSecret, redirectUri: 'https://other.example.ru/cb' };
    expect((await (await signIn(browser, other, {}, false)).finish()).claims.sub).toBe(accountId);
    expect(browser.trail).toEqual(['/oidc/auth']);
  });

  it('each request of a login reads the interaction once: the interaction page twice (before and after the login), the resume once', async () => {
    const monitor = await setup.redis.client().monitor();
    const reads: string[] = [];
    let seenAll: () => void = () => undefined;
    const end = new Promise<void>((resolve) => (seenAll = resolve));
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'echo' && args[1] === 'end-of-trip') seenAll();
      if (args[0]?.toLowerCase() === 'hgetall' && args[1]?.startsWith('oidc:Interaction:')) reads.push(args[1]);
    });
    try {
      const browser = new Browser(setup.issuer);
      await signIn(browser, webClient());
      await setup.redis.client().echo('end-of-trip');
      await end; // MONITOR has seen every command of the trip
      expect(reads).toHaveLength(3);
    } finally {
      monitor.disconnect();
    }
  });

  it('the resume after a login does not read the cardauth session (the login result carries the account); a resume after consent alone does', async () => {
    const browser = new Browser(setup.issuer);
    await setup.login(browser, IVANOVA);
    /** The redirects from `url` to the client, each with the cardauth sessions read while answering it. */
    const trip = async (url: string) => {
      const hops: Array<{ path: string; sessionReads: number }> = [];
      for (let at = new URL(url); at.origin === setup.issuer; ) {
        const monitor = await setup.redis.client().monitor();
        let reads = 0;
        let seenAll: () => void = () => undefined;
        const end = new Promise<void>((resolve) => (seenAll = resolve));
        monitor.on('monitor', (_time: string, args: string[]) => {
          if (args[0]?.toLowerCase() === 'echo' && args[1] === 'end-of-hop') seenAll();
          if (args[0]?.toLowerCase() === 'get' && args[1]?.startsWith('sess:')) reads++;
        });
        const res = await browser.fetch(at.href);
        await setup.redis.client().echo('end-of-hop');
        await end;
        monitor.disconnect();
        hops.push({ path: at.pathname, sessionReads: reads });
        expect(res.status).toBe(303);
        at = new URL(res.headers.get('location')!, at);
      }
      return hops;
    };
    // A web client: /oidc/auth → the interaction (it finishes the login at once) → the resume → the client.
    const web = await trip((await setup.rp.call({ op: 'start', ...webClient() })).url);
    expect(web.map((h) => h.path.replace(/^(\/oidc\/(?:auth|interaction))\/[^/]+$/, '$1/:uid'))).toEqual(['/oidc/auth', '/oidc/interaction/:uid', '/oidc/auth/:uid']);
    expect(web.map((h) => h.sessionReads)).toEqual([1, 1, 0]);
    // A native client then: the provider knows the user, and asks for consent alone (RFC 8252); its resume checks the cardauth session.
    const native = await trip((await setup.rp.call({ op: 'start', ...publicClient() })).url);
    expect(native.map((h) => h.sessionReads)).toEqual([1, 1, 1]);
  });

  it('a confidential client may send its secret in the form (client_secret_post) instead; a wrong one is refused', async () => {
    const browser = new Browser(setup.issuer);
    const post = { ...webClient(), authMethod: 'post' };
    const tokens = await (await signIn(browser, post)).finish();
    expect(tokens.error).toBeUndefined();
    expect(await verifiedIdToken(tokens.idToken, 'web-mis')).toMatchObject({ sub: accountId, amr: ['sc', 'pwd', 'mfa'] });
    expect(tokens.userinfo).toMatchObject({ sub: accountId, preferred_username: 'ivanova' });
    expect((await (await signIn(browser, { ...post, secret: otherSecret }, {}, false)).finish()).error).toBe('invalid_client');
  });

  it('an authorization request that comes cross-site (the session cookie is SameSite=Strict) is sent again from cardauth\'s own origin first', async () => {
    const browser = new Browser(setup.issuer);
    await setup.login(browser, IVANOVA);
    const start = await setup.rp.call({ op: 'start', ...webClient() });
    const res = await browser.fetch(start.url, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const target = new URL(start.url);
    const html = await res.text();
    expect(html).toContain(`<meta http-equiv="refresh" content="0;url=${(target.pathname + target.search).replace(/&/g, '&amp;')}">`);
    // Nothing was started yet; the same URL from cardauth's origin goes on silently.
    expect([...browser.cookies.keys()].filter((k) => k.startsWith('_interaction'))).toEqual([]);
    const trip = await browser.follow(start.url);
    expect(trip.callback).toMatch(/^https:\/\/mis\.example\.ru\/oidc\/callback\?code=/);
    expect(browser.pages).toEqual([]);
  });

  it('prompt=login sends a logged-in user through card + password again', async () => {
    const browser = new Browser(setup.issuer);
    await signIn(browser, webClient());
    const before = await authTimeOf(browser);
    browser.pages.length = 0;
    const { finish } = await signIn(browser, webClient(), { prompt: 'login' });
    // The login form was shown although the session was live.
    expect(browser.pages).toEqual([expect.stringMatching(/^\/login\?next=%2Foidc%2Finteraction%2F.*&reauth=1$/)]);
    const after = await authTimeOf(browser);
    expect(after).toBeGreaterThan(before);
    const claims = await verifiedIdToken((await finish()).idToken, 'web-mis');
    expect(claims.auth_time).toBe(Math.floor(after / 1000));
  });

  it('an elapsed max_age sends the user through card + password again; one not elapsed does not', async () => {
    const browser = new Browser(setup.issuer);
    await signIn(browser, webClient());
    browser.pages.length = 0;
    await signIn(browser, webClient(), { max_age: '3600' }, false);
    expect(browser.pages).toEqual([]);
    // The server runs in its own process on the real clock: let a second pass, the least max_age can say.
    await new Promise((r) => setTimeout(r, 2100));
    const { finish } = await signIn(browser, webClient(), { max_age: '1' });
    expect(browser.pages).toEqual([expect.stringMatching(/&reauth=1$/)]);
    const claims = await verifiedIdToken((await finish()).idToken, 'web-mis');
    expect(claims.auth_time).toBe(Math.floor((await authTimeOf(browser)) / 1000));
  });

  it('prompt=none without a cardauth session answers login_required to the client', async () => {
    const browser = new Browser(setup.issuer);
    const start = await setup.rp.call({ op: 'start', ...webClient(), params: { prompt: 'none' } });
    const trip = await browser.follow(start.url);
    const cb = new URL(trip.callback!);
    expect(cb.origin + cb.pathname).toBe(WEB_REDIRECT);
    expect(cb.searchParams.get('error')).toBe('login_required');
    expect(browser.pages).toEqual([]);
  });

  it('prompt=none with a locked cardauth session answers login_required, though the provider knew the user', async () => {
    const browser = new Browser(setup.issuer);
    await signIn(browser, webClient());
    // Silent while the session is live…
    await signIn(browser, webClient(), { prompt: 'none' }, false);
    // …not once it is locked (a tap-out).
    await setup.services.locks.lockCard(setup.agentId, IVANOVA.uid, { reason: 'tapout', at: Date.now() });
    const start = await setup.rp.call({ op: 'start', ...webClient(), params: { prompt: 'none' } });
    const trip = await browser.follow(start.url);
    expect(new URL(trip.callback!).searchParams.get('error')).toBe('login_required');
  });
});

/** Redeems web-mis's code at the token endpoint of the node at `base` (client_secret_basic), as a plain POST. */
const redeemAt = (base: string, start: { verifier: string }, callback: string) =>
  fetch(`${base}/oidc/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`web-mis:${webSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: new URL(callback).searchParams.get('code')!, redirect_uri: WEB_REDIRECT, code_verifier: start.verifier }),
  });

describe('revocation and refresh tokens', () => {
  const userinfo = (rpClient: Record<string, unknown>, accessToken: string) => setup.rp.call({ op: 'userinfo', ...rpClient, accessToken, sub: accountId });
  const refresh = (rpClient: Record<string, unknown>, refreshToken: string) => setup.rp.call({ op: 'refresh', ...rpClient, refreshToken });
  const offline = { scope: 'openid profile offline_access', prompt: 'consent' };

  it('a revoked access token fails at UserInfo', async () => {
    const browser = new Browser(setup.issuer);
    const tokens = await (await signIn(browser, webClient())).finish();
    expect((await userinfo(webClient(), tokens.accessToken)).userinfo).toMatchObject({ sub: accountId });
    expect(await setup.rp.call({ op: 'revoke', ...webClient(), token: tokens.accessToken, hint: 'access_token' })).toEqual({ revoked: true });
    expect(await userinfo(webClient(), tokens.accessToken)).toEqual({ error: 'invalid_token', status: 401 });
  });

  it('a refresh token comes only with scope offline_access and prompt=consent (OpenID Connect Core 11)', async () => {
    const browser = new Browser(setup.issuer);
    expect((await (await signIn(browser, webClient())).finish()).refreshToken).toBeUndefined();
    expect((await (await signIn(browser, webClient(), { scope: offline.scope }, false)).finish()).refreshToken).toBeUndefined();
    expect(typeof (await (await signIn(browser, webClient(), offline, false)).finish()).refreshToken).toBe('string');
  });

  it('a refresh token works until it is revoked; then it fails at the token endpoint, and so do the access tokens of its grant', async () => {
    const browser = new Browser(setup.issuer);
    const tokens = await (await signIn(browser, webClient(), offline)).finish();
    const refreshed = await refresh(webClient(), tokens.refreshToken);
    expect(refreshed.error).toBeUndefined();
    expect((await userinfo(webClient(), refreshed.accessToken)).userinfo).toMatchObject({ sub: accountId });
    const current = refreshed.refreshToken ?? tokens.refreshToken;
    expect(await setup.rp.call({ op: 'revoke', ...webClient(), token: current, hint: 'refresh_token' })).toEqual({ revoked: true });
    expect(await refresh(webClient(), current)).toMatchObject({ error: 'invalid_grant', status: 400 });
    expect(await userinfo(webClient(), refreshed.accessToken)).toEqual({ error: 'invalid_token', status: 401 });
  });

  it('a refresh token, rotated or not, ends CARDAUTH_SESSION_MAX_SEC after the card + password login, as a cardauth session does', async () => {
    const redis = setup.redis.client();
    const expiry = async (token: string) => (JSON.parse((await redis.hget(`oidc:RefreshToken:${token}`, 'payload'))!) as { exp: number }).exp;
    const browser = new Browser(setup.issuer);
    const tokens = await (await signIn(browser, publicClient(), offline)).finish();
    const loginEnds = (tokens.claims.auth_time as number) + 43200;
    expect(await expiry(tokens.refreshToken)).toBe(loginEnds);
    // The server runs on the real clock: let a second pass, so that a token issued now would end later.
    await new Promise((r) => setTimeout(r, 1100));
    // A public client's refresh token is replaced at each use.
    const rotated = await refresh(publicClient(), tokens.refreshToken);
    expect(rotated.refreshToken).not.toBe(tokens.refreshToken);
    expect(await expiry(rotated.refreshToken)).toBe(loginEnds);
  });
});

describe('two nodes', () => {
  it('a code issued by one node is redeemed at another (state and keys shared), and only once across both', async () => {
    const node2 = await startServeProcess({ ...setup.env, CARDAUTH_PORT: String(await freePort()) });
    try {
      const browser = new Browser(setup.issuer);
      const { start, callback } = await signIn(browser, webClient());
      const at2 = await redeemAt(node2.url, start, callback);
      expect(at2.status).toBe(200);
      const tokens = (await at2.json()) as { id_token: string };
      // Signed with the same keys: it verifies against the first node's JWKS.
      expect(await verifiedIdToken(tokens.id_token, 'web-mis')).toMatchObject({ sub: accountId, nonce: start.nonce });
      const again = await redeemAt(setup.issuer, start, callback);
      expect(again.status).toBe(400);
      expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
    } finally {
      await node2.stop();
    }
  });
});

describe('signing key rotation', () => {
  it('added keys are published but do not sign; once used they sign, and the old keys stay published', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardauth-oidc-rotate-'));
    const file = join(dir, 'jwks.json');
    copyFileSync(setup.env.CARDAUTH_OIDC_JWKS_FILE!, file);
    chmodSync(file, 0o600);
    const old = readSigningJwks(file).keys;
    const added = await addSigningKeys(file);
    /** Starts a node on the file as it is now; answers the kids it publishes and the kid its ID tokens carry. */
    const nodeOnFile = async () => {
      const node = await startServeProcess({ ...setup.env, CARDAUTH_PORT: String(await freePort()), CARDAUTH_OIDC_JWKS_FILE: file });
      try {
        const published = ((await (await fetch(`${node.url}/oidc/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
        const browser = new Browser(setup.issuer);
        const { start, callback } = await signIn(browser, webClient());
        const { id_token } = (await (await redeemAt(node.url, start, callback)).json()) as { id_token: string };
        return { published, signedBy: decodeProtectedHeader(id_token).kid };
      } finally {
        await node.stop();
      }
    };
    try {
      const all = [...old, ...added].map((k) => k.kid).sort();
      const staged = await nodeOnFile();
      expect(staged.published.sort()).toEqual(all);
      expect(staged.signedBy).toBe(old[0]!.kid);
      await useSigningKeys(file, added.map((k) => k.kid!));
      const used = await nodeOnFile();
      expect(used.published.sort()).toEqual(all);
      expect(used.signedBy).toBe(added[0]!.kid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('refusals', () => {
  it('an unregistered redirect_uri gets an error page, never a redirect to it', async () => {
    const browser = new Browser(setup.issuer);
    await setup.login(browser, IVANOVA);
    const start = await setup.rp.call({ op: 'start', ...webClient(), redirectUri: 'https://evil.example.com/cb' });
    const trip = await browser.follow(start.url);
    expect(trip.callback).toBeUndefined();
    expect(trip.page!.status).toBe(400);
    expect(await trip.page!.text()).toMatch(/redirect_uri/);
  });

  it('a public client without PKCE is refused', async () => {
    const browser = new Browser(setup.issuer);
    const url = new URL(`${setup.issuer}/oidc/auth`);
    for (const [k, v] of Object.entries({ client_id: 'desktop-mis', redirect_uri: PUBLIC_REDIRECT, response_type: 'code', scope: 'openid', nonce: 'n-1', state: 's-1' })) url.searchParams.set(k, v);
    const trip = await browser.follow(url.href);
    const cb = new URL(trip.callback!);
    expect(cb.searchParams.get('error')).toBe('invalid_request');
  });

  it('a wrong PKCE verifier, a reused code and another client’s code are refused with invalid_grant', async () => {
    const browser = new Browser(setup.issuer);
    const wrong = await signIn(browser, webClient());
    const refused = await setup.rp.call({ op: 'finish', ...webClient(), callbackUrl: wrong.callback, verifier: 'x'.repeat(43), state: wrong.start.state, nonce: wrong.start.nonce });
    expect(refused.error).toBe('invalid_grant');

    const reused = await signIn(browser, webClient());
    expect((await reused.finish()).error).toBeUndefined();
    expect((await reused.finish()).error).toBe('invalid_grant');

    const foreign = await signIn(browser, webClient());
    const stolen = await setup.rp.call({ op: 'finish', issuer: setup.issuer, clientId: 'other-mis', secret: otherSecret, callbackUrl: foreign.callback, verifier: foreign.start.verifier, state: foreign.start.state, nonce: foreign.start.nonce });
    expect(stolen.error).toBe('invalid_grant');
  });

  it('a rotated secret takes effect at once on the running provider, and a removed client is unknown', async () => {
    const { secret } = await setup.clients.add({ id: 'rotating-mis', name: 'МИС', redirectUris: [WEB_REDIRECT], public: false }, Date.now());
    const rp = { issuer: setup.issuer, clientId: 'rotating-mis', redirectUri: WEB_REDIRECT };
    const browser = new Browser(setup.issuer);
    expect((await (await signIn(browser, { ...rp, secret })).finish()).error).toBeUndefined();
    const fresh = (await setup.clients.rotateSecret('rotating-mis')).secret;
    expect((await (await signIn(browser, { ...rp, secret }, {}, false)).finish()).error).toBe('invalid_client');
    expect((await (await signIn(browser, { ...rp, secret: fresh }, {}, false)).finish()).error).toBeUndefined();
    await setup.clients.remove('rotating-mis');
    const start = await setup.rp.call({ op: 'start', ...webClient(), clientId: 'rotating-mis' });
    const trip = await browser.follow(start.url);
    expect(trip.callback).toBeUndefined();
    expect(trip.page!.status).toBe(400);
  });
});
