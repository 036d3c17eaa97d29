import { ERROR_STATUS, type ErrorCode } from './contract/error-codes';

export type { ErrorCode } from './contract/error-codes';

/**
 * Typed errors. Every error that crosses a module boundary carries a stable
 * `code` (src/contract/error-codes.ts: the codes both programs send over the
 * wire); tests and HTTP clients rely on the code, never on the message text.
 *
 * - `status` is the HTTP status the error maps to.
 * - `expose` says whether `message` may be shown to the client as is.
 * - `retryAfterMs`, when set, is how long the client should wait (the error
 *   answer carries it as `retryAfterSec` and `Retry-After`).
 *
 * @example
 * throw new CardauthError('uid_random', 'random (changing) UID cannot identify a card');
 */
export class CardauthError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly retryAfterMs?: number;
  /** More of the answer for the client, beside `code` and `message` (a 4xx only), e.g. `session_limit`'s `sessions`. */
  readonly answer?: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterMs?: number; answer?: Record<string, unknown> }) {
    super(message, options);
    this.name = 'CardauthError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.expose = this.status < 500;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options?.answer !== undefined) this.answer = options.answer;
  }
}

/** True when `err` is a CardauthError, optionally with the given code. */
export function isCardauthError(err: unknown, code?: ErrorCode): err is CardauthError {
  return err instanceof CardauthError && (code === undefined || err.code === code);
}

/**
 * Runs a Redis call and turns an infrastructure failure (connection lost,
 * timeout, script error) into `CardauthError('unavailable')`, so callers fail
 * closed with a 503 and never mistake an outage for a denial. A CardauthError
 * passes through as it is.
 *
 * @example
 * const raw = await guard(redis.hgetall('acct:acc_0123456789abcdef'));
 */
export function guard<T>(p: Promise<T>, what = 'store'): Promise<T> {
  return failClosed(p, 'unavailable', `${what} unavailable`);
}

/**
 * `guard` for the audit trail's Redis calls: a failure becomes
 * `CardauthError('audit_unavailable', message)` (a 503), with the failure as its cause.
 *
 * @example
 * const entries = await guardAudit(redis.xrange('audit:log', '-', '+'), 'cannot read the audit trail');
 */
export function guardAudit<T>(p: Promise<T>, message: string): Promise<T> {
  return failClosed(p, 'audit_unavailable', message);
}

async function failClosed<T>(p: Promise<T>, code: 'unavailable' | 'audit_unavailable', message: string): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (isCardauthError(e)) throw e;
    throw new CardauthError(code, message, { cause: e });
  }
}
