import type { IncomingMessage } from 'node:http';
import type Redis from 'ioredis';
// oidc-provider is an ES module without top-level await: Node 20.19+ loads it with require(),
// which is what this import compiles to (module node20), so the provider is built synchronously.
import Provider, { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { errorMessage, type Logger } from '../logger';
import type { SessionUser } from '../strategies/session-user';
import type { SigningJwks } from './keys';
import type { LogoutPages } from './logout-pages';
import { createRedisAdapter } from './redis-adapter';

/** Where oidc-provider's endpoints live; the discovery document is at the issuer's root. */
export const OIDC_PREFIX = '/oidc';
/** The interaction page: cardauth's own (Express, with the cardauth session), not the provider's. */
export const INTERACTION_PATH = `${OIDC_PREFIX}/interaction`;

/** RFC 8176: smart card, password, and so multi-factor. */
export const LOGIN_AMR = ['sc', 'pwd', 'mfa'];
export const LOGIN_ACR = 'urn:cardauth:card-password';

export interface OidcProviderDeps {
  issuer: string;
  redis: Redis;
  jwks: SigningJwks;
  /** Sign the provider's cookies (the session secrets: the first signs, all verify). */
  cookieKeys: string[];
  /** Trust X-Forwarded-Proto/Host (cardauth behind its trusted proxy). */
  proxy: boolean;
  accounts: { get(id: string): Promise<{ id: string; login: string; displayName: string; roles: string[]; status: 'active' | 'blocked' } | null> };
  logger: Logger;
  /** Lifetimes in seconds. */
  sessionTtlSec: number;
  now: () => number;
  /** The logout question and the "signed out" page (createLogoutPages). */
  logoutPages: Pick<LogoutPages, 'logoutSource' | 'postLogoutSuccessSource'>;
  /** The `sid` a client was given in this cardauth session, if any (backchannel-store.ts). */
  linkedSid(sessionId: string, clientId: string): Promise<string | undefined>;
}

const LOAD_SESSION = Symbol('cardauth session, run when first asked for');
type CardauthRequest = IncomingMessage & { user?: SessionUser; [LOAD_SESSION]?: () => Promise<void> };

/**
 * Runs cardauth's session for this request only if the provider asks for its user (mount.ts, on
 * the resume: a login's result carries the account, and the user is asked for only when it does not).
 */
export function deferSession(req: IncomingMessage, run: (done: (err?: unknown) => void) => void): void {
  let ran: Promise<void> | undefined;
  (req as CardauthRequest)[LOAD_SESSION] = () =>
    (ran ??= new Promise<void>((resolve, reject) => run((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()))));
}

/** Runs a session deferred by deferSession, once (a no-op when the session ran already). */
export async function loadDeferredSession(req: IncomingMessage): Promise<void> {
  await (req as CardauthRequest)[LOAD_SESSION]?.();
}

/** The logged-in, unlocked cardauth user of the request (set by cardauth's session guard), if any. */
async function cardauthUser(req: CardauthRequest): Promise<SessionUser | undefined> {
  await loadDeferredSession(req);
  return req.user;
}

/**
 * Whether Redis answers now (a PING within 500 ms). Asked only after a failure: just after Redis
 * went away the client may still call itself `ready`, so its status alone would race.
 */
async function redisAnswers(redis: Redis): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 500)));
  try {
    return await Promise.race([redis.ping().then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the provider's session is the login of the request's cardauth user (same account, same login time). */
async function sameLogin(ctx: KoaContextWithOIDC): Promise<boolean> {
  const user = await cardauthUser(ctx.req);
  const session = ctx.oidc.session;
  return Boolean(user && session && session.accountId === user.accountId && session.authTime() === Math.floor(user.authTime / 1000));
}

/** Claims every ID token carries, never asked consent for (as oidc-provider's consent prompt). */
const ALWAYS_CLAIMS = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

/**
 * Every registered client is first-party (an officer registered it), so the user is not asked to
 * consent: a client's grant gets the OpenID scopes and claims it asks for at once, when the
 * account is the request's cardauth login (or has just logged in), instead of on a second
 * interaction round (a second interaction, provider-session save and pair of redirects per login).
 * The interaction route's `consent` still answers the prompts that come anyway (`prompt=consent`,
 * native clients).
 */
async function firstPartyGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const clientId = oidc.client!.clientId;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!oidc.account || !(oidc.result?.login || (await sameLogin(ctx)))) return existing;
  const grant = existing ?? new oidc.provider.Grant({ accountId: oidc.account.accountId, clientId });
  const scopes = new Set(grant.getOIDCScopeEncountered().split(' '));
  const claims = new Set(grant.getOIDCClaimsEncountered());
  const missingScopes = [...oidc.requestParamOIDCScopes].filter((s) => !scopes.has(s));
  const missingClaims = [...oidc.requestParamClaims].filter((c) => !claims.has(c) && !ALWAYS_CLAIMS.has(c));
  if (existing && !missingScopes.length && !missingClaims.length) return existing;
  if (missingScopes.length) grant.addOIDCScope(missingScopes.join(' '));
  if (missingClaims.length) grant.addOIDCClaims(missingClaims);
  await grant.save();
  return grant;
}

/**
 * The OpenID provider (panva's oidc-provider, OpenID-certified): authorization code flow,
 * PKCE (S256) required of public clients, `client_secret_basic` or `client_secret_post` for
 * confidential ones,
 * clients and all state in Redis (createRedisAdapter), the signing keys of
 * CARDAUTH_OIDC_JWKS_FILE. Logins are cardauth's own: `interactions.url` sends the browser
 * to cardauth's interaction route (interaction-routes.ts), and an extra check on the `login`
 * prompt keeps the provider's session tied to the cardauth session of the request: when that
 * one is gone, locked or another user's, the provider asks for a login again (with
 * `prompt=none`: `login_required`), and a back-channel logout client's `sid` to the cardauth
 * session it was given in. devInteractions is off. RP-initiated logout asks on
 * cardauth's pages (`logoutPages`); mount.ts ends the cardauth session when it is confirmed.
 *
 * @example
 * const provider = createOidcProvider({ issuer: config.CARDAUTH_PUBLIC_ORIGIN, redis, jwks, cookieKeys, proxy: false, accounts, logger, sessionTtlSec: 43200, linkedSid: store.linkedSid });
 */
export function createOidcProvider(deps: OidcProviderDeps): Provider {
  const { Check, base } = interactionPolicy;
  const policy = base();
  policy.get('login')!.checks.add(
    new Check('cardauth_session', 'the cardauth session is gone, locked, or another user’s', 'login_required', async (ctx: KoaContextWithOIDC) => {
      if (ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
      if (!(await sameLogin(ctx))) return Check.REQUEST_PROMPT;
      // A back-channel client's sid from another cardauth session (one logged out since; a new login
      // in the same second passes the check above) is not reused: the login is made again, which
      // gives the client a new sid (interaction-routes.ts, forgetClients).
      const { client, session } = ctx.oidc;
      const sid = client?.backchannelLogoutUri ? session?.sidFor(client.clientId) : undefined;
      if (client && sid && (await deps.linkedSid(String((ctx.req as IncomingMessage & { sessionID?: string }).sessionID), client.clientId)) !== sid) return Check.REQUEST_PROMPT;
      return Check.NO_NEED_TO_PROMPT;
    }),
  );

  const cookie = { httpOnly: true, sameSite: 'lax' as const, path: '/' };
  const provider = new Provider(deps.issuer, {
    adapter: createRedisAdapter(deps.redis, { alreadyConsumed: (model) => new errors.InvalidGrant(`${model} already used`) }),
    jwks: deps.jwks as never,
    cookies: { keys: deps.cookieKeys, long: cookie, short: cookie },
    routes: {
      authorization: `${OIDC_PREFIX}/auth`,
      jwks: `${OIDC_PREFIX}/jwks`,
      token: `${OIDC_PREFIX}/token`,
      userinfo: `${OIDC_PREFIX}/me`,
      end_session: `${OIDC_PREFIX}/session/end`,
      revocation: `${OIDC_PREFIX}/token/revocation`,
      introspection: `${OIDC_PREFIX}/token/introspection`,
      pushed_authorization_request: `${OIDC_PREFIX}/request`,
      backchannel_authentication: `${OIDC_PREFIX}/backchannel`,
      code_verification: `${OIDC_PREFIX}/device`,
      device_authorization: `${OIDC_PREFIX}/device/auth`,
      registration: `${OIDC_PREFIX}/reg`,
      challenge: `${OIDC_PREFIX}/challenge`,
      credential: `${OIDC_PREFIX}/credential`,
    },
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`, policy },
    loadExistingGrant: firstPartyGrant,
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, ...deps.logoutPages },
      backchannelLogout: { enabled: true },
    },
    // The provider fetches only what an officer registered (the clients' back-channel logout URIs,
    // usually on the clinic's LAN): its SSRF guard, which refuses private and loopback addresses,
    // would refuse those, so it is left out. The 2.5 s timeout it sets stays.
    fetch: (url, init) => {
      const { dispatcher: _ssrfGuard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
    // A confidential client sends its secret either way: HTTP Basic or the form (several MIS stacks default to it).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'profile'],
    // How the user logged in (amr, acr, auth_time) is in every ID token: listed under `openid`, or
    // the provider leaves them out unless a claims parameter asks. Profile claims go into the ID token too.
    claims: { sid: null, iss: null, openid: ['sub', 'acr', 'amr', 'auth_time'], profile: ['preferred_username', 'name', 'roles'] },
    conformIdTokenClaims: false,
    acrValues: [LOGIN_ACR],
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'], userinfoSigningAlgValues: ['RS256', 'ES256'] },
    // Refresh tokens (scope offline_access, which OpenID Connect grants only with prompt=consent):
    // every token ends with the provider session (RP-initiated logout revokes the grants, even
    // offline ones), and a refresh token, rotated or not, never outlives the card + password
    // login by more than a cardauth session could (CARDAUTH_SESSION_MAX_SEC from auth_time).
    expiresWithSession: () => true,
    ttl: {
      Session: deps.sessionTtlSec,
      Interaction: 3600,
      AuthorizationCode: 60,
      AccessToken: 600,
      IdToken: 600,
      RefreshToken: (_ctx, token) => Math.max(1, (token.authTime ?? 0) + deps.sessionTtlSec - Math.floor(deps.now() / 1000)),
      Grant: deps.sessionTtlSec,
    },
    async findAccount(_ctx, sub) {
      const account = await deps.accounts.get(sub);
      if (!account || account.status !== 'active') return undefined;
      return {
        accountId: account.id,
        claims: () => ({ sub: account.id, preferred_username: account.login, name: account.displayName, roles: [...account.roles] }),
      };
    },
  });
  // Every ID token carries `sid` (oidc-provider adds it only for back-channel logout clients), so
  // any relying party can tie its session to the login and match a later logout.
  provider.Client.prototype.includeSid = () => true;
  provider.proxy = deps.proxy;
  provider.on('server_error', (_ctx, err) => deps.logger.error('oidc_server_error', { err: errorMessage(err) }));
  // A dependency down (Redis, under the provider's models and cardauth's stores) is not the
  // provider's fault: its 500 `server_error` becomes a 503 `temporarily_unavailable` with
  // Retry-After, as cardauth's own routes answer, and the next request works once Redis is back.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.status !== 500 || (await redisAnswers(deps.redis))) return;
    ctx.status = 503;
    ctx.set('Retry-After', '5');
    if (ctx.body && typeof ctx.body === 'object' && 'error' in ctx.body) ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; try again in a minute' };
  });
  return provider;
}
