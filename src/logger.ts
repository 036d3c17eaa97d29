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

/**
 * An error's message followed by its innermost cause, on one line: what went
 * wrong and why, never a stack.
 *
 * @example
 * explain(new CardauthError('unavailable', 'store unavailable', { cause: new Error('Connection is closed.') }))
 * // => 'store unavailable (Error: Connection is closed.)'
 */
export function explain(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  let root: unknown = err;
  for (let depth = 0; depth < 8 && root instanceof Error && root.cause !== undefined; depth++) root = root.cause;
  const text = root === err || (root instanceof Error && message.includes(root.message)) ? message : `${message} (${errorMessage(root)})`;
  return text.split('\n')[0] as string;
}
