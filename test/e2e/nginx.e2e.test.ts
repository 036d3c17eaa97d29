import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { signTapout } from '../../src/card-agent/sign-statement';
import { lastAudit } from '../helpers/audit';
import { manualClock, startTestServer, TestClient, type TestAgent, type TestServer } from '../helpers/app';
import { startNginx, type TestNginx } from '../helpers/nginx';
import { freePort, startRedis, type TestRedis } from '../helpers/redis';

const EXAMPLE = join(__dirname, '..', '..', 'examples', 'nginx');
const PW = 'Пароль-Ивановой-1';
const CARD = '04000000000E01';
const PW_AUDITOR = 'Пароль-Аудитора-22';
const CARD_AUDITOR = '04000000000E02';

/** `text` with `from` replaced by `to`, where `from` must occur exactly once (the example changed otherwise). */
function replaceOnce(text: string, from: string, to: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`examples/nginx/mis.conf: expected "${from}" once, found it ${parts.length - 1} times`);
  return parts.join(to);
}

/** A stand-in for the MIS's backend: answers what it received (method, URL, Remote-* headers, body). */
async function startMisApi(): Promise<{ url: string; seen: Array<{ method: string; url: string; remote: IncomingHttpHeaders; body: string }>; close(): Promise<void> }> {
  const seen: Array<{ method: string; url: string; remote: IncomingHttpHeaders; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const remote = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('remote-')));
      const got = { method: req.method ?? '', url: req.url ?? '', remote, body };
      seen.push(got);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(got));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('examples/nginx: an MIS behind nginx auth_request to cardauth, on one origin', () => {
  const clock = manualClock();
  let redis: TestRedis;
  let srv: TestServer;
  let agent: TestAgent;
  let nginx: TestNginx;
  let api: Awaited<ReturnType<typeof startMisApi>>;

  beforeAll(async () => {
    redis = await startRedis();
    api = await startMisApi();
    // The origin users open is nginx's: the Origin checks, the card statements' aud and the cookie are for it.
    const port = await freePort();
    srv = await startTestServer(redis, {
      clock,
      env: { CARDAUTH_PUBLIC_ORIGIN: `http://127.0.0.1:${port}`, CARDAUTH_TRUST_PROXY: 'loopback', CARDAUTH_SESSION_IDLE_SEC: '600' },
    });
    agent = await srv.agent();
    await srv.account('ivanova', PW, CARD);
    await srv.account('auditor', PW_AUDITOR, CARD_AUDITOR, ['auditor']);
    let conf = readFileSync(join(EXAMPLE, 'mis.conf'), 'utf8');
    conf = replaceOnce(conf, 'listen 80;', `listen 127.0.0.1:${port};`);
    conf = replaceOnce(conf, 'server 127.0.0.1:8080;', `server ${new URL(srv.url).host};`);
    conf = replaceOnce(conf, 'server 127.0.0.1:9000;', `server ${api.url};`);
    conf = replaceOnce(conf, 'root /var/www/mis;', `root ${join(EXAMPLE, 'mis')};`);
    nginx = await startNginx({ port, http: () => conf, files: { 'snippets/cardauth-check.conf': readFileSync(join(EXAMPLE, 'snippets', 'cardauth-check.conf'), 'utf8') } });
  });
  afterAll(async () => {
    await nginx?.stop();
    await srv?.close();
    await api?.close();
    await redis?.stop();
  });
  afterEach(() => {
    // A check cardauth answered with anything but 2xx/401/403 (a query it refused, a crash) shows here.
    expect(nginx.errorLog()).not.toMatch(/auth request unexpected status|upstream prematurely closed|\[(?:error|crit|alert|emerg)\]/);
  });

  /** A browser at nginx's origin: it keeps the session cookie nginx passes on from cardauth. */
  const browser = () => new TestClient(nginx.url, nginx.url);
  async function loggedIn(login = 'ivanova', uid = CARD, pw = PW) {
    const b = browser();
    expect((await srv.login(b, agent, uid, login, pw)).status).toBe(200);
    return b;
  }

  it('no session: the MIS (pages, API, a POST) sends the browser to cardauth\'s login with the path as next, and its backend sees nothing', async () => {
    const b = browser();
    const page = await b.get('/patients?id=5&tab=visits');
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/login?next=%2Fpatients%3Fid%3D5%26tab%3Dvisits');
    expect((await b.get('/api/whoami')).headers.get('location')).toBe('/login?next=%2Fapi%2Fwhoami');
    const post = await b.post('/api/records', { note: 'x' });
    expect(post.status).toBe(302);
    expect(post.headers.get('location')).toBe('/login?next=%2Fapi%2Frecords');
    expect(api.seen).toHaveLength(0);

    // The login page comes through nginx, with that next, and so do its assets.
    const login = await b.get(page.headers.get('location')!);
    expect(login.status).toBe(200);
    expect(login.text).toContain('data-next="/patients?id=5&amp;tab=visits"');
    expect((await b.get('/assets/login.js')).status).toBe(200);
  });

  it('logged in through nginx: the MIS page is served, and its backend gets the Remote-* headers (never a client\'s own)', async () => {
    const b = await loggedIn();
    const page = await b.get('/patients?id=5');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>МИС</h1>');

    const res = await b.get('/api/whoami?x=1', { 'remote-user': 'chief_admin', 'remote-groups': 'chief_admin' });
    expect(res.status).toBe(200);
    const created = await lastAudit(srv.redis, 'session.created');
    expect(res.json).toEqual({
      method: 'GET',
      url: '/api/whoami?x=1',
      body: '',
      remote: {
        'remote-user': 'ivanova',
        'remote-name': '%D0%94-%D1%80%20ivanova', // "Д-р ivanova"
        'remote-groups': 'clinician',
        'remote-amr': 'sc pwd',
        'remote-session': created?.sessionIdHash,
      },
    });
    // A write reaches the backend whole; the check before it carried no body.
    const post = await b.post('/api/records', { note: 'осмотр' });
    expect(post.json).toMatchObject({ method: 'POST', url: '/api/records', body: JSON.stringify({ note: 'осмотр' }), remote: { 'remote-user': 'ivanova' } });
  });

  it('a part for one role: 403 without it, served with it', async () => {
    const clinician = await loggedIn();
    expect((await clinician.get('/reports/monthly')).status).toBe(403);
    const auditor = await loggedIn('auditor', CARD_AUDITOR, PW_AUDITOR);
    const res = await auditor.get('/reports/monthly');
    expect(res.status).toBe(200);
    expect(res.json.remote).toMatchObject({ 'remote-user': 'auditor', 'remote-groups': 'auditor' });
  });

  it('after a tap-out the very next request is sent to the login', async () => {
    const b = await loggedIn();
    expect((await b.get('/patients')).status).toBe(200);
    const statement = await signTapout(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid: CARD, reader: 'Virtual PCD 00 00', signal: 'tap' }, clock);
    // The agent posts to the public origin, through nginx.
    expect((await new TestClient(nginx.url, null).post('/agents/events', { statement })).status).toBe(200);
    const page = await b.get('/patients');
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/login?next=%2Fpatients');
    expect((await b.get('/api/whoami')).status).toBe(302);
  });

  it('the idle lock through nginx: requests are activity, X-Cardauth-Background: 1 requests are not', async () => {
    const active = await loggedIn();
    const background = await loggedIn();
    const bg = { 'x-cardauth-background': '1' };
    for (let i = 0; i < 2; i++) {
      clock.advance(290_000);
      expect((await active.get('/api/poll')).status).toBe(200);
      expect((await background.get('/api/poll', bg)).status).toBe(200);
    }
    clock.advance(30_000); // 610 s after the logins, 30 s after the last requests
    expect((await active.get('/api/poll')).status).toBe(200);
    const idle = await background.get('/api/poll', bg);
    expect(idle.status).toBe(302);
    expect(idle.headers.get('location')).toBe('/login?next=%2Fapi%2Fpoll');
    expect(await lastAudit(srv.redis, 'session.locked')).toMatchObject({ reason: 'idle' });
  });
});
