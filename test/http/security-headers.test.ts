import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet, { type HelmetOptions } from 'helmet';
import { securityHeaders } from '../../src/http/security-headers';

const OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], scriptSrc: ["'self'"], frameAncestors: ["'none'"] } },
  strictTransportSecurity: true,
};

const freshResponse = () => new ServerResponse(new IncomingMessage(new Socket()));

/** The headers helmet's middleware leaves on a fresh response. */
function helmetHeaders(options: HelmetOptions): Record<string, unknown> {
  const res = freshResponse();
  let nexted = false;
  helmet(options)(res.req as never, res as never, (err?: unknown) => {
    if (err) throw err;
    nexted = true;
  });
  expect(nexted).toBe(true);
  return res.getHeaders();
}

/** The headers our setter leaves on a fresh response. */
function headersSetBy(set: (res: ServerResponse) => void): Record<string, unknown> {
  const res = freshResponse();
  set(res);
  return res.getHeaders();
}

describe('securityHeaders', () => {
  it('success: sets exactly the headers helmet sets with the same options', () => {
    const ours = headersSetBy(securityHeaders(OPTIONS));
    expect(ours).toEqual(helmetHeaders(OPTIONS));
    expect(ours['content-security-policy']).toBe("default-src 'none';script-src 'self';frame-ancestors 'none'");
    expect(ours['strict-transport-security']).toBeDefined();
    expect(ours['x-content-type-options']).toBe('nosniff');
  });

  it('success: extra headers are added after helmet\'s, so one of the same name wins', () => {
    const ours = headersSetBy(securityHeaders(OPTIONS, { 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' }));
    expect(helmetHeaders(OPTIONS)['x-frame-options']).toBe('SAMEORIGIN');
    expect(ours).toEqual({ ...helmetHeaders(OPTIONS), 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
  });

  it('TypeError at start-up for a CSP directive computed per request (a nonce)', () => {
    const perRequest = { contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-x'"] } } };
    expect(() => securityHeaders(perRequest)).toThrow(TypeError);
  });
});
