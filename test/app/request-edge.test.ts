import { suiteServer, TestClient, type TestServer } from '../helpers/app';

describe('the request edge', () => {
  let srv: TestServer;
  suiteServer({}, async (s) => {
    srv = s;
  });

  const noStack = (text: string) => {
    expect(text).not.toMatch(/\n\s+at /);
    expect(text).not.toMatch(/node_modules|\/src\//);
  };

  it.each([
    ['an object for login (login[$ne]= style)', { login: { $ne: 1 }, password: 'x' }],
    ['an array for password', { login: 'a', password: ['x'] }],
    ['a number for login', { login: 42, password: 'x' }],
    ['a missing password', { login: 'a' }],
    ['an unknown extra field', { login: 'a', password: 'x', admin: true }],
    ['an overlong login', { login: 'a'.repeat(65), password: 'x' }],
  ])('%s gets 400 bad_request', async (_name, body) => {
    const res = await srv.client().post('/auth/password', body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('bad_request');
    noStack(res.text);
  });

  it('a non-string statement gets 400', async () => {
    const res = await srv.client().post('/auth/card', { statement: { alg: 'none' } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('bad_request');
  });

  it('invalid JSON gets 400', async () => {
    const res = await srv.client().post('/auth/password', '{"login":');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('bad_request');
    noStack(res.text);
  });

  it('a body over 16 KB gets 413', async () => {
    const res = await srv.client().post('/auth/password', { login: 'a', password: 'x'.repeat(17 * 1024) });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('body_too_large');
    noStack(res.text);
  });

  it.each([
    ['text/plain', 'x'.repeat(20 * 1024)],
    ['application/x-www-form-urlencoded', `login=a&password=${'x'.repeat(20 * 1024)}`],
  ])('a body over 16 KB sent as %s gets 413 too', async (type, body) => {
    const res = await srv.client().post('/auth/password', body, { 'content-type': type });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('body_too_large');
    noStack(res.text);
  });

  it('a form-encoded body is not parsed and gets 400', async () => {
    const res = await srv.client().post('/auth/password', 'login[$ne]=1&password=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(400);
  });

  it('a missing Origin gets 403', async () => {
    const c = new TestClient(srv.url, null);
    const res = await c.post('/auth/nonce');
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('origin_forbidden');
  });

  it('a foreign Origin gets 403', async () => {
    const c = new TestClient(srv.url, 'https://evil.example');
    const res = await c.post('/auth/password', { login: 'a', password: 'b' });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('origin_forbidden');
  });

  it('session and logout need a session', async () => {
    expect((await srv.client().get('/auth/session')).json.error.code).toBe('unauthenticated');
    const logout = await srv.client().post('/auth/logout');
    expect(logout.status).toBe(401);
    expect(logout.json.error.code).toBe('unauthenticated');
  });

  it('an unknown path gets a JSON 404', async () => {
    const res = await srv.client().get('/nowhere');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('not_found');
  });

  it.each([
    ['a missing asset', '/assets/nope.js', 404, 'not_found'],
    ['a path escaping the assets folder', '/assets/%2e%2e%2fapp.ts', 403, 'forbidden'],
    ['an undecodable URL parameter', '/agents/%E0/status', 400, 'bad_request'],
  ])('%s (%s) is the client\'s fault: %d %s, never a 503', async (_what, path, status, code) => {
    const res = await srv.client().get(path);
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    noStack(res.text);
  });

  it('health and readiness answer', async () => {
    expect((await srv.client().get('/healthz')).json).toEqual({ status: 'ok' });
    expect((await srv.client().get('/readyz')).json).toEqual({ status: 'ready' });
  });

  it('readiness answers 503 while the audit head is unreadable, and 200 once it is removed', async () => {
    const garbage = await srv.redis.xadd('audit:log', '*', 'r', 'garbage', 'h', 'x');
    const broken = await srv.client().get('/readyz');
    expect(broken.status).toBe(503);
    expect(broken.json.error.code).toBe('unavailable');
    noStack(broken.text);

    await srv.redis.xdel('audit:log', garbage!);
    const repaired = await srv.client().get('/readyz');
    expect(repaired.status).toBe(200);
    expect(repaired.json).toEqual({ status: 'ready' });
  });

  it('the login page is Russian by default, English on request, with a strict CSP', async () => {
    const ru = await srv.client().get('/login');
    expect(ru.status).toBe(200);
    expect(ru.text).toContain('Приложите карту к считывателю');
    expect(ru.text).toContain('<html lang="ru">');
    const csp = ru.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(ru.text).not.toMatch(/<script>(?!<)/); // no inline executable script
    expect(ru.text).not.toMatch(/ style="/);
    const en = await srv.client().get('/login?lang=en');
    expect(en.text).toContain('Place your card on the reader');
  });

  it('the login page only keeps a same-origin path as the redirect target', async () => {
    for (const bad of ['//evil.example/x', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)']) {
      const res = await srv.client().get(`/login?next=${encodeURIComponent(bad)}`);
      expect(res.text).toContain('data-next="/home"');
    }
    const ok = await srv.client().get(`/login?next=${encodeURIComponent('/home?tab=2')}`);
    expect(ok.text).toContain('data-next="/home?tab=2"');
  });

  it('the home page sends an anonymous visitor to the login page', async () => {
    const res = await srv.client().get('/home');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fhome');
  });
});

describe('security headers', () => {
  let srv: TestServer;
  suiteServer({}, async (s) => {
    srv = s;
  });

  it('JSON answers carry a deny-all CSP, nosniff, CORP, no referrer, no-store and no ETag', async () => {
    const res = await srv.client().get('/auth/session');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('pages carry the full set, with scripts and styles only from the origin', async () => {
    const res = await srv.client().get('/login');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    // A browser sends a same-origin form POST (the workbench's) with its Origin only under a policy
    // other than no-referrer; the Origin check needs it. No other site gets a Referer.
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect((await srv.client().get('/admin/sessions')).headers.get('referrer-policy')).toBe('same-origin');
  });
});
