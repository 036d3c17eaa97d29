import { exportJWK, generateKeyPair } from 'jose';
import { signStatement } from '../../../src/card-agent/sign-statement';
import { auditRecords, lastAudit } from '../../helpers/audit';
import { manualClock, suitePeople, type TestAgent, type TestServer } from '../../helpers/app';
import { errorCodeOf, postForm, statusOf, submitFrom } from '../../helpers/pages';
import type { TestRedis } from '../../helpers/redis';
import { cliEnv, OS_ACTOR, runCli } from '../../cli/support';

// The workbench's cards page (/admin/cards) and its JSON twins (/admin/api/cards...), end to end
// on a real server and Redis: who may see and act, CSRF, escaping, every form through the same
// use case the CLI calls, the CSV import's dry run and its all-or-nothing run, the desk read.
describe('workbench: the cards page and /admin/api/cards', () => {
  const clock = manualClock();
  let srv: TestServer;
  let agent: TestAgent;
  let redis: TestRedis;
  const XSS = '<img src=x onerror=alert(1)>';
  const PEOPLE: Array<[string, string, string[]]> = [
    ['ivanova', '04B1B1B1B1B1B1', ['clinician']],
    ['security', '04B2B2B2B2B2B2', ['security_officer']],
    ['auditor', '04B4B4B4B4B4B4', ['auditor']],
    ['chief', '04B5B5B5B5B5B5', ['chief_admin']],
  ];
  const { password, logIn } = suitePeople(PEOPLE, { clock, env: { CARDAUTH_SESSION_IDLE_SEC: '3600', CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_NONCE_PER_MIN: '1000' } }, (s, a, r) => {
    [srv, agent, redis] = [s, a, r];
  });
  let n = 0;
  /** A new clinician with no card; its login. */
  const clinician = async (displayName = 'Врач'): Promise<string> => {
    const login = `vrach${++n}`;
    await srv.services.accounts.create({ login, displayName, roles: ['clinician'], passwordHash: await srv.services.hasher.hash(password(login)) });
    return login;
  };
  /** A distinct 7-byte UID. */
  const uid = () => `04C0${(++n).toString(16).toUpperCase().padStart(10, '0')}`;
  const cli = (args: string[]) => runCli(args, { env: cliEnv({ REDIS_URL: redis.url }) });

  it('an officer and a chief_admin see the page (one h1, the nav, labelled forms); a clinician and an auditor are refused the view and every form', async () => {
    for (const who of ['security', 'chief']) {
      const r = await (await logIn(who)).get('/admin/cards');
      expect([who, r.status]).toEqual([who, 200]);
      expect(r.text).toContain('<h1>Карты</h1>');
      expect(r.text).toMatch(/<a href="\/admin\/cards" aria-current="page">/);
      expect(r.text).toContain('<script src="/assets/cards.js" defer></script>');
      expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)|<style|<[a-z][^>]*\s(?:style|on[a-z]+)=/i);
      // Every input has its label.
      for (const [, id] of r.text.matchAll(/<(?:input|select|textarea) id="([^"]+)"/g)) expect([id, r.text.includes(`for="${id}"`)]).toEqual([id, true]);
    }
    const owner = await clinician();
    const card = uid();
    await srv.services.cards.bind({ uid: card, accountId: (await srv.services.accounts.findByLogin(owner))!.id, by: 'os:test' });
    for (const who of ['ivanova', 'auditor']) {
      const c = await logIn(who);
      const view = await c.get('/admin/cards');
      expect([who, view.status, errorCodeOf(view.text)]).toEqual([who, 403, 'forbidden']);
      const before = (await auditRecords(srv.redis)).length;
      for (const [path, fields] of [
        ['/admin/cards/bind', { login: owner, uid: uid() }],
        [`/admin/cards/${card}/lost`, {}],
        [`/admin/cards/${card}/revoke`, { reason: 'lost' }],
        ['/admin/cards/import', { csv: `login,uid\n${owner},${uid()}\n`, mode: 'commit' }],
      ] as const) {
        const w = await postForm(c, path, { _csrf: 'x', ...fields });
        expect([who, path, w.status, errorCodeOf(w.text)]).toEqual([who, path, 403, 'forbidden']);
      }
      // The pages' forms refuse before anything runs (not audited); the API lets an auditor reach the
      // use case, which refuses it (audited, read_only), and a clinician not even that.
      expect((await auditRecords(srv.redis)).slice(before)).toEqual([]);
      const api = await c.post('/admin/api/cards', { login: owner, uid: uid() });
      expect([who, api.status, api.json.error.code]).toEqual([who, 403, 'forbidden']);
      expect((await c.post(`/admin/api/cards/${card}/lost`)).status).toBe(403);
      const refusals = who === 'auditor' ? [['card.bound', 'failure', 'read_only'], ['card.revoked', 'failure', 'read_only']] : [];
      expect((await auditRecords(srv.redis)).slice(before).map((e) => [e.type, e.outcome, e.reason])).toEqual(refusals);
    }
    expect((await (await logIn('auditor')).get('/admin/api/cards?limit=1')).status).toBe(200);
    expect((await srv.services.cards.get(card))!.status).toBe('active');
  });

  it('a stored display name and card label of <img src=x onerror=alert(1)> render as text', async () => {
    const login = await clinician(XSS);
    const card = uid();
    await srv.services.cards.bind({ uid: card, accountId: (await srv.services.accounts.findByLogin(login))!.id, label: XSS, by: 'os:test' });
    const r = await (await logIn('security')).get(`/admin/cards?login=${login}`);
    expect(r.text).not.toContain(XSS);
    expect(r.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(r.text.match(/&lt;img src=x onerror=alert\(1\)&gt;/g)).toHaveLength(2);
  });

  it('CSRF: a bind with no token, or a wrong one, is 403 csrf_failed and binds nothing', async () => {
    const officer = await logIn('security');
    const login = await clinician();
    const card = uid();
    for (const fields of [{}, { _csrf: 'wrong' }] as Array<Record<string, string>>) {
      const r = await postForm(officer, '/admin/cards/bind', { ...fields, login, uid: card });
      expect([r.status, errorCodeOf(r.text)]).toEqual([403, 'csrf_failed']);
    }
    expect(await srv.services.cards.get(card)).toBeNull();
    // The import form (a larger body) too.
    const imp = await postForm(officer, '/admin/cards/import', { csv: `login,uid\n${login},${card}\n`, mode: 'commit' });
    expect([imp.status, errorCodeOf(imp.text)]).toEqual([403, 'csrf_failed']);
    expect(await srv.services.cards.get(card)).toBeNull();
  });

  /** A stored binding and its audit record, without who did it (and when, and which card or account). */
  const comparable = async (card: string, type: string) => {
    const { uid: _u, accountId: _a, boundBy, boundAt: _b, revokedBy, revokedAt: _r, ...binding } = (await srv.services.cards.get(card))!;
    const record = (await auditRecords(srv.redis, type)).filter((e) => e.cardUid === card).at(-1)!;
    const { actor, details, subject, cardUid: _c, seq: _s, ts: _t, prev: _p, intake: _i, sessionIdHash: _sh, ...rest } = record;
    const { via, ip: _ip, host: _host, userAgent: _userAgent, ...detailsRest } = details ?? {};
    return { binding, record: { ...rest, details: detailsRest, subjectKeys: Object.keys(subject ?? {}).sort() }, who: { boundBy, revokedBy, actor, via } };
  };

  it('the page and the CLI reach the same result for bind, revoke and lost: the same stored state and audit event, only who and by which channel differ', async () => {
    const officer = await logIn('security');
    const [viaCli, viaPage] = [await clinician(), await clinician()];
    const [a, b] = [uid(), uid()];
    expect((await cli(['card', 'bind', '--login', viaCli, '--uid', a, '--label', 'ЕКП', '--expires', '2099-01-01'])).code).toBe(0);
    const bound = await submitFrom(officer, '/admin/cards', '/admin/cards/bind', { login: viaPage, uid: b.toLowerCase(), label: 'ЕКП', expires: '2099-01-01', reissue_reason: '' });
    expect([bound.status, bound.headers.get('location')]).toEqual([303, '/admin/cards']);
    expect(statusOf((await officer.get('/admin/cards')).text)).toBe(`Карта ${b} привязана к ${viaPage}.`);
    const [cliBound, pageBound] = [await comparable(a, 'card.bound'), await comparable(b, 'card.bound')];
    expect(pageBound.binding).toEqual(cliBound.binding);
    expect(pageBound.record).toEqual(cliBound.record);
    expect(cliBound.who).toMatchObject({ boundBy: OS_ACTOR, actor: OS_ACTOR, via: 'cli' });
    expect(pageBound.who).toMatchObject({ boundBy: expect.stringMatching(/^acct:acc_/), actor: expect.stringMatching(/^acct:acc_/), via: 'web' });

    expect((await cli(['card', 'revoke', '--uid', a, '--reason', 'stolen'])).code).toBe(0);
    expect((await submitFrom(officer, '/admin/cards', `/admin/cards/${b}/revoke`, { reason: 'stolen' })).status).toBe(303);
    const [cliRevoked, pageRevoked] = [await comparable(a, 'card.revoked'), await comparable(b, 'card.revoked')];
    expect(pageRevoked.binding).toEqual(cliRevoked.binding);
    expect(pageRevoked.record).toEqual(cliRevoked.record);
    expect(pageRevoked.binding).toMatchObject({ status: 'revoked', revokeReason: 'stolen' });

    const [c, d] = [uid(), uid()];
    await srv.services.cards.bind({ uid: c, accountId: (await srv.services.accounts.findByLogin(viaCli))!.id, by: 'os:test' });
    await srv.services.cards.bind({ uid: d, accountId: (await srv.services.accounts.findByLogin(viaPage))!.id, by: 'os:test' });
    expect((await cli(['card', 'lost', '--uid', c])).code).toBe(0);
    expect((await submitFrom(officer, '/admin/cards', `/admin/cards/${d}/lost`)).status).toBe(303);
    const [cliLost, pageLost] = [await comparable(c, 'card.revoked'), await comparable(d, 'card.revoked')];
    expect(pageLost.binding).toEqual(cliLost.binding);
    expect(pageLost.record).toEqual(cliLost.record);
    expect(pageLost.record).toMatchObject({ reason: 'lost' });
  });

  it('report lost: every session opened with the card ends at once (the clinician\'s next request is refused)', async () => {
    const login = await clinician();
    const card = uid();
    const id = (await srv.services.accounts.findByLogin(login))!.id;
    await srv.services.cards.bind({ uid: card, accountId: id, by: 'os:test' });
    const session = srv.client();
    expect((await srv.login(session, agent, card, login, password(login))).status).toBe(200);
    expect((await session.get('/auth/session')).status).toBe(200);
    const officer = await logIn('security');
    const r = await submitFrom(officer, '/admin/cards', `/admin/cards/${card}/lost`);
    expect(r.status).toBe(303);
    expect(statusOf((await officer.get('/admin/cards')).text)).toBe(`Карта ${card} отмечена утерянной и отозвана; завершено сеансов: 1.`);
    expect((await session.get('/auth/session')).status).toBe(401);
    expect(await lastAudit(srv.redis, 'session.ended')).toMatchObject({ subject: { login }, cardUid: card });
  });

  it('replace: the old card revoked (replaced) and the new one bound in one step; a refusal re-renders the page with its message (409 card_bound)', async () => {
    const officer = await logIn('security');
    const login = await clinician();
    const [old, fresh] = [uid(), uid()];
    await srv.services.cards.bind({ uid: old, accountId: (await srv.services.accounts.findByLogin(login))!.id, by: 'os:test' });
    const r = await submitFrom(officer, '/admin/cards', '/admin/cards/replace', { old_uid: old, uid: fresh, label: 'новая' });
    expect(r.status).toBe(303);
    expect(await srv.services.cards.get(old)).toMatchObject({ status: 'revoked', revokeReason: 'replaced', replacedBy: fresh });
    expect(await srv.services.cards.get(fresh)).toMatchObject({ status: 'active', replaces: old, label: 'новая' });
    const again = await submitFrom(officer, '/admin/cards', '/admin/cards/bind', { login, uid: fresh });
    expect([again.status, errorCodeOf(again.text)]).toEqual([409, 'card_bound']);
    expect(again.text).toContain('Эта карта уже привязана к учётной записи.');
    const bad = await submitFrom(officer, '/admin/cards', '/admin/cards/bind', { login, uid: 'not-hex' });
    expect([bad.status, errorCodeOf(bad.text)]).toEqual([400, 'uid_malformed']);
    // A day that does not exist, or one gone by, binds nothing.
    for (const expires of ['2099-02-30', '2001-01-01']) {
      const when = await submitFrom(officer, '/admin/cards', '/admin/cards/bind', { login, uid: uid(), expires });
      expect([expires, when.status, errorCodeOf(when.text)]).toEqual([expires, 400, 'bad_request']);
    }
  });

  it('the list pages and filters on the server: by login prefix, by UID, by status', async () => {
    const officer = await logIn('security');
    const login = await clinician();
    const id = (await srv.services.accounts.findByLogin(login))!.id;
    const cards = [uid(), uid(), uid()];
    await srv.services.cards.bind({ uid: cards[0]!, accountId: id, by: 'os:test' });
    await srv.services.cards.revoke({ uid: cards[0]!, reason: 'left', by: 'os:test' });
    for (const c of cards.slice(1)) await srv.services.cards.bind({ uid: c, accountId: id, by: 'os:test' });
    const rows = (html: string) => [...html.matchAll(/<th scope="row"><code>([0-9A-F]+)<\/code><\/th>/g)].map((m) => m[1]);
    expect(rows((await officer.get(`/admin/cards?login=${login}`)).text)).toEqual(cards);
    expect(rows((await officer.get(`/admin/cards?login=${login}&status=active`)).text)).toEqual(cards.slice(1));
    expect(rows((await officer.get(`/admin/cards?login=${login}&status=revoked`)).text)).toEqual(cards.slice(0, 1));
    expect(rows((await officer.get(`/admin/cards?uid=${cards[1]!.toLowerCase()}`)).text)).toEqual([cards[1]]);
    expect(rows((await officer.get('/admin/cards?uid=zz')).text)).toEqual([]);
    const api = await officer.get(`/admin/api/cards?login=${login}&limit=2`);
    expect(api.json.cards.map((c: { uid: string }) => c.uid)).toEqual(cards.slice(0, 2));
    expect(api.json.cards[0]).toMatchObject({ status: 'revoked', owner: { login, displayName: 'Врач' } });
    expect(api.json.cards[0].owner).not.toHaveProperty('passwordHash');
    const next = await officer.get(`/admin/api/cards?login=${login}&limit=2&cursor=${api.json.cursor}`);
    expect([next.json.cards.map((c: { uid: string }) => c.uid), next.json.cursor]).toEqual([cards.slice(2), null]);
    // The page's own pager link carries the cursor.
    const page = await officer.get(`/admin/cards?login=${login}`);
    expect(page.text).not.toContain('rel="next"');
  });

  it('CSV import: a dry run reports each line\'s fate and binds nothing; the real run with a bad line binds nothing; a clean file is bound, audited', async () => {
    const officer = await logIn('security');
    const [a, b] = [await clinician(), await clinician()];
    const [u1, u2, u3] = [uid(), uid(), uid()];
    const bad = `login;uid;label\n${a};${u1};ЕКП\nnobody-here;${u2};\n${b};08123456;\n${b};${u1};\n`;
    const dry = await submitFrom(officer, '/admin/cards', '/admin/cards/import', { csv: bad, mode: 'dry_run' });
    expect(dry.status).toBe(200);
    expect(statusOf(dry.text)).toBe('Проверка: строк 4, к привязке 1, с ошибками 3. Ничего не изменено.');
    expect([...dry.text.matchAll(/<tr data-fate="([a-z_]+)">/g)].map((m) => m[1])).toEqual(['bind', 'unknown_login', 'bad_uid', 'duplicate_in_file']);
    expect(dry.text).toContain('<caption>Итог по строкам</caption>');
    // The text stays in the form, to fix and run again.
    expect(dry.text).toContain(`nobody-here;${u2};`);
    expect(await srv.services.cards.get(u1)).toBeNull();
    const before = (await auditRecords(srv.redis, 'card.imported')).length;
    const refused = await submitFrom(officer, '/admin/cards', '/admin/cards/import', { csv: bad, mode: 'commit' });
    expect(statusOf(refused.text)).toBe('Импорт не выполнен: строк с ошибками 3. Ничего не изменено; исправьте строки ниже.');
    expect(await srv.services.cards.get(u1)).toBeNull();
    expect(await auditRecords(srv.redis, 'card.imported')).toHaveLength(before);
    const clean = `login,uid,label\n${a},${u1},ЕКП\n${b},${u3},\n`;
    const done = await submitFrom(officer, '/admin/cards', '/admin/cards/import', { csv: clean, mode: 'commit', file: 'cards.csv' });
    expect(statusOf(done.text)).toBe('Импорт выполнен: привязано карт 2, строк 2.');
    expect(await srv.services.cards.get(u1)).toMatchObject({ status: 'active', label: 'ЕКП' });
    expect(await lastAudit(srv.redis, 'card.imported')).toMatchObject({ actor: expect.stringMatching(/^acct:/), details: expect.objectContaining({ file: 'cards.csv', bound: 2, via: 'web' }) });
    // A file that cannot be read at all: 400 with the text kept.
    const header = await submitFrom(officer, '/admin/cards', '/admin/cards/import', { csv: 'who,what\n', mode: 'dry_run' });
    expect([header.status, errorCodeOf(header.text)]).toEqual([400, 'bad_request']);
    expect(header.text).toContain('who,what');
  });

  it('pending self-enrollments: listed with who asked and where (a display name as text); approve binds the card (listed, audited via web), reject needs a reason', async () => {
    const officer = await logIn('security');
    const [a, b] = [await clinician(XSS), await clinician()];
    const [ua, ub] = [uid(), uid()];
    for (const [login, card] of [[a, ua], [b, ub]] as const) {
      const accountId = (await srv.services.accounts.findByLogin(login))!.id;
      expect(await srv.services.enrollments.request({ uid: card, accountId, agentId: agent.id, workstation: 'РМ-101', reader: 'Virtual PCD 00 00' })).toHaveProperty('pending');
    }
    const page = await officer.get('/admin/cards');
    expect(page.text).toMatch(/<table id="pending"[^>]*>\s*<caption>Заявки на привязку карт<\/caption>/);
    expect(page.text).toContain(`<th scope="row"><code>${ua}</code></th>`);
    expect(page.text).not.toContain(XSS);
    expect(page.text).toContain(`${a} (&lt;img src=x onerror=alert(1)&gt;)`);
    // A clinician may not approve.
    const refused = await postForm(await logIn('ivanova'), `/admin/cards/pending/${ua}/approve`, { _csrf: 'x' });
    expect([refused.status, errorCodeOf(refused.text)]).toEqual([403, 'forbidden']);

    const approved = await submitFrom(officer, '/admin/cards', `/admin/cards/pending/${ua}/approve`, { label: 'ЕКП' });
    expect(approved.status).toBe(303);
    const after = await officer.get(`/admin/cards?login=${a}`);
    expect(statusOf(after.text)).toBe(`Заявка подтверждена: карта ${ua} привязана к ${a}.`);
    // Bound, and on the list (the approval keeps the card index too).
    expect(after.text).toMatch(new RegExp(`<th scope="row"><code>${ua}</code></th>\\s*<td>${a} \\(`));
    expect(await srv.services.cards.get(ua)).toMatchObject({ status: 'active', label: 'ЕКП' });
    expect(await lastAudit(srv.redis, 'card.enrollment_approved')).toMatchObject({ actor: expect.stringMatching(/^acct:/), cardUid: ua, details: expect.objectContaining({ via: 'web' }) });

    const noReason = await submitFrom(officer, '/admin/cards', `/admin/cards/pending/${ub}/reject`, { reason: ' ' });
    expect([noReason.status, errorCodeOf(noReason.text)]).toEqual([400, 'bad_request']);
    const rejected = await submitFrom(officer, '/admin/cards', `/admin/cards/pending/${ub}/reject`, { reason: 'не та карта' });
    expect(rejected.status).toBe(303);
    expect(statusOf((await officer.get('/admin/cards')).text)).toBe(`Заявка ${b} на карту ${ub} отклонена.`);
    expect(await srv.services.cards.get(ub)).toBeNull();
    expect(await lastAudit(srv.redis, 'card.enrollment_rejected')).toMatchObject({ cardUid: ub, details: expect.objectContaining({ note: 'не та карта', via: 'web' }) });
    const gone = await submitFrom(officer, '/admin/cards', `/admin/cards/pending/${ub}/reject`, { reason: 'ещё раз' });
    expect([gone.status, errorCodeOf(gone.text)]).toEqual([404, 'enrollment_not_found']);
    expect(gone.text).toContain('Такой заявки нет');
  });

  it('the JSON twins: bind, revoke, lost, replace and a text/csv import under /admin/api/cards', async () => {
    const officer = await logIn('security');
    const login = await clinician();
    const [a, b, c] = [uid(), uid(), uid()];
    const bound = await officer.post('/admin/api/cards', { login, uid: a, label: 'ЕКП', expiresAt: '2099-01-01T00:00:00+03:00' });
    expect([bound.status, bound.json.card]).toEqual([201, expect.objectContaining({ uid: a, status: 'active', expiresAt: '2098-12-31T21:00:00Z' })]);
    expect((await officer.post('/admin/api/cards', { login, uid: a })).json.error.code).toBe('card_bound');
    expect((await officer.post('/admin/api/cards', { login, uid: 'zz' })).json.error.code).toBe('uid_malformed');
    const replaced = await officer.post(`/admin/api/cards/${a}/replace`, { uid: b });
    expect(replaced.json).toMatchObject({ old: { uid: a, status: 'revoked' }, card: { uid: b, replaces: a }, ended: 0 });
    expect((await officer.post(`/admin/api/cards/${b}/revoke`, { reason: 'left' })).json).toMatchObject({ card: { uid: b, revokeReason: 'left' }, already: false });
    const csv = `login,uid\n${login},${c}\n`;
    const dry = await officer.request('POST', '/admin/api/cards/import?dryRun=true', csv, { 'content-type': 'text/csv' });
    expect(dry.json).toMatchObject({ committed: false, counts: { bind: 1 }, lines: [{ line: 2, uid: c, fate: 'bind' }] });
    expect(await srv.services.cards.get(c)).toBeNull();
    const real = await officer.request('POST', '/admin/api/cards/import', csv, { 'content-type': 'text/csv' });
    expect(real.json).toMatchObject({ committed: true });
    expect((await officer.post(`/admin/api/cards/${c}/lost`)).json).toMatchObject({ card: { uid: c, revokeReason: 'lost' } });
    // A form body or JSON is no CSV file.
    expect((await officer.post('/admin/api/cards/import', { csv })).json.error.code).toBe('bad_request');
  });

  it('desk read: the officer\'s own agent signs a statement for the session\'s nonce; the answer is the UID and whose it is; no login happens; once only; audited card.desk_read', async () => {
    const officer = await logIn('security');
    const before = (await officer.get('/auth/session')).json;
    const free = uid();
    const st = await srv.statementFor(officer, agent, free, { desk: true });
    const r = await officer.post('/admin/api/cards/desk-read', { statement: st });
    expect([r.status, r.json]).toEqual([200, { uid: free, bound: null }]);
    expect(await lastAudit(srv.redis, 'card.desk_read')).toMatchObject({ outcome: 'success', actor: expect.stringMatching(/^acct:acc_/), cardUid: free, source: expect.objectContaining({ agentId: agent.id }) });
    // Once only: the nonce is used up.
    const replay = await officer.post('/admin/api/cards/desk-read', { statement: st });
    expect([replay.status, replay.json.error.code]).toEqual([401, 'card_rejected']);
    expect(await lastAudit(srv.redis, 'card.desk_read')).toMatchObject({ outcome: 'failure', reason: 'replayed_nonce' });
    // A bound card: whose it is.
    const owned = await officer.post('/admin/api/cards/desk-read', { statement: await srv.statementFor(officer, agent, PEOPLE[0]![1], { desk: true }) });
    expect(owned.json).toEqual({ uid: PEOPLE[0]![1], bound: { login: 'ivanova', displayName: 'Д-р ivanova', status: 'active', label: '' } });
    // No login happened: the session is still the officer's, unlocked.
    expect((await officer.get('/auth/session')).json).toEqual(before);
    // A pending agent's statement is refused.
    const pending = await srv.agent({ approve: false });
    const refused = await officer.post('/admin/api/cards/desk-read', { statement: await srv.statementFor(officer, pending, free, { desk: true }) });
    expect([refused.status, refused.json.error.code]).toEqual([401, 'card_rejected']);
    expect(await lastAudit(srv.redis, 'card.desk_read')).toMatchObject({ outcome: 'failure', reason: 'agent_not_approved' });
    // An approved agent whose workstation was never seen at the officer's IP: a statement carried elsewhere.
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const far = await srv.services.agents.register({ name: 'РМ-далеко', publicJwk: await exportJWK(publicKey) });
    await srv.services.agents.approve(far.id, 'os:test');
    const nonce = (await officer.post('/auth/nonce')).json.nonce as string;
    const carried = await signStatement({ agentId: far.id, alg: 'EdDSA', privateKey }, { aud: srv.config.CARDAUTH_PUBLIC_ORIGIN, nonce, uid: free, reader: 'R', desk: true }, srv.clock);
    const mismatch = await officer.post('/admin/api/cards/desk-read', { statement: carried });
    expect([mismatch.status, mismatch.json.error.code]).toEqual([401, 'card_rejected']);
    expect(await lastAudit(srv.redis, 'card.desk_read')).toMatchObject({ outcome: 'failure', reason: 'workstation_mismatch' });
    // The two kinds do not mix (both signed by the same approved agent): a login statement is not
    // a desk read, and a desk read does not log anyone in.
    const loginKind = await officer.post('/admin/api/cards/desk-read', { statement: await srv.statementFor(officer, agent, free) });
    expect([loginKind.status, loginKind.json.error.code]).toEqual([401, 'card_rejected']);
    expect(await lastAudit(srv.redis, 'card.desk_read')).toMatchObject({ outcome: 'failure', reason: 'bad_statement' });
    const stranger = srv.client();
    const asLogin = await stranger.post('/auth/card', { statement: await srv.statementFor(stranger, agent, PEOPLE[0]![1], { desk: true }) });
    expect([asLogin.status, asLogin.json.error.code]).toEqual([401, 'card_rejected']);
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'failure', reason: 'bad_statement' });
    // Officers only.
    for (const who of ['ivanova', 'auditor']) {
      const c = await logIn(who);
      const x = await c.post('/admin/api/cards/desk-read', { statement: await srv.statementFor(c, agent, free, { desk: true }) });
      expect([who, x.status]).toEqual([who, 403]);
    }
  });
});
