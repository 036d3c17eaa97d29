// @ts-check
// A small MIS that takes its logins from cardauth through OpenID Connect, with openid-client 6:
// the authorization code flow with PKCE, its own session cookie, back-channel logout (a tap-out at
// cardauth ends the MIS session at once) and RP-initiated logout. See README.md to run it.
import { fileURLToPath } from 'node:url';
import express from 'express';
import * as oidc from 'openid-client';
import { loadConfig, MisConfigError } from './config.mjs';
import { BadLogoutToken, createLogoutTokenVerifier } from './logout-token.mjs';
import { loggedOutPage, loginFailedPage, patientsPage } from './pages.mjs';
import { createSessionTable } from './sessions.mjs';

/** @type {import('./config.mjs').MisConfig} */
let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof MisConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}

/** One JSON line per event on stdout; never a token or a cookie. @param {string} event @param {Record<string, unknown>} [fields] */
const log = (event, fields = {}) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);

const COOKIE = 'mis.sid';
const REDIRECT_URI = `${config.publicOrigin}/callback`;
const POST_LOGOUT_URI = `${config.publicOrigin}/logged-out`;
const secureCookie = config.publicOrigin.startsWith('https:');

/**
 * cardauth's discovery document, fetched on first use (so the MIS may start before cardauth),
 * and fetched again after a failure. http is allowed only for a loopback issuer (config.mjs).
 * @type {Promise<{ server: oidc.Configuration, verifyLogoutToken: ReturnType<typeof createLogoutTokenVerifier> }> | undefined}
 */
let discovered;
const provider = () =>
  (discovered ??= oidc
    .discovery(new URL(config.issuer), config.clientId, undefined, config.clientSecret ? oidc.ClientSecretBasic(config.clientSecret) : oidc.None(), {
      ...(config.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : {}),
    })
    .then((server) => {
      const { issuer, jwks_uri: jwksUri } = server.serverMetadata();
      if (!jwksUri) throw new Error('the provider publishes no jwks_uri');
      return { server, verifyLogoutToken: createLogoutTokenVerifier({ issuer, clientId: config.clientId, jwksUri }) };
    })
    .catch((err) => {
      discovered = undefined;
      throw err;
    }));

const sessions = createSessionTable();
setInterval(() => sessions.sweep(), 60_000).unref();

/** @param {import('express').Request} req */
const sessionId = (req) => {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return undefined;
};
/** @param {import('express').Response} res @param {string} id */
const setSessionCookie = (res, id) => res.cookie(COOKIE, id, { httpOnly: true, sameSite: 'lax', secure: secureCookie, path: '/' });
/** @param {import('express').Request} req */
const langOf = (req) => (req.query.lang === 'en' ? 'en' : 'ru');

const app = express();
app.disable('x-powered-by');
app.use((_req, res, next) => {
  res.set({
    'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self' " + config.issuer + "; frame-ancestors 'none'; base-uri 'none'",
    'X-Content-Type-Options': 'nosniff',
    // The callback's URL carries the code: never send it on.
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
  next();
});
app.use('/assets', express.static(fileURLToPath(new URL('./assets/', import.meta.url)), { index: false }));

app.get('/', (req, res) => res.redirect(303, langOf(req) === 'en' ? '/patients?lang=en' : '/patients'));

// Login required: without a session, off to cardauth (code flow, PKCE S256, state, nonce).
app.get('/patients', async (req, res) => {
  const session = sessions.get(sessionId(req));
  if (session?.user) return void res.type('html').send(patientsPage(session.lang, session.user));
  const { server } = await provider();
  const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), lang: langOf(req) };
  setSessionCookie(res, sessions.startLogin({ pending, lang: pending.lang }));
  const url = oidc.buildAuthorizationUrl(server, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  });
  res.redirect(303, url.href);
});

// cardauth sends the browser back here with the code; the MIS redeems it and keeps the clinician.
app.get('/callback', async (req, res) => {
  const id = sessionId(req);
  const pending = sessions.get(id)?.pending;
  const lang = sessions.get(id)?.lang ?? 'ru';
  if (!id || !pending) return void res.status(400).type('html').send(loginFailedPage(lang));
  const { server } = await provider();
  let tokens;
  try {
    tokens = await oidc.authorizationCodeGrant(server, new URL(req.originalUrl, config.publicOrigin), {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    sessions.drop(id);
    log('login_failed', { error: /** @type {{ error?: string, code?: string }} */ (err).error ?? /** @type {{ code?: string }} */ (err).code ?? 'error' });
    return void res.status(400).type('html').send(loginFailedPage(lang));
  }
  const claims = /** @type {oidc.IDToken} */ (tokens.claims());
  const user = {
    sub: claims.sub,
    sid: typeof claims.sid === 'string' ? claims.sid : undefined,
    name: String(claims.name ?? claims.preferred_username ?? claims.sub),
    login: String(claims.preferred_username ?? ''),
    idToken: /** @type {string} */ (tokens.id_token),
  };
  setSessionCookie(res, sessions.loggedIn(id, user));
  log('login', { sub: user.sub, sid: user.sid });
  res.redirect(303, '/patients');
});

// The patients page asks this every 500 ms (assets/session-watch.js).
app.get('/session', (req, res) => void res.json({ active: Boolean(sessions.get(sessionId(req))?.user) }));

// OpenID Connect Back-Channel Logout 1.0: cardauth posts a logout token when the login ends
// (tap-out, lock, logout, a blocked account); every MIS session of that login goes at once.
app.post('/backchannel-logout', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
  const { verifyLogoutToken } = await provider();
  let who;
  try {
    who = await verifyLogoutToken(req.body?.logout_token);
  } catch (err) {
    if (!(err instanceof BadLogoutToken)) throw err;
    log('backchannel_logout_refused', { why: err.message });
    return void res.status(400).json({ error: 'invalid_request', error_description: 'invalid logout token' });
  }
  const dropped = sessions.dropLogin(who);
  log('backchannel_logout', { ...who, dropped });
  res.status(200).end();
});

// "Выйти": the MIS session ends here, then cardauth's end_session (RP-initiated logout) ends the
// login there and sends the browser back to /logged-out (registered as a post-logout redirect URI).
app.post('/logout', async (req, res) => {
  const id = sessionId(req);
  const session = sessions.get(id);
  sessions.drop(id);
  res.clearCookie(COOKIE, { path: '/' });
  if (!session?.user) return void res.redirect(303, '/logged-out');
  const { server } = await provider();
  const url = oidc.buildEndSessionUrl(server, {
    id_token_hint: session.user.idToken,
    post_logout_redirect_uri: POST_LOGOUT_URI,
    // Comes back on the redirect (the registered URI is matched exactly, so the language rides here).
    state: session.lang,
  });
  log('logout', { sub: session.user.sub, sid: session.user.sid });
  res.redirect(303, url.href);
});

app.get('/logged-out', (req, res) => void res.type('html').send(loggedOutPage(req.query.state === 'en' ? 'en' : langOf(req))));

/**
 * Whatever failed (cardauth unreachable for its discovery document, its keys or its token endpoint): 503.
 * @param {unknown} err @param {import('express').Request} _req @param {import('express').Response} res @param {import('express').NextFunction} _next
 */
const unavailable = (err, _req, res, _next) => {
  log('error', { error: err instanceof Error ? err.message : String(err) });
  res.status(503).type('text').send('The MIS cannot reach cardauth right now; try again in a minute.');
};
app.use(unavailable);

const server = app.listen(config.port, '127.0.0.1', () => console.log(`oidc-mis on ${config.publicOrigin}/patients (cardauth ${config.issuer}, client ${config.clientId})`));
const stop = () => server.close();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
