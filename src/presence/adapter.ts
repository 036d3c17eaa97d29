/** Which way a person went through an access-control point. */
export type Direction = 'entry' | 'exit';

/** One pass through an access-control point, as cardauth keeps it. */
export interface PresenceEvent {
  /** The cardauth account login of the person. */
  login: string;
  direction: Direction;
  /** ms since epoch: when the person passed. */
  at: number;
  /** The door or checkpoint, for the audit. */
  door: string;
}

/**
 * Turns a vendor's payload (the claims of a verified statement from an access-control system)
 * into cardauth's events. A payload it cannot read throws `CardauthError('bad_request')`.
 * One adapter per vendor format; the generic JSON webhook (generic-json.ts) is the first.
 *
 * @example
 * const events = genericJsonAdapter.events(payload);
 */
export interface PresenceAdapter {
  readonly name: string;
  events(payload: Record<string, unknown>): PresenceEvent[];
}
