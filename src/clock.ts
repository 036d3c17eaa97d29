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

/**
 * A time for people: ISO 8601 UTC to the second.
 *
 * @example
 * isoTime(Date.parse('2026-03-02T08:00:00.123Z')) // => '2026-03-02T08:00:00Z'
 */
export function isoTime(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
