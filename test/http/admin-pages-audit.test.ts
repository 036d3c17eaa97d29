import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCheckpointWriter } from '../../src/audit/checkpoint';
import { readAuditKeys, writeAuditKeys } from '../../src/audit/keys';
import { canonicalJson } from '../../src/audit/record';
import { auditRecords, lastAudit } from '../helpers/audit';
import { manualClock, suitePeople, type TestAgent, type TestServer } from '../helpers/app';
import { csrfOf, errorCodeOf, postForm, statusOf, submitFrom } from '../helpers/pages';

/** HTML text as a browser reads it (the escapes EJS writes). */
const unescape = (s: string) => s.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
/** The seqs of the log viewer's rows, in order. */
const seqsOf = (html: string) => [...html.matchAll(/<tr id="rec-(\d+)">/g)].map((m) => Number(m[1]));
const nextOf = (html: string) => {
  const m = /<a href="([^"]+)" rel="next">/.exec(html);
  return m ? unescape(m[1]!) : null;
};
const navOf = (html: string) => [...(/<nav class="admin-nav"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '').matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]);

const AUDIT_PAGES = ['/admin/audit', '/admin/audit/integrity', '/admin/audit/chart'];

// The auditor's pages (issue 11 §8): the log viewer with its filters, paging, record view and
// exports; the integrity panel; the chart. For the auditor only, each view and export recorded.
describe('the auditor\'s pages', () => {
  const clock = manualClock(Date.parse('2026-12-04T10:00:00.000Z'));
  const dir = mkdtempSync(join(tmpdir(), 'cardauth-audit-pages-'));
  const keysFile = join(dir, 'audit-keys.json');
  let srv: TestServer;
  let agent: TestAgent;
  const PEOPLE: Array<[string, string, string[]]> = [
    ['ivanova', '04C1C1C1C1C1C1', ['clinician']],
    ['security', '04C2C2C2C2C2C2', ['security_officer']],
    ['auditor', '04C4C4C4C4C4C4', ['auditor']],
    ['chief', '04C5C5C5C5C5C5', ['chief_admin']],
  ];
  const { logIn } = suitePeople(PEOPLE, { clock, env: { CARDAUTH_SESSION_IDLE_SEC: '3600', CARDAUTH_IP_ATTEMPTS: '1000', CARDAUTH_AUDIT_KEYS_FILE: keysFile } }, async (s, a) => {
    [srv, agent] = [s, a];
    await writeAuditKeys(keysFile);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** Records `n` failed password checks of `login` (a minute apart). */
  const failures = async (n: number, login: string, more: Record<string, unknown> = {}) => {
    for (let i = 0; i < n; i++) {
      clock.advance(60_000);
      await srv.services.audit.append({ type: 'password.checked', outcome: 'failure', reason: 'wrong_password', subject: { login }, ...more });
    }
  };
  /** The audit records written since `before` of a type. */
  const since = async (before: number, type: string) => (await auditRecords(srv.redis)).slice(before).filter((r) => r.type === type);

  it('the auditor sees its own pages in the nav (and only those), titled the auditor\'s workbench; /admin takes it there; the officer\'s nav has none of them', async () => {
    const auditor = await logIn('auditor');
    for (const path of AUDIT_PAGES) {
      const r = await auditor.get(path);
      expect([path, r.status]).toEqual([path, 200]);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.text).toMatch(/<html lang="ru">/);
      expect(r.text).toMatch(/<title>[^<]+ — Рабочее место аудитора<\/title>/);
      expect(r.text).toContain('<span class="brand">cardauth · Рабочее место аудитора</span>');
      expect(r.text).not.toContain('администратора безопасности');
      expect(navOf(r.text)).toEqual(AUDIT_PAGES);
      expect(r.text).toContain(`<a href="${path}" aria-current="page">`);
      expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=/i);
    }
    expect((await auditor.get('/admin')).headers.get('location')).toBe('/admin/audit');
    const en = (await auditor.get('/admin/audit?lang=en')).text;
    expect(en).toMatch(/<title>[^<]+ — Auditor’s workbench<\/title>/);
    expect(en).toContain('<span class="brand">cardauth · Auditor’s workbench</span>');
    const officer = await logIn('security');
    expect(navOf((await officer.get('/admin/accounts')).text)).toEqual(['/admin/accounts', '/admin/cards', '/admin/agents', '/admin/sessions', '/admin/lockouts', '/admin/policy', '/admin/presence']);
    expect((await officer.get('/admin')).headers.get('location')).toBe('/admin/accounts');
  });

  it('an officer\'s page refused to the auditor: the error page leads back to the auditor\'s workbench (/admin, its own pages), in both languages; an officer refused the auditor\'s pages is led to the administrator\'s', async () => {
    const auditor = await logIn('auditor');
    const ru = await auditor.get('/admin/accounts');
    expect([ru.status, errorCodeOf(ru.text)]).toEqual([403, 'forbidden']);
    expect(ru.text).toContain('<a href="/admin">К рабочему месту аудитора</a>');
    expect(ru.text).not.toContain('К рабочему месту администратора');
    expect((await auditor.get('/admin')).headers.get('location')).toBe('/admin/audit');
    const en = await auditor.get('/admin/accounts?lang=en');
    expect([en.status, errorCodeOf(en.text)]).toEqual([403, 'forbidden']);
    expect(en.text).toContain('<a href="/admin">To the auditor’s workbench</a>');
    const officer = await logIn('security');
    const refused = await officer.get('/admin/audit');
    expect([refused.status, errorCodeOf(refused.text)]).toEqual([403, 'forbidden']);
    expect(refused.text).toContain('<a href="/admin">К рабочему месту администратора</a>');
  });

  it('everyone else: 403 forbidden as a page, for every view, a record, an export and "verify now"; nothing read is recorded', async () => {
    await failures(1, 'ivanova');
    const [id] = (await srv.redis.xrevrange('audit:log', '+', '-', 'COUNT', 1))[0]!;
    for (const who of ['ivanova', 'security', 'chief']) {
      const c = await logIn(who);
      const before = (await auditRecords(srv.redis)).length;
      for (const path of [...AUDIT_PAGES, `/admin/audit/records/${id}`, '/admin/audit/export?format=csv']) {
        const r = await c.get(path);
        expect([who, path, r.status, errorCodeOf(r.text)]).toEqual([who, path, 403, 'forbidden']);
      }
      const v = await postForm(c, '/admin/audit/integrity/verify', { _csrf: 'x' });
      expect([who, v.status, errorCodeOf(v.text)]).toEqual([who, 403, 'forbidden']);
      expect((await auditRecords(srv.redis)).slice(before).filter((r) => r.type.startsWith('audit.'))).toEqual([]);
    }
    expect((await srv.client().get('/admin/audit')).headers.get('location')).toBe('/login?next=%2Fadmin%2Faudit');
  });

  it('an auditor whose role was taken away since its login: 403 for every view, the export and "verify now" (its roles as stored now, not as logged in); nothing read is recorded', async () => {
    const c = await logIn('auditor');
    const csrf = csrfOf((await c.get('/admin/audit/integrity')).text);
    const { id: accountId } = (await srv.services.accounts.findByLogin('auditor'))!;
    await srv.services.accounts.setRoles(accountId, ['clinician'], ['auditor']);
    try {
      const before = (await auditRecords(srv.redis)).length;
      for (const path of [...AUDIT_PAGES, '/admin/audit/export?format=csv']) {
        const r = await c.get(path);
        expect([path, r.status, errorCodeOf(r.text)]).toEqual([path, 403, 'forbidden']);
      }
      const page = await c.get('/admin/audit/integrity');
      expect(page.status).toBe(403);
      const verify = await postForm(c, '/admin/audit/integrity/verify', { _csrf: csrf });
      expect([verify.status, errorCodeOf(verify.text)]).toEqual([403, 'forbidden']);
      expect((await auditRecords(srv.redis)).slice(before).filter((r) => r.type.startsWith('audit.'))).toEqual([]);
    } finally {
      await srv.services.accounts.setRoles(accountId, ['auditor'], ['clinician']);
    }
  });

  it('the viewer: filters by account and outcome, newest first, 50 a page with next and first; each page view recorded with its count and filter', async () => {
    await failures(60, 'petrov');
    await failures(3, 'sidorova');
    const c = await logIn('auditor');
    const before = (await auditRecords(srv.redis)).length;
    const first = await c.get('/admin/audit?who=PETROV&outcome=failure');
    expect(first.status).toBe(200);
    const seqs = seqsOf(first.text);
    expect(seqs).toHaveLength(50);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    const next = nextOf(first.text)!;
    expect(next).toMatch(/^\/admin\/audit\?who=PETROV&outcome=failure&cursor=\d+-\d+$/);
    const second = await c.get(next);
    expect(seqsOf(second.text)).toHaveLength(10);
    expect(Math.max(...seqsOf(second.text))).toBeLessThan(Math.min(...seqs));
    expect(nextOf(second.text)).toBeNull();
    expect(unescape(second.text)).toContain('<a href="/admin/audit?who=PETROV&outcome=failure">');
    const viewed = await since(before, 'audit.viewed');
    expect(viewed.map((r) => r.details)).toEqual([
      expect.objectContaining({ count: 50, filter: 'who=PETROV outcome=failure', via: 'web' }),
      expect.objectContaining({ count: 10, filter: 'who=PETROV outcome=failure', via: 'web' }),
    ]);
    expect(viewed[0]!.actor).toMatch(/^acct:acc_/);
    // The event family, the card UID, the workstation, the IP.
    await srv.services.audit.append({ type: 'card.presented', outcome: 'failure', reason: 'unknown_card', cardUid: '04:AA:BB:CC:DD:EE:FF', source: { workstation: 'РМ-7', ip: '192.0.2.7' } });
    // A list of types and families, as the JSON API and the CLI take it (query-params.ts).
    for (const q of ['type=card.*&ip=192.0.2.7', 'uid=04aabbccddeeff', 'where=%D0%A0%D0%9C-7', 'ip=192.0.2.7', 'type=card.presented&outcome=failure', 'type=session.*,card.presented&ip=192.0.2.7']) {
      const r = await c.get(`/admin/audit?${q}`);
      expect([q, r.status, seqsOf(r.text).length]).toEqual([q, 200, 1]);
      expect(r.text).toContain('04:AA:BB:CC:DD:EE:FF');
    }
    expect(seqsOf((await c.get('/admin/audit?type=session.*&who=petrov')).text)).toEqual([]);
  });

  it('a card refused for its UID\'s length keeps the UID the agent claimed (2 bytes): the page and its export find it by that UID, as GET /admin/api/audit and the CLI would (uidParam)', async () => {
    const card = srv.client();
    expect((await card.post('/auth/card', { statement: await srv.statementFor(card, agent, '04:A1') })).status).toBe(401);
    expect(await lastAudit(srv.redis, 'card.presented')).toMatchObject({ outcome: 'failure', reason: 'uid_length', cardUid: '04:A1' });
    const c = await logIn('auditor');
    const page = await c.get('/admin/audit?uid=04a1');
    expect(page.status).toBe(200);
    expect(seqsOf(page.text)).toHaveLength(1);
    expect(page.text).toContain('04:A1');
    const rows = (await c.get('/admin/audit/export?uid=04-A1&format=jsonl')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.record.type, x.record.reason, x.record.cardUid])).toEqual([['card.presented', 'uid_length', '04:A1']]);
  });

  it('a bad filter value: 400 with a message in Russian naming how to write it, the form kept; nothing read or recorded', async () => {
    const c = await logIn('auditor');
    const before = (await auditRecords(srv.redis)).length;
    const cases: Array<[string, string]> = [
      ['since=2026-02-30', 'Дата «с» записана неверно'],
      ['since=2026-12-04&until=2026-12-01', 'Дата «по» записана неверно'],
      ['type=nonsense.*', 'Такого события нет'],
      ['outcome=maybe', 'Итог может быть только'],
      ['ip=not-an-ip', 'IP-адрес записан неверно'],
      ['uid=zz', 'UID карты записан неверно: нужны от 2 до 32 шестнадцатеричных цифр'],
      [`uid=${'0'.repeat(34)}`, 'UID карты записан неверно'],
      ['who=a&who=b', 'Каждое условие отбора указывается один раз'],
      [`who=${'x'.repeat(65)}`, 'Логин слишком длинный'],
    ];
    for (const [q, text] of cases) {
      const r = await c.get(`/admin/audit?${q}`);
      expect([q, r.status]).toEqual([q, 400]);
      expect(r.text).toContain(text);
      expect(r.text).toContain('aria-invalid="true"');
      expect(seqsOf(r.text)).toEqual([]);
    }
    expect((await c.get('/admin/audit?format=x&cursor=nonsense')).status).toBe(400);
    expect((await auditRecords(srv.redis)).slice(before).filter((r) => r.type.startsWith('audit.'))).toEqual([]);
  });

  it('a record opens with every field, escaped: a login typed as HTML shows as text, in the list and the record', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await failures(1, evil, { source: { ip: '192.0.2.9', userAgent: '"><script>alert(2)</script>' } });
    const c = await logIn('auditor');
    const list = await c.get(`/admin/audit?who=${encodeURIComponent(evil)}`);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain('<img src=x');
    expect(list.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const href = unescape(/<th scope="row"><a href="(\/admin\/audit\/records\/[^"]+)">/.exec(list.text)![1]!);
    const before = (await auditRecords(srv.redis)).length;
    const r = await c.get(href);
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('<img src=x');
    expect(r.text).not.toContain('<script>alert(2)');
    expect(r.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(r.text).toContain('wrong_password');
    const id = /\/admin\/audit\/records\/(\d+-\d+)/.exec(href)![1];
    expect((await since(before, 'audit.viewed')).map((x) => x.details)).toEqual([expect.objectContaining({ count: 1, filter: `id=${id}` })]);
    const missing = (await auditRecords(srv.redis)).length;
    expect((await c.get('/admin/audit/records/1-0')).status).toBe(404);
    // Whether an id exists is an answer too: recorded first, as the JSON API records it.
    expect((await since(missing, 'audit.viewed')).map((x) => x.details)).toEqual([expect.objectContaining({ count: 0, filter: 'id=1-0' })]);
    // A look-alike login (a right-to-left override in it) shows its invisible character escaped, as the CLI shows it.
    await failures(1, 'admin\u202egnp.exe');
    const spoof = await c.get('/admin/audit?who=admin%E2%80%AEgnp.exe');
    const table = /<table id="audit-records">[\s\S]*<\/table>/.exec(spoof.text)![0];
    expect(table).toContain('admin\\u202egnp.exe');
    expect(table).not.toContain('\u202e');
    expect((await c.get('/admin/audit/records/nonsense')).status).toBe(404);
  });

  it('export: CSV (BOM, `;`) and JSONL of the filter, recorded as audit.exported with count, format and filter before the download', async () => {
    await failures(2, 'kozlova');
    const c = await logIn('auditor');
    const before = (await auditRecords(srv.redis)).length;
    const res = await fetch(`${srv.url}/admin/audit/export?who=kozlova&outcome=failure&format=csv`, { headers: { cookie: c.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-\d{8}-\d{6}\.csv"$/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).split('\r\n').filter(Boolean);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(';');
    expect(lines.slice(1).every((l) => l.includes('kozlova') && l.includes('password.checked'))).toBe(true);
    expect((await since(before, 'audit.exported')).map((r) => r.details)).toEqual([expect.objectContaining({ count: 2, format: 'csv', filter: 'who=kozlova outcome=failure' })]);
    const jsonl = await c.get('/admin/audit/export?who=kozlova&format=jsonl');
    expect(jsonl.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const rows = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.intact, x.record.subject.login])).toEqual([[true, 'kozlova'], [true, 'kozlova']]);
    expect((await c.get('/admin/audit/export?format=xml')).status).toBe(400);
    expect((await c.get('/admin/audit/export?format=csv&since=yesterday')).status).toBe(400);
  });

  it('when the read cannot be recorded: the 503 page, nothing shown or sent', async () => {
    await failures(1, 'orlova');
    const c = await logIn('auditor');
    const csrf = csrfOf((await c.get('/admin/audit/integrity')).text);
    // An unreadable record at the head: readers skip it, but nothing can be chained onto it.
    const [badId] = [await srv.redis.xadd('audit:log', '*', 'r', 'not json', 'h', 'x')];
    try {
      const verify = await postForm(c, '/admin/audit/integrity/verify', { _csrf: csrf });
      expect([verify.status, errorCodeOf(verify.text)]).toEqual([503, 'unavailable']);
      for (const path of [...AUDIT_PAGES, '/admin/audit?who=orlova', '/admin/audit/export?format=csv&who=orlova']) {
        const r = await c.get(path);
        expect([path, r.status, errorCodeOf(r.text)]).toEqual([path, 503, 'unavailable']);
        expect(r.text).not.toContain('orlova');
        expect(r.headers.get('content-disposition')).toBeNull();
      }
    } finally {
      await srv.redis.xdel('audit:log', badId!);
    }
  });

  it('integrity: the last verification, the latest checkpoint and "verify now", which records audit.verified and names the first broken record of a tampered chain', async () => {
    const c = await logIn('auditor');
    let r = await c.get('/admin/audit/integrity');
    expect(r.text).toContain('Журнал ещё не проверялся.');
    expect(r.text).toContain('Контрольных точек нет');
    await createCheckpointWriter({ redis: srv.redis, clock, keys: readAuditKeys(keysFile).keys }).write();
    const ok = await submitFrom(c, '/admin/audit/integrity', '/admin/audit/integrity/verify');
    expect(ok.status).toBe(200);
    expect(statusOf(ok.text)).toMatch(/^Проверка завершена: цепочка цела, записей \d+\.$/);
    expect(ok.text).toContain('<dl id="checkpoint" data-valid="true">');
    expect(await lastAudit(srv.redis, 'audit.verified')).toMatchObject({ outcome: 'success', details: { checkpoints: 1, via: 'web' } });
    r = await c.get('/admin/audit/integrity');
    expect(r.text).toMatch(/Цепочка была цела: записей \d+\./);

    // A record edited in Redis directly: the stream rewritten with its ids, one record's text changed.
    await failures(1, 'volkova');
    const list = await srv.redis.xrange('audit:log', '-', '+');
    const at = list.findIndex(([, f]) => f[1]!.includes('volkova'));
    const [id, fields] = list[at]!;
    const body = JSON.parse(fields[1]!) as Record<string, unknown>;
    list[at] = [id, ['r', canonicalJson({ ...body, outcome: 'success' }), 'h', fields[3]!]];
    await srv.redis.del('audit:log');
    for (const [i, f] of list) await srv.redis.xadd('audit:log', i, ...f);
    const broken = await submitFrom(c, '/admin/audit/integrity', '/admin/audit/integrity/verify');
    expect(broken.status).toBe(200);
    expect(statusOf(broken.text)).toBe(`Проверка завершена: цепочка НАРУШЕНА. Первая нарушенная запись № ${body.seq as number} (${id}).`);
    expect(broken.text).toContain('<dd id="verify-kind" data-kind="record_edited">запись изменена (<code>hash_mismatch</code>)</dd>');
    expect(await lastAudit(srv.redis, 'audit.verified')).toMatchObject({ outcome: 'failure', reason: 'record_edited', details: { brokenId: id, brokenSeq: body.seq } });
    expect((await c.get('/admin/audit/integrity')).text).toContain(`Цепочка была нарушена: первая нарушенная запись № ${body.seq as number} (${id}).`);
    // Put it back for the tests after this one.
    list[at] = [id, fields];
    await srv.redis.del('audit:log');
    for (const [i, f] of list) await srv.redis.xadd('audit:log', i, ...f);
    const viewed = (await auditRecords(srv.redis, 'audit.viewed')).filter((x) => x.details.filter === 'integrity');
    expect(viewed.length).toBeGreaterThanOrEqual(4);
  });

  it('the chart: one bar per series and day over the range (default the last 30 days), their values, a legend and the same numbers as a table; recorded', async () => {
    clock.set(Date.parse('2026-12-10T12:00:00.000Z'));
    const c = await logIn('auditor'); // a session.created on 2026-12-10
    await failures(2, 'orlova'); // two failures on 2026-12-10
    await srv.services.audit.append({ type: 'account.locked', outcome: 'success', subject: { login: 'orlova' } });
    const before = (await auditRecords(srv.redis)).length;
    const r = await c.get('/admin/audit/chart');
    expect(r.status).toBe(200);
    const bars = [...r.text.matchAll(/<rect class="bar bar-(\w+)" data-series="\w+" data-day="([\d-]+)" data-value="(\d+)"/g)].map((m) => [m[2], m[1], Number(m[3])]);
    expect(bars).toHaveLength(90);
    expect(bars[0]![0]).toBe('2026-11-11');
    expect(bars.filter((b) => b[0] === '2026-12-10')).toEqual([
      ['2026-12-10', 'logins', expect.any(Number)],
      ['2026-12-10', 'failures', 2],
      ['2026-12-10', 'lockouts', 1],
    ]);
    expect(r.text).toContain('role="img" aria-labelledby="chart-title chart-desc"');
    expect(r.text).toContain('<table id="chart-table">');
    expect(r.text).toMatch(/<ul class="legend" aria-label="Обозначения">/);
    expect((await since(before, 'audit.viewed')).map((x) => x.details)).toEqual([expect.objectContaining({ count: 30, filter: 'chart since=2026-11-11 until=2026-12-10' })]);
    const week = await c.get('/admin/audit/chart?since=2026-12-04&until=2026-12-10');
    expect([...week.text.matchAll(/<rect class="bar /g)]).toHaveLength(21);
    // At most 366 days (MAX_CHART_DAYS), both included: from 2025-12-10 to 2026-12-10 is 366, from 2025-12-09 one too many.
    expect([...(await c.get('/admin/audit/chart?since=2025-12-10&until=2026-12-10')).text.matchAll(/<rect class="bar /g)]).toHaveLength(3 * 366);
    for (const q of ['since=2025-12-09&until=2026-12-10', 'since=2025-01-01&until=2026-12-10', 'since=2026-13-01', 'since=2026-12-10&until=2026-12-01', 'until=2026-12-01&until=2026-12-02']) {
      const bad = await c.get(`/admin/audit/chart?${q}`);
      expect([q, bad.status]).toEqual([q, 400]);
      expect(bad.text).toContain('role="alert"');
    }
    // Read as the log viewer reads its days: a repeated one says so.
    expect((await c.get('/admin/audit/chart?until=2026-12-01&until=2026-12-02')).text).toContain('Каждое условие отбора указывается один раз.');
    expect((await c.get('/admin/audit/chart?since=2026-13-01')).text).toContain('Дата «с» записана неверно');
    expect((await c.get('/admin/audit/chart?since=2026-12-11')).text).toContain('Дата «по» записана неверно');
    // The limit in the texts is MAX_CHART_DAYS's.
    expect(r.text).toContain('По умолчанию — последние 30 дней, не больше 366.');
    expect((await c.get('/admin/audit/chart?since=2025-12-09&until=2026-12-10')).text).toContain('Слишком длинный период: не больше 366 дней.');
    const en = (await c.get('/admin/audit/chart?since=2025-12-09&until=2026-12-10&lang=en')).text;
    expect(en).toContain('The last 30 days by default, 366 at most.');
    expect(en).toContain('The period is too long: 366 days at most.');
  });
});
