import type { Clock } from '../clock';
import { CardauthError } from '../errors';
import { CardRejectedError, createAgentJwsVerifier } from '../strategies/agent-jws';
import type { SkudStore } from './integrations';

/** `typ` of an access-control statement (docs/presence.md). */
export const SKUD_TYP = 'cardauth-skud+jwt';
/** Longest `exp - iat` of a statement: a relay signs each batch as it sends it. */
export const SKUD_MAX_LIFETIME_SEC = 300;
/** The `aud` a statement names: this server's origin and `/skud`, never a card statement's. */
export const skudAudience = (publicOrigin: string) => `${publicOrigin}/skud`;

/** Why a statement was refused (the audit's reason). */
export type SkudRejectReason = 'bad_statement' | 'bad_signature' | 'statement_expired' | 'wrong_audience' | 'skud_unknown' | 'replayed_jti';

/**
 * A refused access-control statement: `skud_replayed` (409) for a `jti` seen before, otherwise
 * `skud_rejected` (401); `reason` goes to the audit, `skudId` when the header named one.
 */
export class SkudRejectedError extends CardauthError {
  constructor(
    readonly reason: SkudRejectReason,
    readonly skudId?: string,
  ) {
    super(reason === 'replayed_jti' ? 'skud_replayed' : 'skud_rejected', reason === 'replayed_jti' ? 'statement seen before' : 'statement not accepted');
  }
}

/**
 * Verifies a compact JWS from a registered access-control integration, as agent statements
 * are verified (createAgentJwsVerifier: `alg` allow-listed EdDSA/ES256 and the key's own,
 * `kid` = `iss` = the integration's id, `aud`, `exp - iat` ≤ 5 min, clock skew) and then
 * claims its `jti`, once, until it expires: a replay is refused. Answers the integration's id
 * and the claims, for an adapter to read.
 *
 * @example
 * const verify = createSkudVerifier({ skud, clock, audience: skudAudience(origin), skewSec: 5, claimOnce });
 * const { skudId, payload } = await verify(jws);
 */
export function createSkudVerifier(deps: { skud: Pick<SkudStore, 'get'>; clock: Clock; audience: string; skewSec: number; claimOnce: (key: string, ttlSec: number) => Promise<boolean> }) {
  const verifyJws = createAgentJwsVerifier({
    agents: {
      async get(id) {
        const i = await deps.skud.get(id);
        return i && { id: i.id, name: i.name, status: 'approved', alg: i.alg, publicJwk: i.publicJwk, fingerprint: i.fingerprint };
      },
    },
    clock: deps.clock,
    audience: deps.audience,
    maxLifetimeSec: SKUD_MAX_LIFETIME_SEC,
    skewSec: deps.skewSec,
  });
  return async function verifySkudStatement(jws: string): Promise<{ skudId: string; payload: Record<string, unknown> }> {
    let verified;
    try {
      verified = await verifyJws(jws, SKUD_TYP, ['events']);
    } catch (err) {
      if (!(err instanceof CardRejectedError)) throw err;
      const reason: SkudRejectReason = err.reason === 'agent_unknown' ? 'skud_unknown' : (['bad_signature', 'statement_expired', 'wrong_audience'] as const).find((r) => r === err.reason) ?? 'bad_statement';
      throw new SkudRejectedError(reason, err.detail.agentId);
    }
    const { agent, payload } = verified;
    const ttlSec = Math.max(1, Math.ceil((payload.exp as number) - deps.clock.now() / 1000) + deps.skewSec);
    if (!(await deps.claimOnce(`skudjti:${agent.id}:${String(payload.jti)}`, ttlSec))) throw new SkudRejectedError('replayed_jti', agent.id);
    return { skudId: agent.id, payload };
  };
}

export type SkudVerifier = ReturnType<typeof createSkudVerifier>;
