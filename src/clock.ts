/**
 * The source of time. Injected everywhere so tests can freeze it.
 *
 * @example
 * const clock: Clock = { now: () => Date.parse('2026-01-01T00:00:00Z') };
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, UTC. */
  now(): number;
}

/** The server's own clock (РСБ.3: UTC with milliseconds). */
export const systemClock: Clock = { now: () => Date.now() };
