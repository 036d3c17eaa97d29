import type { ErrorRequestHandler, Response } from 'express';
import { CardauthError } from './errors';
import { errorMessage, type Logger } from './logger';

/** Sends `{"error":{"code","message"}}` (and a 4xx's own `answer` fields) with the error's status. */
export function sendError(res: Response, err: CardauthError): void {
  const body: Record<string, unknown> = { ...(err.expose ? err.answer : {}), code: err.code, message: err.expose ? err.message : 'service temporarily unavailable' };
  if (err.retryAfterMs !== undefined) {
    const retryAfterSec = Math.ceil(err.retryAfterMs / 1000);
    body.retryAfterSec = retryAfterSec;
    res.setHeader('Retry-After', String(retryAfterSec));
  }
  if (err.status === 503) res.setHeader('Retry-After', '5');
  res.status(err.status).json({ error: body });
}

/** A body over the 16 KB limit, whoever finds it: the app's Content-Length check or the JSON parser. */
export const bodyTooLarge = (): CardauthError => new CardauthError('body_too_large', 'request body too large (16 KB at most)');

/**
 * What a library reports as the client's fault: body-parser's error types,
 * and any other 4xx `status` (serve-static's missing file or refused path,
 * the router's undecodable URL, a body that does not decompress).
 */
function fromLibrary(err: unknown): CardauthError | undefined {
  const e = err as { type?: unknown; status?: unknown } | null;
  if (e?.type === 'entity.too.large') return bodyTooLarge();
  if (e?.type === 'entity.parse.failed' || e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new CardauthError('bad_request', 'request body is not valid JSON');
  }
  const status = e?.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (status === 404) return new CardauthError('not_found', 'no such resource');
  if (status === 403) return new CardauthError('forbidden', 'not allowed');
  if (status === 413) return bodyTooLarge();
  return new CardauthError('bad_request', 'malformed request');
}

/**
 * The last middleware. Typed errors, and a library's 4xx, answer with their
 * code and are not logged as failures; anything else is an infrastructure
 * failure (Redis, audit): logged without the request body and answered 503,
 * so the login fails closed. Never a stack trace.
 */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const typed = err instanceof CardauthError ? err : fromLibrary(err);
    if (typed && typed.status < 500) {
      sendError(res, typed);
      return;
    }
    logger.error('request_failed', { method: req.method, path: req.path, code: typed?.code ?? 'unavailable', err: errorMessage(typed?.cause ?? err) });
    if (res.headersSent) {
      res.end();
      return;
    }
    sendError(res, typed ?? new CardauthError('unavailable', 'service temporarily unavailable'));
  };
}
