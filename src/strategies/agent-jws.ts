import { decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify } from 'jose';
// Type-only and `resolution-mode: import`: jose is ESM-only, and these types reach the public .d.ts,
// which a CommonJS host under `module: node16` type-checks too.
import type { CryptoKey, JWK, JWTPayload } from 'jose' with { 'resolution-mode': 'import' };
import type { Clock } from '../clock';
import { STATEMENT_ALGS, type StatementAlg } from '../contract/agent-statements';
import { CardauthError } from '../errors';

/** Why a signed statement from an agent was refused; recorded in the audit, never shown to the user. */
export type StatementRejectReason =
  | 'bad_statement'
  | 'bad_signature'
  | 'statement_expired'
  | 'wrong_audience'
  | 'replayed_nonce'
  | 'agent_unknown'
  | 'agent_not_approved'
  | 'agent_suspended'
  | 'uid_malformed'
  | 'uid_length'
  | 'uid_random'
  | 'unknown_card'
  | 'revoked_card'
  | 'expired_card'
  | 'card_locked'
  | 'workstation_mismatch';

/**
 * A refused agent statement. The client always sees the one generic
 * `card_rejected`; `reason` goes to the audit. `detail` is what could be read
 * before the refusal, for the audit record.
 */
export class CardRejectedError extends CardauthError {
  constructor(
    readonly reason: StatementRejectReason,
    /**
     * `nonce`: only of a statement whose signature passed; never audited.
     * `fresh`: the refusal used up a fresh login nonce of this session, so it
     * needed a card at a reader now (the card step sets it); a refusal without
     * it is one that anyone holding an old statement, or none, can repeat.
     * `workstation`: the agent's, on an unknown card (a self-enrollment candidate, see self-enroll.ts).
     */
    readonly detail: { agentId?: string; uid?: string; reader?: string; nonce?: string; fresh?: true; workstation?: string } = {},
  ) {
    super('card_rejected', 'card not accepted');
  }
}

/**
 * The audit fields of a refused statement: the request's source plus what
 * could be read of the statement (agent, reader, claimed UID).
 *
 * @example
 * await audit.append({ type: 'card.presented', outcome: 'failure', reason: err.reason, ...rejectionAudit(err, source) });
 */
export function rejectionAudit(err: CardRejectedError, source: { ip: string; userAgent?: string }) {
  const { agentId, reader, uid } = err.detail;
  return {
    source: { ...source, ...(agentId ? { agentId } : {}), ...(reader ? { reader } : {}) },
    ...(uid ? { cardUid: uid } : {}),
  };
}

/** What the verifier needs to know of an agent. */
export interface StatementAgent {
  id: string;
  /** Workstation name, shown as where a login happened. */
  name: string;
  status: 'pending' | 'approved' | 'suspended' | 'revoked';
  alg: StatementAlg;
  publicJwk: JWK;
  /** RFC 7638 thumbprint, what an officer compares before approving. */
  fingerprint: string;
}
export interface AgentLookup {
  get(id: string): Promise<StatementAgent | null>;
}

export interface AgentJwsOptions {
  agents: AgentLookup;
  clock: Clock;
  /** This server's public origin; `aud` must equal it. */
  audience: string;
  maxLifetimeSec: number;
  skewSec: number;
}

const MAX_JWS_LENGTH = 4096;
export const claimString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

function reasonFromJose(err: unknown): StatementRejectReason {
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof joseErrors.JWTExpired) return 'statement_expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'wrong_audience';
    if (err.claim === 'iat' || err.claim === 'nbf' || err.claim === 'exp') return 'statement_expired';
  }
  return 'bad_statement';
}

/**
 * Verifies a compact JWS signed by a workstation agent, for any statement
 * type (`typ`). In order: the header (`typ`, allow-listed `alg`, `kid`), that
 * `kid` names an approved agent whose key verifies the signature with that
 * agent's own algorithm, `iss` = `kid`, `aud`, freshness (`exp - iat` ≤
 * maxLifetimeSec, skew tolerated both ways) and the required claims.
 * Refusals are CardRejectedError with a reason for the audit.
 *
 * @example
 * const verifyAgentJws = createAgentJwsVerifier({ agents, clock, audience, maxLifetimeSec: 30, skewSec: 5 });
 * const { agent, payload } = await verifyAgentJws(jws, 'cardauth-card+jwt', ['nonce', 'uid', 'reader']);
 */
export function createAgentJwsVerifier(opts: AgentJwsOptions) {
  const { agents, clock, audience, maxLifetimeSec, skewSec } = opts;
  const keys = new Map<string, { jwk: string; key: CryptoKey | Uint8Array }>();

  const keyFor = async (agent: StatementAgent) => {
    const jwk = JSON.stringify(agent.publicJwk);
    const cached = keys.get(agent.id);
    if (cached && cached.jwk === jwk) return cached.key;
    const key = await importJWK(agent.publicJwk, agent.alg);
    if (keys.size > 10_000) keys.clear();
    keys.set(agent.id, { jwk, key });
    return key;
  };

  return async function verifyAgentJws(
    jws: unknown,
    typ: string,
    claims: readonly string[],
    /**
     * A caller's own check, read in the same round trip as the agent (the card step's IP
     * gate): awaited once the agent is read, before the signature and claims are judged, so
     * nothing of a statement is verified unless it passes; its rejection is this call's.
     */
    after?: Promise<unknown>,
  ): Promise<{ agent: StatementAgent; payload: JWTPayload & Record<string, unknown> }> {
    if (typeof jws !== 'string' || jws.length > MAX_JWS_LENGTH) throw new CardRejectedError('bad_statement');
    let header;
    try {
      header = decodeProtectedHeader(jws);
    } catch {
      throw new CardRejectedError('bad_statement');
    }
    const kid = header.kid;
    if (header.typ !== typ || !STATEMENT_ALGS.includes(header.alg as StatementAlg) || !claimString(kid, 64)) {
      throw new CardRejectedError('bad_statement', claimString(kid, 64) ? { agentId: kid } : {});
    }
    const agent = await agents.get(kid);
    await after;
    if (!agent) throw new CardRejectedError('agent_unknown', { agentId: kid });
    if (agent.status === 'suspended') throw new CardRejectedError('agent_suspended', { agentId: kid });
    if (agent.status !== 'approved') throw new CardRejectedError('agent_not_approved', { agentId: kid });
    if (header.alg !== agent.alg) throw new CardRejectedError('bad_statement', { agentId: kid });

    let payload;
    try {
      ({ payload } = await jwtVerify(jws, await keyFor(agent), {
        algorithms: [agent.alg],
        typ,
        audience,
        issuer: agent.id,
        currentDate: new Date(clock.now()),
        clockTolerance: skewSec,
        requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', ...claims],
      }));
    } catch (err) {
      throw new CardRejectedError(reasonFromJose(err), { agentId: kid });
    }
    const { iat, exp, jti } = payload;
    if (typeof iat !== 'number' || typeof exp !== 'number' || !claimString(jti, 128)) throw new CardRejectedError('bad_statement', { agentId: kid });
    const nowSec = clock.now() / 1000;
    if (exp - iat > maxLifetimeSec || exp <= iat || iat > nowSec + skewSec) throw new CardRejectedError('statement_expired', { agentId: kid });
    return { agent, payload: payload as JWTPayload & Record<string, unknown> };
  };
}

export type AgentJwsVerifier = ReturnType<typeof createAgentJwsVerifier>;
