import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { exportHeader } from '../../src/audit/export-format';
import { canonicalJson } from '../../src/audit/record';
import type { TestAgent, TestServer } from '../helpers/app';
import { auditRecords } from '../helpers/audit';
import { launchChromium, tapCard, waitForCardStatus } from '../helpers/browser';
import { suiteChain } from '../helpers/chain';
import type { TestPcscd } from '../helpers/pcscd';

// An auditor's work in Chromium on the real chain (page → the card agent → pcscd/vpcd →
// server): log in with card and password; filter one account's failures; open a record; export
// the CSV; see the chart. Then a record is edited in Redis directly, and "verify now" on the
// integrity panel shows the chain broken, naming that record.
const AUDITOR = { login: 'revizor', password: 'Пароль-Аудитора-2026', uid: '04E7E7E7E7E7E7' };
const CLINICIAN = { login: 'orlova', password: 'Пароль-Орловой-2026', uid: '04E8E8E8E8E8E8' };

let srv: TestServer;
let pcscd: TestPcscd;
let browser: Browser;
/** Another workstation, where the clinician mistypes the password. */
let elsewhere: TestAgent;

suiteChain({ serverEnv: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (c) => {
  ({ pcscd, srv } = c);
  await srv.account(AUDITOR.login, AUDITOR.password, AUDITOR.uid, ['auditor']);
  await srv.account(CLINICIAN.login, CLINICIAN.password, CLINICIAN.uid, ['clinician']);
  elsewhere = await srv.agent({ name: 'РМ-12' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
const text = (page: Page, selector: string) => page.textContent(selector).then((t) => (t ?? '').replace(/\s+/g, ' ').trim());

it('an auditor logs in with card and password, filters one account\'s failures, opens a record, exports the CSV, sees the chart; a record edited in Redis shows as broken on the integrity panel', async () => {
  // The clinician mistypes the password twice at another workstation, then logs in.
  for (const password of ['не-тот-пароль-1', 'не-тот-пароль-2']) expect((await srv.login(srv.client(), elsewhere, CLINICIAN.uid, CLINICIAN.login, password)).status).toBe(401);
  expect((await srv.login(srv.client(), elsewhere, CLINICIAN.uid, CLINICIAN.login, CLINICIAN.password)).status).toBe(200);

  // The auditor logs in at the desk: card, then password; /admin takes it to its own pages.
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.url}/login`);
  await waitForCardStatus(page, 'Ожидание карты');
  await tapCard(pcscd, AUDITOR.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  expect(await page.inputValue('#login-field')).toBe(AUDITOR.login);
  await page.fill('#password-field', AUDITOR.password);
  await page.click('#submit');
  await page.waitForURL('**/home');
  await page.goto(`${srv.url}/admin`);
  await page.waitForURL('**/admin/audit');
  expect(await text(page, 'h1')).toBe('Журнал аудита');
  expect(await page.$$eval('nav.admin-nav a', (as) => as.map((a) => a.getAttribute('href')))).toEqual(['/admin/audit', '/admin/audit/integrity', '/admin/audit/chart']);

  // The clinician's failures: the account and the outcome.
  await page.fill('#f-who', CLINICIAN.login);
  await page.selectOption('#f-outcome', 'failure');
  await page.click('#filter-apply');
  await page.waitForURL('**/admin/audit?*who=orlova*');
  const rows = await page.$$eval('#audit-records tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
  expect(rows).toHaveLength(2);
  expect(rows.every((r) => r.includes('password.checked') && r.includes('orlova') && r.includes('отказ') && r.includes('wrong_password'))).toBe(true);

  // One record, every field.
  await page.click('#audit-records tbody tr:first-child th a');
  await page.waitForURL('**/admin/audit/records/**');
  const recordId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
  expect(await text(page, 'h1')).toMatch(/^Запись журнала № \d+$/);
  const record = await text(page, '#audit-record');
  expect(record).toContain(recordId);
  expect(record).toContain('wrong_password');
  expect(record).toContain(elsewhere.id);

  // Back to the filtered list, and its CSV.
  await page.click('#audit-back');
  await page.waitForURL('**/admin/audit?*outcome=failure*');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  expect(download.suggestedFilename()).toMatch(/^audit-\d{8}-\d{6}\.csv$/);
  const csv = readFileSync((await download.path())!);
  expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const lines = csv.toString('utf8').split('\r\n').filter(Boolean);
  expect(`${lines[0]}\r\n`).toBe(exportHeader('csv'));
  expect(lines).toHaveLength(3);
  expect(lines.some((l) => l.startsWith(`${recordId};`))).toBe(true);
  const exported = (await auditRecords(srv.redis, 'audit.exported')).pop();
  expect(exported).toMatchObject({ outcome: 'success', details: { count: 2, format: 'csv', filter: `who=${CLINICIAN.login} outcome=failure`, via: 'web' } });

  // The chart: the last 30 days, three bars a day; today's as the query service counts them.
  await page.click('nav.admin-nav a[href="/admin/audit/chart"]');
  await page.waitForSelector('svg#audit-chart');
  const bars = await page.$$eval('svg#audit-chart rect.bar', (rs) => rs.map((r) => [r.getAttribute('data-day'), r.getAttribute('data-series'), Number(r.getAttribute('data-value')), Number(r.getAttribute('height'))] as const));
  expect(bars).toHaveLength(90);
  const now = Date.now();
  const today = new Date(now).toISOString().slice(0, 10);
  const [counted] = await srv.services.admin.auditQuery.days(Date.parse(today), Date.parse(today) + 86_400_000);
  const todays = bars.filter(([day]) => day === today).map(([, series, value]) => [series, value]);
  expect(todays).toEqual([
    ['logins', counted!.logins],
    ['failures', counted!.failures],
    ['lockouts', counted!.lockouts],
  ]);
  expect(counted!.failures).toBeGreaterThanOrEqual(2);
  expect(counted!.logins).toBeGreaterThanOrEqual(2); // the clinician and the auditor
  expect(bars.filter(([day]) => day !== today).every(([, , value, height]) => value === 0 && height === 0)).toBe(true);
  expect(await page.$$eval('ul.legend li', (lis) => lis.map((li) => (li.textContent ?? '').trim().split(':')[0]))).toEqual(['Входы', 'Отказы', 'Блокировки']);
  expect(await page.$$eval('#chart-table tbody tr', (trs) => trs.length)).toBe(30);

  // A record edited in Redis directly (the stream rewritten with its ids: one record's text changed).
  const list = await srv.redis.xrange('audit:log', '-', '+');
  const at = list.findIndex(([id]) => id === recordId);
  const [id, fields] = list[at]!;
  const body = JSON.parse(fields[1]!) as { seq: number };
  list[at] = [id, ['r', canonicalJson({ ...body, outcome: 'success' }), 'h', fields[3]!]];
  await srv.redis.del('audit:log');
  for (const [i, f] of list) await srv.redis.xadd('audit:log', i, ...f);

  await page.click('nav.admin-nav a[href="/admin/audit/integrity"]');
  await page.waitForSelector('#verify-now');
  await page.click('#verify-now');
  await page.waitForSelector('#verify-result');
  expect(await text(page, '#status')).toBe(`Проверка завершена: цепочка НАРУШЕНА. Первая нарушенная запись № ${body.seq} (${recordId}).`);
  expect(await text(page, '#verify-kind')).toBe('запись изменена (hash_mismatch)');
  expect(await text(page, '#verify-record')).toBe(`№ ${body.seq} (${recordId})`);
  expect((await auditRecords(srv.redis, 'audit.verified')).pop()).toMatchObject({ outcome: 'failure', reason: 'record_edited', details: { brokenId: recordId, brokenSeq: body.seq } });
  // The panel keeps saying so: the last verification.
  await page.reload();
  expect(await text(page, '#last-verify')).toContain(`Цепочка была нарушена: первая нарушенная запись № ${body.seq} (${recordId}).`);

  // Every view and the export were recorded, as the auditor.
  const viewed = (await auditRecords(srv.redis, 'audit.viewed')).map((r) => (r.details as { filter: string }).filter);
  expect(viewed).toEqual(expect.arrayContaining(['all', `who=${CLINICIAN.login} outcome=failure`, `id=${recordId}`, 'integrity', expect.stringMatching(/^chart since=/)]));
  expect(errors).toEqual([]);
  await context.close();
}, 90_000);
