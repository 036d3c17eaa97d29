import { signTapout } from '../../src/card-agent/sign-statement';
import { lastAudit } from '../helpers/audit';
import { manualClock, suiteServer, TestClient, type TestAgent, type TestServer } from '../helpers/app';

const PW = 'Пароль-Ивановой-1';
const CARD = '04000000000F01';
const PW_OFFICER = 'Пароль-Офицера-22';
const CARD_OFFICER = '04000000000F02';
const NAME = 'Иванова Анна Петровна, 100% + «к.м.н.»';

describe('GET /auth/forward: the forward-auth check of a reverse proxy', () => {
  let srv: TestServer;
  let agent: TestAgent;
  const clock = manualClock();
  suiteServer({ clock, env: { CARDAUTH_SESSION_IDLE_SEC: '600', CARDAUTH_IP_ATTEMPTS: '1000' } }, async (s, a) => {
    [srv, agent] = [s, a];
    const hash = await srv.services.hasher.hash(PW);
    const { id } = await srv.services.accounts.create({ login: 'Иванова', displayName: NAME, roles: ['clinician'], passwordHash: hash });
    await srv.services.cards.bind({ uid: CARD, accountId: id, by: 'os:test' });
    await srv.account('officer', PW_OFFICER, CARD_OFFICER, ['security_officer', 'auditor']);
  });

  async function loggedIn(login = 'Иванова', uid = CARD, pw = PW) {
    const c = srv.client();
    expect((await srv.login(c, agent, uid, login, pw)).status).toBe(200);
    return c;
  }
  const tapout = async (uid: string) =>
    new TestClient(srv.url, null).post('/agents/events', {
      statement: await signTapout(agent.key, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, uid, reader: 'Virtual PCD 00 00', signal: 'tap' }, clock),
    });

  it('a logged-in session: 200 with the Remote-* headers, no-store, and the session hash the audit records use', async () => {
    const c = await loggedIn('officer', CARD_OFFICER, PW_OFFICER);
    const res = await c.get('/auth/forward');
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('remote-user')).toBe('officer');
    expect(res.headers.get('remote-name')).toBe('%D0%94-%D1%80%20officer'); // "Д-р officer"
    expect(res.headers.get('remote-groups')).toBe('security_officer,auditor');
    expect(res.headers.get('remote-amr')).toBe('sc pwd');
    const created = await lastAudit(srv.redis, 'session.created');
    expect(res.headers.get('remote-session')).toMatch(/^[0-9a-f]{64}$/);
    expect(res.headers.get('remote-session')).toBe(created?.sessionIdHash);
  });

  it('a Cyrillic login and display name are percent-encoded UTF-8, % and + included, and decode back exactly', async () => {
    const c = await loggedIn();
    const res = await c.get('/auth/forward');
    expect(res.status).toBe(200);
    const name = res.headers.get('remote-name')!;
    expect(name).toMatch(/^[A-Za-z0-9\-_.!~*'()%]+$/);
    expect(name).toContain('%25'); // the % of "100%"
    expect(name).toContain('%2B'); // the +
    expect(decodeURIComponent(name)).toBe(NAME);
    expect(res.headers.get('remote-user')).toBe('%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0');
    expect(decodeURIComponent(res.headers.get('remote-user')!)).toBe('Иванова');
    // A form decoder (PHP urldecode, Java URLDecoder) gets the same: + never stands for a space here.
    expect(new URLSearchParams(`v=${name}`).get('v')).toBe(NAME);
  });

  it('?role=R: 200 with the role, 403 forbidden without it; an unknown role or parameter is 400', async () => {
    const officer = await loggedIn('officer', CARD_OFFICER, PW_OFFICER);
    expect((await officer.get('/auth/forward?role=auditor')).status).toBe(200);
    const clinician = await loggedIn();
    expect((await clinician.get('/auth/forward?role=clinician')).status).toBe(200);
    const denied = await clinician.get('/auth/forward?role=auditor');
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('forbidden');
    expect(denied.headers.get('remote-user')).toBeNull();
    expect(denied.headers.get('cache-control')).toBe('no-store');
    // Not a redirect to the login even in redirect mode: the user is logged in, and would come straight back.
    expect((await clinician.get('/auth/forward?role=auditor&redirect=1')).status).toBe(403);
    // A typo must not pass everyone: the proxy's config is wrong, and the check fails closed.
    expect((await officer.get('/auth/forward?role=auditors')).json.error.code).toBe('bad_request');
    expect((await officer.get('/auth/forward?roles=auditor')).json.error.code).toBe('bad_request');
    expect((await officer.get('/auth/forward?role=auditor&role=clinician')).json.error.code).toBe('bad_request');
  });

  it('no session: 401 unauthenticated, no Remote-* header', async () => {
    const res = await srv.client().get('/auth/forward');
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('unauthenticated');
    expect(res.headers.get('remote-user')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('a session locked by a tap-out is refused at once: 401 session_locked', async () => {
    const c = await loggedIn();
    expect((await c.get('/auth/forward')).status).toBe(200);
    expect((await tapout(CARD)).status).toBe(200);
    const res = await c.get('/auth/forward');
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('session_locked');
    expect(res.headers.get('remote-user')).toBeNull();
  });

  it('?redirect=1: a 302 to /login?next= the proxied path, escaped; a hostile X-Forwarded-Uri falls back to /', async () => {
    const c = srv.client();
    const to = async (uri?: string) => {
      const res = await c.get('/auth/forward?redirect=1', uri === undefined ? {} : { 'x-forwarded-uri': uri });
      expect(res.status).toBe(302);
      expect(res.headers.get('cache-control')).toBe('no-store');
      return res.headers.get('location');
    };
    expect(await to('/patients/42?tab=visits&from=2026-03-01')).toBe('/login?next=%2Fpatients%2F42%3Ftab%3Dvisits%26from%3D2026-03-01');
    expect(await to('//evil.example')).toBe('/login?next=%2F');
    expect(await to('//evil.example/path')).toBe('/login?next=%2F');
    expect(await to('https://evil')).toBe('/login?next=%2F');
    expect(await to('/\\evil.example')).toBe('/login?next=%2F');
    expect(await to('/.//evil.example')).toBe('/login?next=%2F');
    expect(await to()).toBe('/login?next=%2F');

    // The login page takes that next back as it was: once logged in, /login goes straight there.
    const next = (await to('/patients/42?tab=visits&from=2026-03-01'))!.slice('/login?next='.length);
    const d = await loggedIn();
    const back = await d.get(`/login?next=${next}`);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/patients/42?tab=visits&from=2026-03-01');
  });

  it('?redirect=1 for a locked session: to the login (its lock screen), not 401', async () => {
    const c = await loggedIn();
    await tapout(CARD);
    const res = await c.get('/auth/forward?redirect=1', { 'x-forwarded-uri': '/patients' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?next=%2Fpatients');
  });

  it('a proxied request is activity for the idle lock; one marked X-Cardauth-Background: 1 is not', async () => {
    const active = await loggedIn();
    const background = await loggedIn();
    for (let i = 0; i < 2; i++) {
      clock.advance(290_000);
      expect((await active.get('/auth/forward')).status).toBe(200);
      expect((await background.get('/auth/forward', { 'x-cardauth-background': '1' })).status).toBe(200);
    }
    clock.advance(30_000); // 610 s after the login, 30 s after the last request
    expect((await active.get('/auth/forward')).status).toBe(200);
    const idle = await background.get('/auth/forward', { 'x-cardauth-background': '1' });
    expect(idle.status).toBe(401);
    expect(idle.json.error.code).toBe('session_locked');
    expect(await lastAudit(srv.redis, 'session.locked')).toMatchObject({ reason: 'idle', subject: { login: 'Иванова' } });
  });
});
