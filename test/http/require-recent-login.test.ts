import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { requireRecentLogin } from '../../src/http/require-recent-login';

// The step-up check alone, on a plain app whose "login" is a fake user with an authTime.
describe('requireRecentLogin', () => {
  let now = 0;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const app = express();
    app.use((req, _res, next) => {
      req.user = { authTime: 1_000_000 } as Express.User;
      next();
    });
    app.get('/admin/page', requireRecentLogin({ maxAgeSec: 900, now: () => now }), (_req, res) => res.send('ok'));
    app.get('/admin/api/thing', requireRecentLogin({ maxAgeSec: 900, now: () => now, api: true }), (_req, res) => res.json({ ok: true }));
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const get = (path: string, accept = 'text/html') => fetch(base + path, { headers: { accept }, redirect: 'manual' });

  it('lets through a login no older than maxAgeSec', async () => {
    now = 1_000_000 + 900_000;
    expect(await (await get('/admin/page?x=1')).text()).toBe('ok');
    expect((await get('/admin/api/thing')).status).toBe(200);
  });

  it('an older one: a page goes to the login page with its path and reauth=1; an API call (or JSON preferred) gets 401 step_up_required', async () => {
    now = 1_000_000 + 900_001;
    const page = await get('/admin/page?x=1');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fadmin%2Fpage%3Fx%3D1&reauth=1');
    for (const r of [await get('/admin/api/thing'), await get('/admin/page', 'application/json')]) {
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ error: { code: 'step_up_required', message: 'this action needs a fresh login with the card and the password' } });
    }
  });

  it('is a TypeError to build without a positive maxAgeSec', () => {
    expect(() => requireRecentLogin({ maxAgeSec: 0, now: () => 0 })).toThrow(TypeError);
  });
});
