/**
 * A structured logger: one JSON line per event. Injected everywhere; never
 * handed a request body or a password.
 *
 * @example
 * const logger = createJsonLogger(process.stderr);
 * logger.warn('redis_down', { err: 'ECONNREFUSED' });
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

export function createJsonLogger(out: { write(s: string): unknown }, now: () => number = Date.now): Logger {
  const line = (level: string) => (event: string, fields: Record<string, unknown> = {}) => {
    out.write(`${JSON.stringify({ ts: new Date(now()).toISOString(), level, event, ...fields })}\n`);
  };
  return { info: line('info'), warn: line('warn'), error: line('error') };
}

/** A logger that drops everything (tests that do not read logs). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** The message of an error, for a log line; never its stack. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
