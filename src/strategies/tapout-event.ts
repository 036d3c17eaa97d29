import { EVENT_CLAIMS, EVENT_TYP, TAPOUT_EVT, TAPOUT_SIGNALS, type TapoutSignal } from '../contract/agent-statements';
import type { Uid } from '../contract/uid';
import { CardRejectedError, claimString, type AgentJwsVerifier } from './agent-jws';
import { uidClaim } from './card-statement';

const JTI_TTL_SEC = 600;

export interface TapoutEvent {
  agentId: string;
  uid: Uid;
  reader: string;
  signal: TapoutSignal;
  jti: string;
}

/**
 * Verifies a `card.tapout` event: the agent JWS checks, `evt`, a known
 * `signal`, a well-formed `uid`, and a `jti` never seen before (single use,
 * across nodes, through `claimOnce`).
 *
 * @example
 * const verifyTapout = createTapoutVerifier(verifyAgentJws, (key, ttl) => once(key, ttl));
 */
export function createTapoutVerifier(verifyAgentJws: AgentJwsVerifier, claimOnce: (key: string, ttlSec: number) => Promise<boolean>) {
  return async (jws: string): Promise<TapoutEvent> => {
    const { agent, payload } = await verifyAgentJws(jws, EVENT_TYP, EVENT_CLAIMS);
    const { evt, reader, signal, uid, jti } = payload;
    const detail = { agentId: agent.id, ...(claimString(reader, 128) ? { reader } : {}) };
    if (evt !== TAPOUT_EVT || !claimString(reader, 128) || !TAPOUT_SIGNALS.includes(signal as TapoutSignal)) {
      throw new CardRejectedError('bad_statement', detail);
    }
    const normalised = uidClaim(uid, detail);
    // An event outlives its jti record never: exp - iat ≤ the max lifetime, plus skew.
    if (!(await claimOnce(`jti:${agent.id}:${String(jti)}`, JTI_TTL_SEC))) throw new CardRejectedError('replayed_nonce', { ...detail, uid: normalised });
    return { agentId: agent.id, uid: normalised, reader, signal: signal as TapoutSignal, jti: String(jti) };
  };
}
