/**
 * Days as people write them, `YYYY-MM-DD`, read as UTC: the one check that a day exists, shared
 * by the auditor's filter and chart, the cards page's expiry and `timeParam` (a date or a time
 * with its offset: `card bind --expires`, `audit list --since`, `GET /admin/api/audit`).
 */

/** One day in ms. */
export const DAY_MS = 86_400_000;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * `YYYY-MM-DD` as ms at 00:00 UTC, or undefined when it is no such day (Date.UTC would roll
 * 2026-02-30 over into March: refused instead).
 *
 * @example
 * parseDay('2026-12-04') // => 1796342400000
 * parseDay('2026-02-30') // => undefined
 */
export function parseDay(s: string): number | undefined {
  const m = DAY.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === s ? ms : undefined;
}

/**
 * ms as `YYYY-MM-DD` (UTC).
 *
 * @example
 * dayOf(1796342400000) // => '2026-12-04'
 */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
