import type { ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's security headers, set in one step. helmet runs one small
 * middleware per header on every answer; with options that do not depend on
 * the request they set the same values every time. So helmet is run once, at
 * start-up, against a recorder, and every answer gets that list, plus
 * `extra` headers (e.g. `Cache-Control`), in one loop: the same headers,
 * less work per request. A CSP directive given as a function (a per-request
 * value such as a nonce) is a `TypeError`: use helmet itself for that.
 *
 * @example
 * const setHeaders = securityHeaders({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"] } } }, { 'Cache-Control': 'no-store' });
 * app.use((req, res, next) => { setHeaders(res); next(); });
 */
export function securityHeaders(options: Readonly<HelmetOptions>, extra: Readonly<Record<string, string>> = {}): (res: ServerResponse) => void {
  const csp = options.contentSecurityPolicy;
  const directives: Record<string, unknown> = (typeof csp === 'object' && csp?.directives) || {};
  for (const [name, value] of Object.entries(directives)) {
    if ((Array.isArray(value) ? value : [value]).some((v) => typeof v === 'function')) {
      throw new TypeError(`securityHeaders: the CSP directive ${name} is computed per request; use helmet() for it`);
    }
  }
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
  };
  let finished = false;
  helmet(options)({} as never, recorder as never, (err?: unknown) => {
    if (err) throw err;
    finished = true;
  });
  if (!finished) throw new TypeError('securityHeaders: helmet did not finish at start-up with these options');
  const list = [...headers, ...Object.entries(extra)];
  return (res) => {
    for (const [name, value] of list) res.setHeader(name, value);
  };
}
