// @ts-check
// OpenID Connect Back-Channel Logout 1.0, §2.6: validating a Logout Token. openid-client 6 does
// not validate logout tokens, so this does it with jose, on the provider's published keys.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** The algorithms cardauth signs with; anything else (none, HS256 with the public key…) is refused. */
const ALGORITHMS = ['RS256', 'ES256'];
/** How old a logout token may be (its `iat`); cardauth's live 2 minutes. */
const MAX_AGE_SEC = 120;

/** A logout token that is not one: the endpoint answers 400. */
export class BadLogoutToken extends Error {}

/**
 * @param {{ issuer: string, clientId: string, jwksUri: string }} deps
 * @example
 * const verify = createLogoutTokenVerifier({ issuer, clientId, jwksUri });
 * const { sid, sub } = await verify(req.body.logout_token);
 */
export function createLogoutTokenVerifier(deps) {
  const keys = createRemoteJWKSet(new URL(deps.jwksUri));
  /** jti → when it may be forgotten (ms): a logout token is taken once. @type {Map<string, number>} */
  const seen = new Map();

  /**
   * @param {unknown} token
   * @returns {Promise<{ sid?: string, sub?: string }>}
   */
  return async function verifyLogoutToken(token) {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw new BadLogoutToken('logout_token missing');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: deps.issuer,
        audience: deps.clientId,
        algorithms: ALGORITHMS,
        typ: 'logout+jwt',
        maxTokenAge: MAX_AGE_SEC,
        clockTolerance: 5,
        requiredClaims: ['iat', 'jti'],
      }));
    } catch (err) {
      throw new BadLogoutToken(/** @type {{ code?: string }} */ (err).code ?? 'invalid logout token');
    }
    const events = payload.events;
    if (typeof events !== 'object' || events === null || typeof (/** @type {Record<string, unknown>} */ (events)[BACKCHANNEL_LOGOUT_EVENT]) !== 'object') {
      throw new BadLogoutToken('no back-channel logout event');
    }
    const sid = typeof payload.sid === 'string' && payload.sid ? payload.sid : undefined;
    const sub = typeof payload.sub === 'string' && payload.sub ? payload.sub : undefined;
    if (!sid && !sub) throw new BadLogoutToken('neither sid nor sub');
    if ('nonce' in payload) throw new BadLogoutToken('a logout token carries no nonce');
    const now = Date.now();
    for (const [jti, until] of seen) if (until <= now) seen.delete(jti);
    const jti = String(payload.jti);
    if (seen.has(jti)) throw new BadLogoutToken('logout token replayed');
    seen.set(jti, now + (MAX_AGE_SEC + 10) * 1000);
    return { ...(sid ? { sid } : {}), ...(sub ? { sub } : {}) };
  };
}
