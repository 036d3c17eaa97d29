import { failAttempt } from '../helpers/attempts';
import { launchChromium } from '../helpers/browser';
import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, suitePeople, type TestAgent, type TestServer } from '../helpers/app';
import { errorCodeOf, statusOf, submitFrom } from '../helpers/pages';
import { ROLES, normaliseLogin, type Role } from '../../src/store/accounts';
import { cliEnv, runCli } from '../cli/support';

/** HTML text as a browser reads it (the escapes EJS writes). */
const unescape = (s: string) => s.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
/** The logins in the accounts table, in order. */
const rowsOf = (html: string) => [...html.matchAll(/<th scope="row"><a href="\/admin\/accounts\/[^"]+">([^<]*)<\/a><\/th>/g)].map((m) => unescape(m[1]!));
const nextOf = (html: string) => {
  const m = /<a href="([^"]+)" rel="next">/.exec(html);
  return m ? unescape(m[1]!) : null;
};
/** The one-time password on the page, if any. */
const secretOf = (html: string) => {
  const m = /<code class="secret" id="secret">([^<]+)<\/code>/.exec(html);
  return m ? unescape(m[1]!) : null;
};

// The accounts and lockouts pages and their JSON API end to end: the server-side list, each
// action through the same use case as the CLI, the one-time password shown once.
describe('workbench: accounts and lockouts', () => {
  const clock = manualClock();
  let srv: TestServer;
  let agent: TestAgent;
  let redisUrl: string;
  const PEOPLE: Array<[string, string, string[]]> = [
    ['ivanova', '04B1B1B1B1B1B1', ['clinician']],
    ['security', '04B2B2B2B2B2B2', ['security_officer']],
    ['auditor', '04B4B4B4B4B4B4', ['auditor']],
    ['chief', '04B5B5B5B5B5B5', ['chief_admin']],
  ];
  const SURNAMES = ['Иванова', 'Иванов', 'Петров', 'Сидорова', 'Abramov', 'ivanchenko', 'Ёлкин'];
  const { password, uidOf, logIn } = suitePeople(PEOPLE, { clock, env: { CARDAUTH_SESSION_IDLE_SEC: '3600', CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_CARD_LOCKOUT_ATTEMPTS: '3' } }, async (s, a, redis) => {
    [srv, agent, redisUrl] = [s, a, redis.url];
    // A few hundred more, sharing prefixes, every role, some blocked (one hash: argon2 is slow).
    const passwordHash = await srv.services.hasher.hash(password('many'));
    for (let i = 0; i < 300; i++) {
      const surname = SURNAMES[i % SURNAMES.length]!;
      const acc = await srv.services.accounts.create({ login: i % 3 ? `m${String(i).padStart(3, '0')}` : `${surname.toLowerCase()}${i}`, displayName: `${surname} ${i}`, roles: [ROLES[i % ROLES.length]!], passwordHash });
      if (i % 4 === 0) await srv.services.accounts.setStatus(acc.id, 'blocked');
    }
  });
  const stored = (login: string) => srv.services.accounts.findByLogin(login);

  /** Who the list must show, worked out from every account: the matches, in the index's byte order. */
  const expected = async (q: { prefix?: string; role?: string; status?: string }) => {
    const p = q.prefix ? normaliseLogin(q.prefix) : '';
    const fold = (s: string) => normaliseLogin(s);
    return (await srv.services.accounts.list())
      .filter((a) => (fold(a.login).startsWith(p) || fold(a.displayName).startsWith(p)) && (!q.role || a.roles.includes(q.role as Role)) && (!q.status || a.status === q.status))
      .map((a) => ({ login: a.login, key: Buffer.from(`${fold(a.login).startsWith(p) ? fold(a.login) : fold(a.displayName)}\0${a.id}`) }))
      .sort((x, y) => Buffer.compare(x.key, y.key))
      .map((x) => x.login);
  };

  it('the list filters and pages on the server: for each filter, walking the pages (the page and the JSON API) shows each match once, in order, and nothing else', async () => {
    const officer = await logIn('security');
    const filters: Array<Record<string, string>> = [{}, { prefix: 'иван' }, { prefix: 'ИВАНОВА' }, { prefix: 'm1' }, { role: 'auditor' }, { status: 'blocked' }, { prefix: 'ё', role: 'clinician', status: 'active' }, { prefix: 'нет-такого' }];
    for (const f of filters) {
      const want = await expected(f);
      const shown: string[] = [];
      let next: string | null = `/admin/accounts?${new URLSearchParams({ prefix: '', role: '', status: '', ...f })}`;
      let pages = 0;
      while (next) {
        const r = await officer.get(next);
        expect([next, r.status]).toEqual([next, 200]);
        const rows = rowsOf(r.text);
        expect(rows.length).toBeLessThanOrEqual(50);
        shown.push(...rows);
        next = nextOf(r.text);
        pages++;
      }
      expect([f, shown]).toEqual([f, want]);
      expect(pages).toBe(Math.max(1, Math.ceil(want.length / 50)));

      const api: string[] = [];
      let cursor: string | null = null;
      do {
        const r = await officer.get(`/admin/api/accounts?${new URLSearchParams({ ...f, limit: '17', ...(cursor ? { cursor } : {}) })}`);
        expect(r.status).toBe(200);
        expect(JSON.stringify(r.json)).not.toContain('argon2');
        api.push(...r.json.accounts.map((a: { login: string }) => a.login));
        cursor = r.json.cursor;
      } while (cursor);
      expect([f, api]).toEqual([f, want]);
    }
    expect((await expected({ prefix: 'иван' })).length).toBeGreaterThan(50);
    expect((await officer.get('/admin/accounts?role=root')).status).toBe(400);
    expect((await officer.get('/admin/api/accounts?status=gone')).json.error.code).toBe('bad_request');
    // An auditor reads through the API (its pages come later).
    expect((await (await logIn('auditor')).get('/admin/api/accounts?prefix=ivanova')).json.accounts[0]).toMatchObject({ login: 'ivanova', roles: ['clinician'], status: 'active' });
  });

  it('create: the one-time password is shown once (200, never in the next page), stored as a temporary argon2id hash, audited as the officer from the web', async () => {
    const officer = await logIn('security');
    const r = await submitFrom(officer, '/admin/accounts', '/admin/accounts', { login: 'novikova', displayName: 'Новикова Н. Н.', roles: 'clinician' });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const secret = secretOf(r.text)!;
    expect(secret).toBeTruthy();
    expect(statusOf(r.text)).toContain('Учётная запись novikova создана.');
    const acc = (await stored('novikova'))!;
    expect(acc).toMatchObject({ displayName: 'Новикова Н. Н.', roles: ['clinician'], status: 'active', passwordTemporary: true });
    expect(await srv.services.hasher.verify(acc.passwordHash, secret)).toBe(true);
    expect((await officer.get('/admin/accounts')).text).not.toContain(secret);
    expect(await lastAudit(srv.redis, 'account.created')).toMatchObject({ outcome: 'success', actor: expect.stringMatching(/^acct:/), subject: { login: 'novikova' }, details: expect.objectContaining({ via: 'web', roles: 'clinician' }) });
    expect(JSON.stringify(await auditRecords(srv.redis))).not.toContain(secret);

    // A taken login: 409 and the page again, with what was typed and what to do.
    const taken = await submitFrom(officer, '/admin/accounts', '/admin/accounts', { login: 'NOVIKOVA', displayName: 'Другая', roles: 'clinician' });
    expect([taken.status, errorCodeOf(taken.text)]).toEqual([409, 'login_taken']);
    expect(taken.text).toContain('value="NOVIKOVA"');
    expect(secretOf(taken.text)).toBeNull();
    // An officer may not create an officer: 403, audited, nothing created.
    const priv = await submitFrom(officer, '/admin/accounts', '/admin/accounts', { login: 'officer2', displayName: 'Офицер', roles: ['clinician', 'security_officer'] });
    expect([priv.status, errorCodeOf(priv.text)]).toEqual([403, 'forbidden']);
    expect(await stored('officer2')).toBeNull();
    const none = await submitFrom(officer, '/admin/accounts', '/admin/accounts', { login: 'noroles', displayName: 'Без ролей' });
    expect([none.status, errorCodeOf(none.text)]).toEqual([400, 'bad_request']);
  });

  it('block, unblock, reset password, roles: each through its use case, 303 back to where the form was (a filtered list, the account\'s page) with the result', async () => {
    const clinician = await logIn('ivanova');
    const officer = await logIn('security');
    const list = '/admin/accounts?prefix=ivanova&role=&status=';
    const blocked = await submitFrom(officer, list, '/admin/accounts/ivanova/block', { back: '/admin/accounts?prefix=ivanova' });
    expect([blocked.status, blocked.headers.get('location')]).toEqual([303, '/admin/accounts?prefix=ivanova']);
    expect((await stored('ivanova'))!.status).toBe('blocked');
    expect((await clinician.get('/auth/session')).status).toBe(401);
    expect(statusOf((await officer.get('/admin/accounts?prefix=ivanova')).text)).toBe('Учётная запись ivanova заблокирована; завершено сеансов: 1.');
    // `back` off the page is not followed.
    expect((await submitFrom(officer, list, '/admin/accounts/ivanova/unblock', { back: '//evil.example/admin/accounts' })).headers.get('location')).toBe('/admin/accounts');
    expect((await stored('ivanova'))!.status).toBe('active');

    const reset = await submitFrom(officer, '/admin/accounts/ivanova', '/admin/accounts/ivanova/reset-password');
    expect(reset.status).toBe(200);
    const secret = secretOf(reset.text)!;
    const acc = (await stored('ivanova'))!;
    expect(acc.passwordTemporary).toBe(true);
    expect(await srv.services.hasher.verify(acc.passwordHash, secret)).toBe(true);
    expect(await lastAudit(srv.redis, 'password.reset')).toMatchObject({ outcome: 'success', subject: { login: 'ivanova' }, details: expect.objectContaining({ via: 'web', temporary: true }) });

    // Roles: an officer may not make a clinician an auditor (privileged); a chief_admin may.
    const refused = await submitFrom(officer, '/admin/accounts/ivanova', '/admin/accounts/ivanova/roles', { roles: ['clinician', 'auditor'], back: '/admin/accounts/ivanova' });
    expect([refused.status, errorCodeOf(refused.text)]).toEqual([403, 'forbidden']);
    expect(refused.text).toContain('<h1>Учётная запись ivanova</h1>');
    const chief = await logIn('chief');
    const ok = await submitFrom(chief, '/admin/accounts/ivanova', '/admin/accounts/ivanova/roles', { roles: ['clinician', 'auditor'], back: '/admin/accounts/ivanova' });
    expect([ok.status, ok.headers.get('location')]).toEqual([303, '/admin/accounts/ivanova']);
    expect((await stored('ivanova'))!.roles).toEqual(['clinician', 'auditor']);
    expect(statusOf((await chief.get('/admin/accounts/ivanova')).text)).toBe('Роли ivanova теперь: clinician, auditor; завершено сеансов: 0.');
    await submitFrom(chief, '/admin/accounts/ivanova', '/admin/accounts/ivanova/roles', { roles: 'clinician' });
    // Own account: refused.
    expect(errorCodeOf((await submitFrom(officer, '/admin/accounts', '/admin/accounts/security/block')).text)).toBe('forbidden');
    expect((await stored('security'))!.status).toBe('active');
  });

  it('lockouts: a locked account is listed with its count and until when; unlock clears it (audited); an officer may not unlock a privileged one', async () => {
    const ivanova = (await stored('ivanova'))!;
    for (let i = 0; i < srv.config.CARDAUTH_LOCKOUT_ATTEMPTS; i++) await failAttempt(srv.services.lockout, { accountId: ivanova.id, ip: '192.0.2.7' });
    const chiefAcc = (await stored('chief'))!;
    for (let i = 0; i < srv.config.CARDAUTH_LOCKOUT_ATTEMPTS; i++) await failAttempt(srv.services.lockout, { accountId: chiefAcc.id, ip: '192.0.2.7' });
    const officer = await logIn('security');
    const page = await officer.get('/admin/lockouts');
    expect(rowsOf(page.text).sort()).toEqual(['chief', 'ivanova']);
    const row = new RegExp(`>ivanova</a></th>\\s*<td>Д-р ivanova</td>\\s*<td>${srv.config.CARDAUTH_LOCKOUT_ATTEMPTS}</td>\\s*<td><time datetime="([^"]+)">`).exec(page.text);
    // Until: the lock's time left in Redis (its own clock) from the server's now.
    expect(Math.abs(Date.parse(row![1]!) - (clock.now() + srv.config.CARDAUTH_LOCKOUT_DURATION_SEC * 1000))).toBeLessThan(10_000);
    // The account's own page shows it too.
    expect((await officer.get('/admin/accounts/ivanova')).text).toContain('action="/admin/accounts/ivanova/unlock"');

    const refused = await submitFrom(officer, '/admin/lockouts', '/admin/lockouts/chief/unlock');
    expect([refused.status, errorCodeOf(refused.text)]).toEqual([403, 'forbidden']);
    const done = await submitFrom(officer, '/admin/lockouts', '/admin/lockouts/ivanova/unlock');
    expect([done.status, done.headers.get('location')]).toEqual([303, '/admin/lockouts']);
    const after = await officer.get('/admin/lockouts');
    expect(rowsOf(after.text)).toEqual(['chief']);
    expect(statusOf(after.text)).toBe(`Блокировка входа ivanova снята (неудачных попыток было: ${srv.config.CARDAUTH_LOCKOUT_ATTEMPTS}).`);
    expect(await lastAudit(srv.redis, 'account.unlocked')).toMatchObject({ outcome: 'success', subject: { login: 'ivanova' }, details: expect.objectContaining({ via: 'web' }) });
    await srv.services.lockout.unlock(chiefAcc.id);
  });

  it('lockouts: a locked card, a suspended workstation and a locked IP, each undone from the page by its own use case (audited)', async () => {
    const ivanova = (await stored('ivanova'))!;
    const uid = uidOf('ivanova');
    for (let i = 0; i < 3; i++) await failAttempt(srv.services.lockout, { accountId: ivanova.id, ip: '192.0.2.9', cardUid: uid });
    await srv.services.lockout.unlock(ivanova.id); // the account's own count, so only the card stays locked
    const rogue = await srv.agent({ name: 'РМ <i>7</i>' });
    expect((await srv.services.agents.countRefusal(rogue.id, { max: 1, windowSec: 60 })).suspended).toBe(true);
    for (let i = 0; i < srv.config.CARDAUTH_IP_ATTEMPTS; i++) await srv.services.lockout.recordIpFailure('198.51.100.4');
    expect((await srv.services.lockout.ipCount('198.51.100.4')).locked).toBe(true);

    const officer = await logIn('security');
    const page = await officer.get('/admin/lockouts');
    expect(page.text).toMatch(new RegExp(`<tr id="card-${uid}">\\s*<th scope="row"><code>${uid}</code></th>\\s*<td><a href="/admin/accounts/ivanova">ivanova</a> \\(Д-р ivanova\\)</td>\\s*<td>3</td>`));
    expect(page.text).toMatch(new RegExp(`<tr id="agent-${rogue.id}">\\s*<th scope="row">РМ &lt;i&gt;7&lt;/i&gt;</th>`));

    const card = await submitFrom(officer, '/admin/lockouts', `/admin/lockouts/cards/${uid.toLowerCase()}/unlock`);
    expect([card.status, card.headers.get('location')]).toEqual([303, '/admin/lockouts']);
    expect((await srv.services.lockout.cardCount(uid)).failures).toBe(0);
    expect(await lastAudit(srv.redis, 'card.unlocked')).toMatchObject({ outcome: 'success', cardUid: uid, details: expect.objectContaining({ via: 'web' }) });
    expect(statusOf((await officer.get('/admin/lockouts')).text)).toBe(`Блокировка карты ${uid} снята (неудачных попыток было: 3).`);

    expect((await submitFrom(officer, '/admin/lockouts', `/admin/lockouts/agents/${rogue.id}/unsuspend`)).status).toBe(303);
    expect((await srv.services.agents.get(rogue.id))!.status).toBe('approved');
    expect(await lastAudit(srv.redis, 'agent.unsuspended')).toMatchObject({ outcome: 'success', details: expect.objectContaining({ via: 'web' }) });
    const again = await submitFrom(officer, '/admin/lockouts', `/admin/lockouts/agents/${rogue.id}/unsuspend`);
    expect([again.status, errorCodeOf(again.text)]).toEqual([409, 'agent_state']);

    expect((await submitFrom(officer, '/admin/lockouts', '/admin/lockouts/ip-unlock', { ip: '198.51.100.4' })).status).toBe(303);
    expect((await srv.services.lockout.ipCount('198.51.100.4')).failures).toBe(0);
    expect(await lastAudit(srv.redis, 'ip.unlocked')).toMatchObject({ outcome: 'success', details: expect.objectContaining({ via: 'web' }) });
    const bad = await submitFrom(officer, '/admin/lockouts', '/admin/lockouts/ip-unlock', { ip: 'not-an-ip' });
    expect([bad.status, errorCodeOf(bad.text)]).toEqual([400, 'bad_request']);
    const badUid = await submitFrom(officer, '/admin/lockouts', '/admin/lockouts/cards/zz/unlock');
    expect(badUid.status).toBe(400);
    const after = (await officer.get('/admin/lockouts')).text;
    expect(after).toContain('Заблокированных карт нет.');
    expect(after).toContain('Приостановленных рабочих станций нет.');
  });

  it('the JSON API: create (201, the password once), block, unblock, reset-password; an auditor 403; the step-up and Origin as every write', async () => {
    const officer = await logIn('security');
    const created = await officer.post('/admin/api/accounts', { login: 'api1', displayName: 'Апи Один', roles: ['clinician'] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ account: { login: 'api1', displayName: 'Апи Один', roles: ['clinician'], status: 'active' }, password: expect.any(String) });
    expect(created.json.account).not.toHaveProperty('passwordHash');
    expect(await srv.services.hasher.verify((await stored('api1'))!.passwordHash, created.json.password)).toBe(true);
    expect((await officer.post('/admin/api/accounts/api1/block', { note: 'уволен' })).json).toEqual({ login: 'api1', status: 'blocked', already: false, ended: 0 });
    expect(await lastAudit(srv.redis, 'account.blocked')).toMatchObject({ subject: { login: 'api1' }, details: expect.objectContaining({ note: 'уволен', via: 'web' }) });
    expect((await officer.post('/admin/api/accounts/api1/unblock', {})).json).toEqual({ login: 'api1', status: 'active', changed: true });
    const reset = await officer.post('/admin/api/accounts/api1/reset-password', {});
    expect(reset.json).toEqual({ login: 'api1', password: expect.any(String), ended: 0 });
    expect(reset.json.password).not.toBe(created.json.password);
    expect((await officer.post('/admin/api/accounts', { login: 'api2', displayName: 'x', roles: ['root'] })).json.error.code).toBe('bad_request');
    const auditor = await logIn('auditor');
    expect((await auditor.post('/admin/api/accounts/api1/block', {})).json.error.code).toBe('forbidden');
    expect((await stored('api1'))!.status).toBe('active');
    clock.advance(srv.config.CARDAUTH_ADMIN_STEP_UP_SEC * 1000 + 1);
    expect((await officer.post('/admin/api/accounts/api1/block', {})).json.error.code).toBe('step_up_required');
    expect((await officer.get('/admin/api/accounts?prefix=api1')).status).toBe(200);
  });

  it('a stored display name of <img src=x onerror=alert(1)> renders as text on every page: the accounts list, an account\'s page, sessions, lockouts, policy (the officer\'s own name in the header)', async () => {
    const XSS = '<img src=x onerror=alert(1)>';
    const hash = await srv.services.hasher.hash(password('xss'));
    const victim = await srv.services.accounts.create({ login: 'xss', displayName: XSS, roles: ['clinician'], passwordHash: hash });
    await srv.services.accounts.create({ login: 'xss-officer', displayName: XSS, roles: ['security_officer'], passwordHash: hash });
    await srv.services.cards.bind({ uid: '04B9B9B9B9B9B9', accountId: (await stored('xss-officer'))!.id, by: 'os:test' });
    for (let i = 0; i < srv.config.CARDAUTH_LOCKOUT_ATTEMPTS; i++) await failAttempt(srv.services.lockout, { accountId: victim.id, ip: '192.0.2.8' });
    const officer = srv.client();
    expect((await srv.login(officer, agent, '04B9B9B9B9B9B9', 'xss-officer', password('xss'))).status).toBe(200);
    const pages = ['/admin/accounts', '/admin/accounts?prefix=%3Cimg', '/admin/accounts/xss', '/admin/sessions', '/admin/lockouts', '/admin/policy', '/admin/presence'];
    // Parsed by a real HTML parser (Chromium's, scripts off): no <img> element, the name as text.
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage({ javaScriptEnabled: false });
      for (const path of pages) {
        const r = await officer.get(path);
        expect([path, r.status]).toEqual([path, 200]);
        expect(r.text).not.toContain('<img');
        expect(r.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
        await tab.setContent(r.text);
        expect([path, await tab.locator('img').count()]).toEqual([path, 0]);
        expect([path, await tab.locator('.who').textContent()]).toEqual([path, `${XSS} (xss-officer)`]);
      }
    } finally {
      await browser.close();
    }
    // The list's filter found it by that name, and its own page shows it as the name.
    expect(rowsOf((await officer.get('/admin/accounts?prefix=%3Cimg')).text).sort()).toEqual(['xss', 'xss-officer']);
    expect((await officer.get('/admin/accounts/xss')).text).toContain('<dd id="display-name">&lt;img src=x onerror=alert(1)&gt;</dd>');
    // The sessions page shows the name each session opened with (the officer's own, here), as text.
    expect((await officer.get('/admin/sessions?login=xss-officer')).text).toMatch(/<th scope="row">xss-officer<\/th>\s*<td>&lt;img src=x onerror=alert\(1\)&gt;<\/td>/);
    expect((await officer.get('/admin/api/sessions?login=xss-officer')).json.sessions[0].displayName).toBe(XSS);
    // A re-rendered form (an error) escapes what was typed too.
    const typed = await submitFrom(officer, '/admin/accounts', '/admin/accounts', { login: 'xss', displayName: XSS, roles: 'clinician' });
    expect(typed.status).toBe(409);
    expect(typed.text).not.toContain('<img');
    await srv.services.lockout.unlock(victim.id);
  });

  it('the CLI and the page reach the same result for the same action (create, block, reset password): the same stored state and audit record, but for the actor and the channel', async () => {
    const env = cliEnv({ REDIS_URL: redisUrl });
    const officer = await logIn('security');
    const officerId = (await stored('security'))!.id;

    // create: the CLI takes the password on stdin, the page generates one; both temporary.
    expect((await runCli(['account', 'create', '--login', 'same-cli', '--name', 'Одинаков О. О.', '--role', 'clinician', '--password-stdin'], { env, stdin: 'Временный-пароль-2026!\n' })).code).toBe(0);
    expect((await submitFrom(officer, '/admin/accounts', '/admin/accounts', { login: 'same-page', displayName: 'Одинаков О. О.', roles: 'clinician' })).status).toBe(200);
    const [cli, page] = [(await stored('same-cli'))!, (await stored('same-page'))!];
    const state = (a: typeof cli) => ({ displayName: a.displayName, roles: a.roles, status: a.status, passwordTemporary: a.passwordTemporary, hash: a.passwordHash.split('$').slice(0, 4).join('$') });
    expect(state(page)).toEqual(state(cli));

    const records = async (type: string, login: string) => (await auditRecords(srv.redis, type)).filter((e) => e.subject?.login === login);
    /** A record without what differs by channel: the actor, its id, time and chain, and `via` with its host or IP and user agent. */
    const shape = (e: Record<string, any>) => {
      const { via, host, ip, userAgent, ...details } = e.details ?? {};
      return { type: e.type, outcome: e.outcome, reason: e.reason, subject: { login: e.subject.login.replace(/^same-(cli|page)$/, 'same') }, details, channel: typeof via };
    };
    const compare = async (type: string) => {
      const [c, p] = [await records(type, 'same-cli'), await records(type, 'same-page')];
      expect([type, c.length]).toEqual([type, 1]);
      expect(p.map(shape)).toEqual(c.map(shape));
      expect([c[0]!.actor, c[0]!.details.via, p[0]!.actor, p[0]!.details.via]).toEqual([expect.stringMatching(/^os:/), 'cli', `acct:${officerId}`, 'web']);
    };
    await compare('account.created');

    expect((await runCli(['account', 'block', '--login', 'same-cli', '--note', 'отпуск'], { env })).code).toBe(0);
    expect((await officer.post('/admin/api/accounts/same-page/block', { note: 'отпуск' })).status).toBe(200);
    expect(state((await stored('same-page'))!)).toEqual(state((await stored('same-cli'))!));
    await compare('account.blocked');

    expect((await runCli(['account', 'reset-password', '--login', 'same-cli'], { env })).code).toBe(0);
    expect((await submitFrom(officer, '/admin/accounts/same-page', '/admin/accounts/same-page/reset-password')).status).toBe(200);
    expect(state((await stored('same-page'))!)).toEqual(state((await stored('same-cli'))!));
    await compare('password.reset');
  });
});
