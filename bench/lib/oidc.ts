import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cardauth } from './cardauth';
import type { Cleanup } from './cleanup';
import { HttpError, type Browser, type HttpTarget } from './http';
import type { BenchRedis } from './redis';

/** The relying party the bench plays: a confidential web MIS (client_secret_basic) that also sends PKCE. */
export interface BenchClient {
  id: string;
  secret: string;
  redirectUri: string;
}

const b64url = (b: Buffer) => b.toString('base64url');

/** A fresh signing JWKS file (0600, in a temp dir removed with `cleanup`), for CARDAUTH_OIDC_JWKS_FILE. */
export async function signingKeysFile(cleanup: Cleanup): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-bench-oidc-'));
  cleanup.add(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'jwks.json');
  await cardauth.oidcKeys.writeSigningJwks(file);
  return file;
}

/** Registers a confidential client in Redis through cardauth's own client store, as `cardauth client add` does. */
export async function registerClient(redis: BenchRedis, opts: { id: string; backchannelLogoutUri?: string }): Promise<BenchClient> {
  const redirectUri = `https://${opts.id}.bench.example/oidc/callback`;
  const store = cardauth.oidcClients.createClientStore({ redis: redis.client() });
  const { secret } = await store.add({ name: `МИС ${opts.id}`, redirectUris: [redirectUri], public: false, ...opts }, Date.now());
  if (!secret) throw new Error(`client ${opts.id} got no secret`);
  return { id: opts.id, secret, redirectUri };
}

/** A fresh authorization request of `client`: its /oidc/auth URL and the PKCE verifier to redeem its code with. */
export function authorizationRequest(client: BenchClient): { path: string; verifier: string } {
  const verifier = b64url(randomBytes(32));
  const params = new URLSearchParams({
    client_id: client.id,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: 'openid',
    state: b64url(randomBytes(12)),
    nonce: b64url(randomBytes(12)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  });
  return { path: `/oidc/auth?${params}`, verifier };
}

/** The code in the client's callback URL (throws on an error answer). */
export function codeOf(callback: URL, client: BenchClient): string {
  const code = callback.searchParams.get('code');
  if (callback.origin + callback.pathname !== client.redirectUri || !code) throw new Error(`no code in ${callback.href.slice(0, 200)}`);
  return code;
}

/** The relying party's back-channel call: POST /oidc/token (client_secret_basic, PKCE); answers once an ID token came. */
export async function redeemCode(target: HttpTarget, client: BenchClient, code: string, verifier: string): Promise<void> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier }).toString();
  const res = await target.request('POST', '/oidc/token', {
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': Buffer.byteLength(body),
    accept: 'application/json',
  }, body);
  if (res.status !== 200 || !(JSON.parse(res.body) as { id_token?: string }).id_token) throw new HttpError('POST /oidc/token', res);
}

/**
 * Silent SSO for a browser with a cardauth session (and, after its first, a provider session):
 * /oidc/auth → redirects → the code at the client's redirect URI → POST /oidc/token.
 */
export async function silentSso(b: Browser, target: HttpTarget, client: BenchClient): Promise<void> {
  const { path, verifier } = authorizationRequest(client);
  const callback = await b.follow(path, (u) => u.pathname === '/login');
  if (callback.pathname === '/login') throw new Error('silent SSO was sent to the login page: the cardauth session is gone');
  await redeemCode(target, client, codeOf(callback, client), verifier);
}
