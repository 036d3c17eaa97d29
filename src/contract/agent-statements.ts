/**
 * What a workstation agent signs and the server verifies: the header and
 * claims of its compact JWS statements (docs/card-statement.md). The agent
 * signs with these (src/card-agent/sign-statement.ts), the server checks
 * against them (src/strategies/agent-jws.ts, card-statement.ts,
 * tapout-event.ts); neither side spells them out itself.
 *
 * @example
 * new SignJWT({ nonce, uid, reader }).setProtectedHeader({ alg: 'EdDSA', kid: agentId, typ: STATEMENT_TYP });
 */

/** Explicit allow-list: never `none`, never HMAC (a public key used as a secret). */
export const STATEMENT_ALGS = ['EdDSA', 'ES256'] as const;
export type StatementAlg = (typeof STATEMENT_ALGS)[number];

/** `typ` of a card statement: one card read bound to one login nonce. */
export const STATEMENT_TYP = 'cardauth-card+jwt';
/**
 * `typ` of a desk read: a card read at a security officer's desk reader to bind it (the cards
 * page, `POST /admin/api/cards/desk-read`). Same claims as a card statement; never a login: the
 * card step takes only STATEMENT_TYP, and the desk read only this.
 */
export const DESK_STATEMENT_TYP = 'cardauth-desk+jwt';
/** The claims a card statement (or a desk read) carries besides `iss`, `aud`, `iat`, `exp` and `jti`. */
export const STATEMENT_CLAIMS = ['nonce', 'uid', 'reader'] as const;

/** `typ` of an event statement (docs/card-statement.md, "Events"). */
export const EVENT_TYP = 'cardauth-event+jwt';
/** The claims an event statement carries besides `iss`, `aud`, `iat`, `exp` and `jti`. */
export const EVENT_CLAIMS = ['evt', 'uid', 'reader', 'signal'] as const;
/** `evt` of the one event there is: the card's holder is done at this workstation. */
export const TAPOUT_EVT = 'card.tapout';
export const TAPOUT_SIGNALS = ['tap', 'removed', 'switch'] as const;
/** What the agent saw: the same card tapped again, a contact card removed, or another card tapped. */
export type TapoutSignal = (typeof TAPOUT_SIGNALS)[number];
