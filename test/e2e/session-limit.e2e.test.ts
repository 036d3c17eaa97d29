import type { Browser, Page } from 'playwright-core';
import { launchChromium, pagesOfTheirOwn, tapCard, waitForCardStatus } from '../helpers/browser';
import type { TestPcscd } from '../helpers/pcscd';
import type { TestAgent, TestServer } from '../helpers/app';
import { suiteChain } from '../helpers/chain';

// At the session limit, in Chromium on the real chain (page → agent → pcscd/vpcd → server): the
// login page lists the other sessions and ends them on request (issue 10 §4).
const CLINICIAN = { login: 'smirnova', password: 'Пароль-Смирновой-2026', uid: '04D0D0D0D0D0D0' };

let srv: TestServer;
let pcscd: TestPcscd;
let browser: Browser;
let elsewhere: TestAgent;

suiteChain({ serverEnv: { CARDAUTH_SESSION_LIMITS: 'clinician=1' } }, async (c) => {
  ({ pcscd, srv } = c);
  await srv.account(CLINICIAN.login, CLINICIAN.password, CLINICIAN.uid);
  elsewhere = await srv.agent({ name: 'РМ-205' }); // the other workstation, signing without a reader
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const newPage = pagesOfTheirOwn(() => browser, () => srv);

/** The clinician's session at the other workstation, through the API. */
async function openElsewhere() {
  const other = srv.client();
  expect((await srv.login(other, elsewhere, CLINICIAN.uid, CLINICIAN.login, CLINICIAN.password)).status).toBe(200);
  return other;
}

/** The page at the limit: card, password, submit; the list of the other sessions shows. */
async function toLimit(page: Page, lang = '') {
  await page.goto(`${srv.url}/login${lang}`);
  await waitForCardStatus(page, lang ? 'Waiting for' : 'Ожидание карты');
  await tapCard(pcscd, CLINICIAN.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  await page.fill('#password-field', CLINICIAN.password);
  await page.click('#submit');
  await page.waitForSelector('#step-limit:not([hidden])');
}

it('lists the other session (workstation, Moscow time) with focus on its heading; «Завершить эти сеансы и войти» ends it and signs in', async () => {
  const other = await openElsewhere();
  const page = await newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await toLimit(page);

  expect(await page.textContent('#limit-heading')).toBe('Вы уже вошли на другом рабочем месте');
  expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('limit-heading');
  expect(await page.getAttribute('#limit-hint', 'aria-live')).toBe('polite');
  const items = await page.$$eval('#limit-list li', (lis) => lis.map((li) => li.textContent ?? ''));
  expect(items).toHaveLength(1);
  const since = new Intl.DateTimeFormat('ru-RU', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Moscow' }).format(new Date());
  expect(items[0]).toContain('РМ-205');
  expect(items[0]).toContain(since.slice(0, 6)); // the day, in Moscow time (the minute may have turned)
  expect(await page.isHidden('#step-password')).toBe(true);
  expect(await page.textContent('#limit-end')).toBe('Завершить эти сеансы и войти');
  expect(await page.inputValue('#password-field')).toBe(''); // the password is kept in memory only

  await page.click('#limit-end');
  await page.waitForURL('**/home');
  expect(await page.textContent('#who')).toContain(CLINICIAN.login);
  expect((await other.get('/auth/session')).status).toBe(401);
  expect(errors).toEqual([]);
});

it('cancel leaves the other session open and goes back to the card; the page speaks English on request', async () => {
  const other = await openElsewhere();
  const page = await newPage();
  await toLimit(page, '?lang=en');
  expect(await page.textContent('#limit-heading')).toBe('You are already signed in at another workstation');
  expect(await page.textContent('#limit-end')).toBe('End these sessions and sign in');
  await page.click('#limit-cancel');
  await page.waitForSelector('#step-card:not([hidden])');
  expect(await page.isHidden('#step-limit')).toBe(true);
  expect((await other.get('/auth/session')).status).toBe(200);
  await other.post('/auth/logout');
});
