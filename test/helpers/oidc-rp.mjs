// A relying party made of the real openid-client 6 (ESM, so it runs in its own node process, not in Jest).
// It reads one JSON request per stdin line and answers one JSON line on stdout:
//   {"op":"start","issuer","clientId","secret"?,"redirectUri","params"?} → {"url","verifier","state","nonce"}
//   {"op":"finish","issuer","clientId","secret"?,"callbackUrl","verifier","state","nonce"}
//     → {"idToken","accessToken","refreshToken","claims","userinfo"}
//   {"op":"logout","issuer","clientId","params"} → {"url"} (the end-session URL)
//   {"op":"refresh","issuer","clientId","secret"?,"refreshToken"} → {"idToken","accessToken","refreshToken"}
//   {"op":"revoke","issuer","clientId","secret"?,"token","hint"?} → {"revoked":true}
//   {"op":"userinfo","issuer","clientId","secret"?,"accessToken","sub"} → {"userinfo"}
// Any op may fail: {"error","status"?}. A confidential client authenticates with client_secret_basic,
// or with client_secret_post when the request says "authMethod":"post".
// "scope" (start) replaces the default "openid profile".
import { createInterface } from 'node:readline';
import * as client from 'openid-client';

/** @param {{ issuer: string, clientId: string, secret?: string, authMethod?: string }} r */
const clientAuth = (r) => (!r.secret ? client.None() : r.authMethod === 'post' ? client.ClientSecretPost(r.secret) : client.ClientSecretBasic(r.secret));

/** @param {{ issuer: string, clientId: string, secret?: string, authMethod?: string }} r */
const configFor = (r) =>
  client.discovery(new URL(r.issuer), r.clientId, undefined, clientAuth(r), {
    execute: [client.allowInsecureRequests],
  });

/** @param {any} r */
async function handle(r) {
  const config = await configFor(r);
  if (r.op === 'start') {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: r.redirectUri,
      scope: r.scope ?? 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(r.params ?? {}),
    });
    return { url: url.href, verifier, state, nonce };
  }
  if (r.op === 'finish') {
    const tokens = await client.authorizationCodeGrant(config, new URL(r.callbackUrl), {
      pkceCodeVerifier: r.verifier,
      expectedState: r.state,
      expectedNonce: r.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, String(claims?.sub));
    return { idToken: tokens.id_token, accessToken: tokens.access_token, refreshToken: tokens.refresh_token, claims, userinfo };
  }
  if (r.op === 'logout') return { url: client.buildEndSessionUrl(config, r.params ?? {}).href };
  if (r.op === 'refresh') {
    const tokens = await client.refreshTokenGrant(config, r.refreshToken);
    return { idToken: tokens.id_token, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
  }
  if (r.op === 'revoke') {
    await client.tokenRevocation(config, r.token, r.hint ? { token_type_hint: r.hint } : {});
    return { revoked: true };
  }
  if (r.op === 'userinfo') return { userinfo: await client.fetchUserInfo(config, r.accessToken, r.sub) };
  throw new Error(`unknown op ${r.op}`);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  handle(JSON.parse(line)).then(
    (answer) => process.stdout.write(`${JSON.stringify(answer)}\n`),
    // An OAuth error's code; a 401's is in its WWW-Authenticate challenge.
    (/** @type {any} */ err) => process.stdout.write(`${JSON.stringify({ error: err.error ?? err.cause?.[0]?.parameters?.error ?? err.code ?? err.message, status: err.status ?? err.response?.status })}\n`),
  );
});
