const FORMAT = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Moscow', year: 'numeric', month: '2-digit', day: '2-digit' });

/**
 * The Moscow calendar day (Europe/Moscow) of an instant, as `YYYY-MM-DD`: the "today" of the
 * presence gate, whatever the server's own time zone.
 *
 * @example
 * moscowDay(Date.parse('2026-12-04T21:30:00Z')) // => '2026-12-05'
 */
export function moscowDay(ms: number): string {
  return FORMAT.format(new Date(ms));
}
