import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet, { type HelmetOptions } from 'helmet';
import { securityHeaders } from '../../src/http/security-headers';

const OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], scriptSrc: ["'self'"], frameAncestors: ["'none'"] } },
  strictTransportSecurity: true,
};

/** The headers a middleware leaves on a fresh response. */
function headersAfter(mw: (req: never, res: never, next: (err?: unknown) => void) => void): Record<string, unknown> {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);
  let nexted = false;
  mw(req as never, res as never, (err) => {
    if (err) throw err;
    nexted = true;
  });
  expect(nexted).toBe(true);
  return res.getHeaders();
}

describe('securityHeaders', () => {
  it('success: sets exactly the headers helmet sets with the same options', () => {
    const ours = headersAfter(securityHeaders(OPTIONS));
    expect(ours).toEqual(headersAfter(helmet(OPTIONS)));
    expect(ours['content-security-policy']).toBe("default-src 'none';script-src 'self';frame-ancestors 'none'");
    expect(ours['strict-transport-security']).toBeDefined();
    expect(ours['x-content-type-options']).toBe('nosniff');
  });

  it('TypeError at start-up for a CSP directive computed per request (a nonce)', () => {
    const perRequest = { contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-x'"] } } };
    expect(() => securityHeaders(perRequest)).toThrow(TypeError);
  });
});
