import { exportJWK, generateKeyPair } from 'jose';
import { sha256Hex } from '../../src/audit/record';
import { auditRecords, lastAudit, withAuditUnusable } from '../helpers/audit';
import { launchChromium } from '../helpers/browser';
import { manualClock, sessionIdOf, suitePeople, type TestAgent, type TestServer } from '../helpers/app';
import { csrfOf, errorCodeOf, postForm, statusOf, submitFrom } from '../helpers/pages';

// The workbench's frame end to end: who may see its pages, the CSRF token on every form, the
// step-up before an action, the flash result, the layout a keyboard and a screen reader follow.
describe('workbench pages: the frame', () => {
  const clock = manualClock();
  let srv: TestServer;
  let agent: TestAgent;
  const PEOPLE: Array<[string, string, string[]]> = [
    ['ivanova', '04A1A1A1A1A1A1', ['clinician']],
    ['security', '04A2A2A2A2A2A2', ['security_officer']],
    ['auditor', '04A4A4A4A4A4A4', ['auditor']],
    ['chief', '04A5A5A5A5A5A5', ['chief_admin']],
  ];
  const { password, logIn } = suitePeople(PEOPLE, { clock, env: { CARDAUTH_SESSION_IDLE_SEC: '3600', CARDAUTH_IP_ATTEMPTS: '1000' } }, (s, a) => {
    [srv, agent] = [s, a];
  });
  const PAGES = ['/admin/accounts', '/admin/sessions', '/admin/lockouts', '/admin/policy', '/admin/presence'];

  it('an officer and a chief_admin see every page: 200, no-store, the page CSP, a title, a skip link to <main>, the nav with the current page, one h1', async () => {
    for (const who of ['security', 'chief']) {
      const c = await logIn(who);
      for (const path of PAGES) {
        const r = await c.get(path);
        expect([path, r.status]).toEqual([path, 200]);
        expect(r.headers.get('cache-control')).toBe('no-store');
        expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
        expect(r.text).toMatch(/<html lang="ru">/);
        expect(r.text).toMatch(/<title>[^<]+ — Рабочее место администратора безопасности<\/title>/);
        expect(r.text).toContain('<span class="brand">cardauth · Рабочее место администратора безопасности</span>');
        expect(r.text).toContain('<a class="skip" href="#main">Перейти к содержимому</a>');
        expect(r.text).toContain('<main id="main" tabindex="-1">');
        expect(r.text.match(/<h1>/g)).toHaveLength(1);
        expect(r.text).toMatch(new RegExp(`<nav class="admin-nav" aria-label="Разделы">[\\s\\S]*<a href="${path}" aria-current="page">`));
        expect(r.text.match(/aria-current="page"/g)).toHaveLength(1);
        expect(r.text).toContain('<div id="status" class="status" role="status" aria-live="polite">');
        // No inline script or style (the CSP forbids them), no inline event handler.
        expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=/i);
      }
    }
    expect((await (await logIn('security')).get('/admin')).headers.get('location')).toBe('/admin/accounts');
  });

  it('keyboard and screen reader: in Chromium, every control has a label, every button a name, tables a caption and header cells, the skip link reaches <main>, the focus is visible', async () => {
    const c = await logIn('security');
    await logIn('ivanova'); // a session to list, with its end button
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      // The auditor's own pages too, a record among them.
      const auditor = await logIn('auditor');
      const [recordId] = (await srv.redis.xrevrange('audit:log', '+', '-', 'COUNT', 1))[0]!;
      const auditorPages = ['/admin/audit', `/admin/audit/records/${recordId}`, '/admin/audit/integrity', '/admin/audit/chart'];
      for (const [who, path] of [...[...PAGES, '/admin/accounts/ivanova'].map((p) => [c, p] as const), ...auditorPages.map((p) => [auditor, p] as const)]) {
        // The page as served, its stylesheet from the server (the focus style is in it).
        const html = (await who.get(path)).text.replace('<link rel="stylesheet" href="/assets/app.css">', `<style>${(await c.get('/assets/app.css')).text}</style>`);
        await tab.setContent(html);
        const found = await tab.evaluate(() => {
          const doc = (globalThis as any).document;
          const all = (sel: string) => [...doc.querySelectorAll(sel)] as any[];
          const name = (el: any) => (el.getAttribute('aria-label') || el.textContent || '').trim();
          return {
            unlabelled: all('input:not([type=hidden]), select, textarea').filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML),
            nameless: all('button, a[href]').filter((el) => name(el) === '').map((el) => el.outerHTML),
            tables: all('table').map((t) => ({ caption: !!t.querySelector('caption'), scoped: [...t.querySelectorAll('th')].every((th: any) => th.getAttribute('scope')) })),
            mains: all('main').length,
            h1: all('h1').length,
            skip: doc.querySelector('a.skip')?.getAttribute('href'),
            navLabel: doc.querySelector('nav.admin-nav')?.getAttribute('aria-label'),
            live: doc.getElementById('status')?.getAttribute('aria-live'),
          };
        });
        expect([path, found]).toEqual([path, { unlabelled: [], nameless: [], tables: found.tables.map(() => ({ caption: true, scoped: true })), mains: 1, h1: 1, skip: '#main', navLabel: 'Разделы', live: 'polite' }]);
        // The keyboard: the first Tab lands on the skip link, which shows itself with a visible outline.
        await tab.keyboard.press('Tab');
        const focused = await tab.evaluate(() => {
          const el = (globalThis as any).document.activeElement;
          const style = (globalThis as any).getComputedStyle(el);
          return { cls: el.className, outline: style.outlineStyle, left: el.getBoundingClientRect().left };
        });
        expect([path, focused.cls, focused.outline, focused.left >= 0]).toEqual([path, 'skip', 'solid', true]);
      }
    } finally {
      await browser.close();
    }
  });

  it('English on ?lang=en', async () => {
    const r = await (await logIn('security')).get('/admin/policy?lang=en');
    expect(r.text).toMatch(/<html lang="en">/);
    expect(r.text).toContain('<h1>Policy</h1>');
  });

  it('the door: no session → the login page; a clinician and an auditor 403 forbidden as a page, for a view and a form', async () => {
    const anonymous = await srv.client().get('/admin/sessions');
    expect([anonymous.status, anonymous.headers.get('location')]).toEqual([303, '/login?next=%2Fadmin%2Fsessions']);
    for (const who of ['ivanova', 'auditor']) {
      const c = await logIn(who);
      for (const path of PAGES) {
        const r = await c.get(path);
        expect([who, path, r.status, errorCodeOf(r.text)]).toEqual([who, path, 403, 'forbidden']);
        expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      }
      const before = (await auditRecords(srv.redis)).length;
      const handle = sha256Hex(sessionIdOf(await logIn('ivanova')));
      const w = await postForm(c, `/admin/sessions/${handle}/end`, { _csrf: 'x' });
      expect([w.status, errorCodeOf(w.text)]).toEqual([403, 'forbidden']);
      expect((await auditRecords(srv.redis)).slice(before).filter((e) => e.type === 'session.ended')).toEqual([]);
    }
  });

  it('CSRF: a form POST with no token, a wrong one or another session\'s is 403 csrf_failed and changes nothing; with its own token it runs (303 back, the result in the status region, once)', async () => {
    const clinician = await logIn('ivanova');
    const handle = sha256Hex(sessionIdOf(clinician));
    const officer = await logIn('security');
    const other = await logIn('chief');
    const token = csrfOf((await officer.get('/admin/sessions')).text);
    const otherToken = csrfOf((await other.get('/admin/sessions')).text);
    expect(otherToken).not.toBe(token);
    const before = (await auditRecords(srv.redis)).length;
    for (const fields of [{} as Record<string, string | string[]>, { _csrf: '' }, { _csrf: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A') }, { _csrf: otherToken }, { _csrf: [token, token] }]) {
      const r = await postForm(officer, `/admin/sessions/${handle}/end`, fields);
      expect([JSON.stringify(fields), r.status, errorCodeOf(r.text)]).toEqual([JSON.stringify(fields), 403, 'csrf_failed']);
    }
    // A JSON body carries no form field either.
    expect((await officer.post(`/admin/sessions/${handle}/end`, { _csrf: token })).status).toBe(403);
    expect((await clinician.get('/auth/session')).status).toBe(200);
    expect(await auditRecords(srv.redis)).toHaveLength(before);

    const done = await postForm(officer, `/admin/sessions/${handle}/end`, { _csrf: token });
    expect([done.status, done.headers.get('location')]).toEqual([303, '/admin/sessions']);
    expect((await clinician.get('/auth/session')).status).toBe(401);
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ actor: expect.stringMatching(/^acct:/), subject: { login: 'ivanova' }, details: expect.objectContaining({ via: 'web' }) });
    expect(statusOf((await officer.get('/admin/sessions')).text)).toBe('Сеанс пользователя ivanova завершён.');
    expect(statusOf((await officer.get('/admin/sessions')).text)).toBe('');
    // The Origin check stays: the right token from another origin is refused.
    officer.origin = 'https://evil.example';
    expect((await postForm(officer, `/admin/sessions/${handle}/end`, { _csrf: token })).status).toBe(403);
  });

  it('a refused action re-renders the page with its status and a message for people: an ended session is 404 session_not_found', async () => {
    const officer = await logIn('security');
    const r = await submitFrom(officer, '/admin/sessions', `/admin/sessions/${'0'.repeat(64)}/end`);
    expect([r.status, errorCodeOf(r.text)]).toEqual([404, 'session_not_found']);
    expect(r.text).toContain('Сеанс уже завершён. Обновите список.');
    expect(r.text).toContain('<h1>Сеансы</h1>');
  });

  it('an infrastructure failure (the audit trail unusable) is a 503 page that says to try again, and the action did not run', async () => {
    const clinician = await logIn('ivanova');
    const handle = sha256Hex(sessionIdOf(clinician));
    const officer = await logIn('security');
    const token = csrfOf((await officer.get('/admin/sessions')).text);
    const r = await withAuditUnusable(srv.redis, () => postForm(officer, `/admin/sessions/${handle}/end`, { _csrf: token }));
    expect([r.status, errorCodeOf(r.text), r.headers.get('retry-after')]).toEqual([503, 'unavailable', '5']);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.text).toContain('Сервис временно недоступен. Попробуйте ещё раз через минуту.');
    expect((await clinician.get('/auth/session')).status).toBe(200);
  });

  it('step-up: an officer whose login is older than the window is sent to log in again (303 /login?reauth=1&next=<the page>) before the action runs; a view needs none', async () => {
    const clinician = await logIn('ivanova');
    const handle = sha256Hex(sessionIdOf(clinician));
    const officer = await logIn('security');
    const token = csrfOf((await officer.get('/admin/sessions')).text);
    clock.advance(srv.config.CARDAUTH_ADMIN_STEP_UP_SEC * 1000 + 1);
    expect((await officer.get('/admin/sessions')).status).toBe(200);
    const before = (await auditRecords(srv.redis)).length;
    const r = await postForm(officer, `/admin/sessions/${handle}/end`, { _csrf: token });
    expect([r.status, r.headers.get('location')]).toEqual([303, '/login?next=%2Fadmin%2Fsessions&reauth=1']);
    expect((await clinician.get('/auth/session')).status).toBe(200);
    expect(await auditRecords(srv.redis)).toHaveLength(before);
    await logIn('security', officer);
    expect((await submitFrom(officer, '/admin/sessions', `/admin/sessions/${handle}/end`)).status).toBe(303);
    expect((await clinician.get('/auth/session')).status).toBe(401);
  });

  it('the sessions page pages by the store\'s cursor (50 a page) and filters by login: every live session once', async () => {
    const hash = await srv.services.hasher.hash(password('many'));
    for (let i = 0; i < 55; i++) {
      const uid = `04C1${i.toString(16).toUpperCase().padStart(10, '0')}`;
      const acc = await srv.services.accounts.create({ login: `s${i}`, displayName: `Сеанс ${i}`, roles: ['clinician'], passwordHash: hash });
      await srv.services.cards.bind({ uid, accountId: acc.id, by: 'os:test' });
      expect((await srv.login(srv.client(), agent, uid, `s${i}`, password('many'))).status).toBe(200);
    }
    const officer = await logIn('security');
    const all = (await srv.services.admin.sessions.list({ limit: 500 })).sessions.map((x) => x.handle).sort();
    const handles: string[] = [];
    let next: string | null = '/admin/sessions';
    let pages = 0;
    while (next) {
      const r = await officer.get(next);
      expect(r.status).toBe(200);
      handles.push(...[...r.text.matchAll(/action="\/admin\/sessions\/([0-9a-f]{64})\/end"/g)].map((m) => m[1]!));
      next = /<a href="([^"]+)" rel="next">/.exec(r.text)?.[1]?.replace(/&amp;/g, '&') ?? null;
      pages++;
    }
    expect(pages).toBeGreaterThan(1);
    expect([...new Set(handles)].sort()).toEqual(all);
    const one = await officer.get('/admin/sessions?login=s7');
    expect([...one.text.matchAll(/<th scope="row">([^<]+)<\/th>/g)].map((m) => m[1])).toEqual(['s7']);
  });

  it('the СКУД page shows the presence gate\'s policy and each integration\'s feed, as GET /admin/api/presence answers it', async () => {
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const skud = await srv.services.skud.add({ name: 'Parsec <b>корпус 1</b>', publicJwk: await exportJWK(publicKey) });
    const officer = await logIn('security');
    const api = (await officer.get('/admin/api/presence')).json;
    const r = await officer.get('/admin/presence');
    expect(r.status).toBe(200);
    expect(r.text).toContain('<h1>СКУД</h1>');
    expect(r.text).toContain(`<dd id="gate">${api.policy.gate === 'on' ? 'включена' : 'выключена'}`);
    expect(r.text).toMatch(new RegExp(`<tr id="skud-${skud.id}">\\s*<th scope="row">Parsec &lt;b&gt;корпус 1&lt;/b&gt;</th>\\s*<td><code>${skud.fingerprint}</code></td>\\s*<td>—</td>\\s*<td>—</td>\\s*<td><strong class="warn">молчит</strong></td>\\s*<td>0</td>`));
    expect(api.integrations.find((i: { id: string }) => i.id === skud.id)).toMatchObject({ silent: true, eventsToday: 0, lastStatementAt: null });
  });

  it('the policy page shows every effective value and where it came from', async () => {
    const r = await (await logIn('security')).get('/admin/policy');
    expect(r.text).toContain('<dd id="profile">fstec-2026</dd>');
    expect(r.text).toMatch(/<tr id="CARDAUTH_PASSWORD_MIN_LENGTH">[\s\S]*?<td>12<\/td>\s*<td>профиль<\/td>/);
    expect(r.text.match(/<tr id="CARDAUTH_/g)).toHaveLength(7);
  });
});
