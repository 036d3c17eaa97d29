import { decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../clock';
import { CardauthError, isCardauthError } from '../errors';
import { normaliseUid, type Uid } from '../policy/uid';

/**
 * The card statement: a compact JWS that a workstation agent signs for one
 * card read bound to one login nonce. The contract is in docs/card-statement.md.
 */
export const STATEMENT_TYP = 'cardauth-card+jwt';
/** Explicit allow-list: never `none`, never HMAC (a public key used as a secret). */
export const STATEMENT_ALGS = ['EdDSA', 'ES256'] as const;
export type StatementAlg = (typeof STATEMENT_ALGS)[number];

/** Why a card step was refused; recorded in the audit, never shown to the user. */
export type CardRejectReason =
  | 'bad_statement'
  | 'bad_signature'
  | 'statement_expired'
  | 'wrong_audience'
  | 'replayed_nonce'
  | 'agent_unknown'
  | 'agent_not_approved'
  | 'uid_malformed'
  | 'uid_length'
  | 'uid_random'
  | 'unknown_card'
  | 'revoked_card';

/**
 * A refused card step. The client always sees the one generic `card_rejected`;
 * `reason` goes to the audit. `agentId`/`uid` are what could be read before
 * the refusal, for the audit record.
 */
export class CardRejectedError extends CardauthError {
  constructor(
    readonly reason: CardRejectReason,
    readonly detail: { agentId?: string; uid?: string; reader?: string } = {},
  ) {
    super('card_rejected', 'card not accepted');
  }
}

/** What the verifier needs to know of an agent. */
export interface StatementAgent {
  id: string;
  /** Workstation name, shown as where a login happened. */
  name: string;
  status: 'pending' | 'approved' | 'revoked';
  alg: StatementAlg;
  publicJwk: JWK;
}
export interface AgentLookup {
  get(id: string): Promise<StatementAgent | null>;
}

/** A verified statement. The nonce is not yet consumed: that is the card step's job. */
export interface CardStatement {
  agentId: string;
  workstation: string;
  uid: Uid;
  reader: string;
  nonce: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface StatementVerifierOptions {
  agents: AgentLookup;
  clock: Clock;
  /** This server's public origin; `aud` must equal it. */
  audience: string;
  maxLifetimeSec: number;
  skewSec: number;
}

const MAX_STATEMENT_LENGTH = 4096;
const claimString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

function reasonFromJose(err: unknown): CardRejectReason {
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof joseErrors.JWTExpired) return 'statement_expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'wrong_audience';
    if (err.claim === 'iat' || err.claim === 'nbf' || err.claim === 'exp') return 'statement_expired';
  }
  return 'bad_statement';
}

/**
 * Builds the verifier for card statements. It checks, in order: the header
 * (`typ`, allow-listed `alg`, `kid`), that `kid` names an approved agent whose
 * key verifies the signature with that agent's own algorithm, `iss` = `kid`,
 * `aud`, freshness (`exp - iat` ≤ maxLifetimeSec, skew tolerated both ways),
 * required claims, and a well-formed UID.
 *
 * @example
 * const verify = createStatementVerifier({ agents, clock, audience: 'https://mis.example.ru', maxLifetimeSec: 30, skewSec: 5 });
 * const st = await verify(jws); // throws CardRejectedError
 */
export function createStatementVerifier(opts: StatementVerifierOptions): (jws: string) => Promise<CardStatement> {
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

  return async (jws) => {
    if (typeof jws !== 'string' || jws.length > MAX_STATEMENT_LENGTH) throw new CardRejectedError('bad_statement');
    let header;
    try {
      header = decodeProtectedHeader(jws);
    } catch {
      throw new CardRejectedError('bad_statement');
    }
    const kid = header.kid;
    if (header.typ !== STATEMENT_TYP || !STATEMENT_ALGS.includes(header.alg as StatementAlg) || !claimString(kid, 64)) {
      throw new CardRejectedError('bad_statement', claimString(kid, 64) ? { agentId: kid } : {});
    }
    const agent = await agents.get(kid);
    if (!agent) throw new CardRejectedError('agent_unknown', { agentId: kid });
    if (agent.status !== 'approved') throw new CardRejectedError('agent_not_approved', { agentId: kid });
    if (header.alg !== agent.alg) throw new CardRejectedError('bad_statement', { agentId: kid });

    let payload;
    try {
      ({ payload } = await jwtVerify(jws, await keyFor(agent), {
        algorithms: [agent.alg],
        typ: STATEMENT_TYP,
        audience,
        issuer: agent.id,
        currentDate: new Date(clock.now()),
        clockTolerance: skewSec,
        requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', 'nonce', 'uid', 'reader'],
      }));
    } catch (err) {
      throw new CardRejectedError(reasonFromJose(err), { agentId: kid });
    }
    const { iat, exp, jti, nonce, uid, reader } = payload as Record<string, unknown>;
    const detail = { agentId: kid, ...(claimString(reader, 128) ? { reader } : {}) };
    if (typeof iat !== 'number' || typeof exp !== 'number') throw new CardRejectedError('bad_statement', detail);
    const nowSec = clock.now() / 1000;
    if (exp - iat > maxLifetimeSec || exp <= iat || iat > nowSec + skewSec) throw new CardRejectedError('statement_expired', detail);
    if (!claimString(jti, 128) || !claimString(nonce, 128) || !claimString(reader, 128) || typeof uid !== 'string') {
      throw new CardRejectedError('bad_statement', detail);
    }
    let normalised: Uid;
    try {
      normalised = normaliseUid(uid);
    } catch (err) {
      if (isCardauthError(err) && (err.code === 'uid_malformed' || err.code === 'uid_length' || err.code === 'uid_random')) {
        throw new CardRejectedError(err.code, { ...detail, uid: uid.slice(0, 40) });
      }
      throw err;
    }
    return { agentId: kid, workstation: agent.name, uid: normalised, reader, nonce, jti, iat, exp };
  };
}
