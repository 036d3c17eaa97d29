import { STATEMENT_CLAIMS, STATEMENT_TYP, type DESK_STATEMENT_TYP } from '../contract/agent-statements';
import { isCardauthError } from '../errors';
import { normaliseUid, type Uid } from '../contract/uid';
import { CardRejectedError, claimString, type AgentJwsVerifier } from './agent-jws';

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

/**
 * Normalises a UID claim; a bad one is a CardRejectedError with the uid_*
 * reason, keeping what was claimed (cut short) for the audit.
 */
export function uidClaim(uid: unknown, detail: { agentId: string; reader?: string; nonce?: string }): Uid {
  if (typeof uid !== 'string') throw new CardRejectedError('bad_statement', detail);
  try {
    return normaliseUid(uid);
  } catch (err) {
    if (isCardauthError(err) && (err.code === 'uid_malformed' || err.code === 'uid_length' || err.code === 'uid_random')) {
      throw new CardRejectedError(err.code, { ...detail, uid: uid.slice(0, 40) });
    }
    throw err;
  }
}

/**
 * The verifier for card statements: the agent JWS checks, then `nonce`,
 * `reader` and a well-formed `uid`. `after`: see AgentJwsVerifier.
 *
 * @example
 * const verify = createStatementVerifier(createAgentJwsVerifier({ agents, clock, audience, maxLifetimeSec: 30, skewSec: 5 }));
 * const st = await verify(jws); // throws CardRejectedError
 */
export function createStatementVerifier(
  verifyAgentJws: AgentJwsVerifier,
  typ: typeof STATEMENT_TYP | typeof DESK_STATEMENT_TYP = STATEMENT_TYP,
): (jws: string, after?: Promise<unknown>) => Promise<CardStatement> {
  return async (jws, after) => {
    const { agent, payload } = await verifyAgentJws(jws, typ, STATEMENT_CLAIMS, after);
    const { nonce, uid, reader } = payload;
    const detail = { agentId: agent.id, ...(claimString(reader, 128) ? { reader } : {}) };
    if (!claimString(nonce, 128) || !claimString(reader, 128)) throw new CardRejectedError('bad_statement', detail);
    return {
      agentId: agent.id,
      workstation: agent.name,
      // The nonce travels with a uid_* refusal, so the card step can still use it up.
      uid: uidClaim(uid, { ...detail, nonce }),
      reader,
      nonce,
      jti: payload.jti as string,
      iat: payload.iat as number,
      exp: payload.exp as number,
    };
  };
}
