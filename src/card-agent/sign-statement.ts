import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
// Type-only and `resolution-mode: import`: jose is ESM-only, and these types reach the public .d.ts,
// which a CommonJS host under `module: node16` type-checks too.
import type { CryptoKey, KeyObject } from 'jose' with { 'resolution-mode': 'import' };
import type { Clock } from '../clock';
import { DESK_STATEMENT_TYP, EVENT_TYP, STATEMENT_TYP, TAPOUT_EVT, type StatementAlg, type TapoutSignal } from '../contract/agent-statements';

export interface StatementSigningKey {
  agentId: string;
  alg: StatementAlg;
  privateKey: CryptoKey | KeyObject | Uint8Array;
}

export interface StatementClaims {
  aud: string;
  nonce: string;
  uid: string;
  reader: string;
  /** Lifetime in seconds; the contract allows at most 30. */
  lifetimeSec?: number;
  /** A desk read (`typ` DESK_STATEMENT_TYP): the officer binds the card; it cannot log anyone in. */
  desk?: boolean;
}

/** Signs an agent JWS of type `typ`: `iss` = `kid` = the agent id, `aud`, `iat`, `exp` (≤ 30 s), a fresh `jti`. */
function signAgentJwt(key: StatementSigningKey, typ: string, payload: Record<string, string>, aud: string, lifetimeSec: number, clock: Clock): Promise<string> {
  const iat = Math.floor(clock.now() / 1000);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.agentId, typ })
    .setIssuer(key.agentId)
    .setAudience(aud)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeSec)
    .setJti(randomUUID())
    .sign(key.privateKey);
}


/**
 * Signs a card statement exactly as docs/card-statement.md says:
 * header `{alg, kid: agentId, typ: "cardauth-card+jwt"}`, payload
 * `{iss, aud, nonce, uid, reader, iat, exp, jti}`.
 *
 * @example
 * const jws = await signStatement(key, { aud: 'https://mis.example.ru', nonce, uid: '04A22BB25C6180', reader: 'ACR122U 00 00' }, systemClock);
 */
export async function signStatement(key: StatementSigningKey, claims: StatementClaims, clock: Clock): Promise<string> {
  return signAgentJwt(key, claims.desk ? DESK_STATEMENT_TYP : STATEMENT_TYP, { nonce: claims.nonce, uid: claims.uid, reader: claims.reader }, claims.aud, claims.lifetimeSec ?? 30, clock);
}

/**
 * Signs a `card.tapout` event (docs/card-statement.md, "Events"): header
 * `{alg, kid, typ: "cardauth-event+jwt"}`, payload
 * `{iss, aud, evt: "card.tapout", uid, reader, signal, iat, exp, jti}`.
 *
 * @example
 * await signTapout(key, { aud: server, uid, reader, signal: 'tap' }, systemClock);
 */
export async function signTapout(
  key: StatementSigningKey,
  claims: { aud: string; uid: string; reader: string; signal: TapoutSignal; lifetimeSec?: number },
  clock: Clock,
): Promise<string> {
  return signAgentJwt(key, EVENT_TYP, { evt: TAPOUT_EVT, uid: claims.uid, reader: claims.reader, signal: claims.signal }, claims.aud, claims.lifetimeSec ?? 30, clock);
}
