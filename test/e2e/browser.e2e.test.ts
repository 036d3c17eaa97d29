import type { Browser, Page } from 'playwright-core';
import { launchChromium, pagesOfTheirOwn, tapCard, waitForCardStatus } from '../helpers/browser';
import type { TestPcscd } from '../helpers/pcscd';
import type { TestRedis } from '../helpers/redis';
import type { TestServer } from '../helpers/app';
import { suiteChain } from '../helpers/chain';
import { withAuditUnusable } from '../helpers/audit';
import { createAccountAdmin } from '../../src/admin/accounts';
import { OFFICER } from '../admin/support';

// The clinician's flow in Chromium on the real chain: page → agent → pcscd/vpcd → server.
const CLINICIAN = { login: 'vasilieva', password: 'Пароль-Васильевой-2026', uid: '04B0B0B0B0B0B0' };

let redis: TestRedis;
let srv: TestServer;
let pcscd: TestPcscd;
let browser: Browser;

suiteChain({}, async (c) => {
  ({ pcscd, redis, srv } = c);
  await srv.account(CLINICIAN.login, CLINICIAN.password, CLINICIAN.uid);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const tap = (uid: string) => tapCard(pcscd, uid);
const statusText = (page: Page) => page.textContent('#card-status');
const waitForStatus = waitForCardStatus;

const newPage = pagesOfTheirOwn(() => browser, () => srv);
/** Card step passed and the password typed, ready to submit. */
async function toPasswordStep(page: Page, password = CLINICIAN.password) {
  await page.goto(`${srv.url}/login`);
  await waitForStatus(page, 'Ожидание карты');
  await tap(CLINICIAN.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  await page.fill('#password-field', password);
}

it('opens the login page, taps the card, types the password, sees the logged-in page; a second tap shows the lock screen', async () => {
  const page = await newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.url}/login`);
  expect(await page.textContent('h1')).toBe('Приложите карту к считывателю');
  await waitForStatus(page, 'Ожидание карты');
  expect(await statusText(page)).toContain('Ожидание карты');

  await tap(CLINICIAN.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  expect(await page.inputValue('#login-field')).toBe(CLINICIAN.login); // the card identified the user
  await page.fill('#password-field', CLINICIAN.password);
  await page.click('#submit');

  await page.waitForURL('**/home');
  expect(await page.textContent('h1')).toBe('Вы вошли в систему');
  expect(await page.textContent('#who')).toContain(CLINICIAN.login);
  expect(await page.textContent('#previous-login')).toContain('первый вход');

  await tap(CLINICIAN.uid); // tap-out
  await page.waitForSelector('#locked', { timeout: 10_000 });
  expect(await page.textContent('#locked h1')).toBe('Сеанс заблокирован');
  expect(await page.$('#home')).toBeNull(); // nothing of the session's content
  expect(await page.$('#who')).toBeNull();
  expect(errors).toEqual([]);

  // unlock on the lock screen with the same card and the password
  await waitForStatus(page, 'Ожидание карты');
  await tap(CLINICIAN.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  await page.fill('#password-field', CLINICIAN.password);
  await page.click('#submit');
  await page.waitForURL('**/home');
  await page.waitForSelector('#home');
  expect(await page.textContent('#previous-login')).not.toContain('первый вход');
});

it('shows a wrong password as a short message that says what to do, in Russian', async () => {
  const page = await newPage();
  page.on('console', (m) => console.log('page:', m.text()));
  await page.goto(`${srv.url}/login`);
  await waitForStatus(page, 'Ожидание карты');
  await tap(CLINICIAN.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  await page.fill('#password-field', 'не тот пароль');
  await page.click('#submit');
  await page.waitForSelector('#error:not([hidden])');
  expect(await page.textContent('#error')).toBe('Вход не выполнен. Проверьте логин и пароль и попробуйте снова.');
  expect(await page.inputValue('#password-field')).toBe('');
});

it("a temporary password: after card and password the page asks for a new one (twice, by the rules) and the change signs in", async () => {
  const nurse = { login: 'orlova', uid: '04C0C0C0C0C0C0' };
  await srv.account(nurse.login, 'Пароль-медсестры-2026', nurse.uid);
  const { password: temporary } = await createAccountAdmin(srv.services).resetPassword(OFFICER, nurse.login);
  const page = await newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.url}/login`);
  await waitForStatus(page, 'Ожидание карты');
  await tap(nurse.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  await page.fill('#password-field', temporary);
  await page.click('#submit');
  await page.waitForSelector('#step-change:not([hidden])');
  expect(await page.textContent('#change-heading')).toBe('Смените пароль');
  expect(await page.isHidden('#step-password')).toBe(true);

  await page.fill('#new-password-field', 'Новый-пароль-медсестры-2027');
  await page.fill('#repeat-password-field', 'Другой-пароль-2027');
  await page.click('#change-submit');
  expect(await page.textContent('#error')).toBe('Пароли не совпадают. Введите новый пароль дважды одинаково.');

  await page.fill('#new-password-field', 'Весна-Orlova-2027');
  await page.fill('#repeat-password-field', 'Весна-Orlova-2027');
  await page.click('#change-submit');
  await page.waitForSelector('#error:has-text("логин")');
  expect(await page.textContent('#error')).toBe('Пароль не должен содержать ваш логин или имя.');

  await page.fill('#new-password-field', 'Новый-пароль-медсестры-2027');
  await page.fill('#repeat-password-field', 'Новый-пароль-медсестры-2027');
  await page.click('#change-submit');
  await page.waitForURL('**/home');
  expect(await page.textContent('#who')).toContain(nurse.login);
  expect(errors).toEqual([]);
});

it('an idle login page keeps its nonce across the agent\'s waits instead of asking for one per wait', async () => {
  const page = await newPage();
  const nonceRequests: number[] = [];
  const asked: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/auth/nonce')) nonceRequests.push(Date.now());
  });
  // The agent's long poll runs out at once, four times: the page asks again with the nonce it holds.
  let waits = 0;
  await page.route(`${srv.config.CARDAUTH_AGENT_URL}/v1/statement`, async (route) => {
    asked.push((JSON.parse(route.request().postData() ?? '{}') as { nonce: string }).nonce);
    if (++waits <= 4) return route.fulfill({ status: 408, contentType: 'application/json', body: JSON.stringify({ error: { code: 'tap_timeout', message: 'no card' } }) });
    return route.continue();
  });
  await page.goto(`${srv.url}/login`);
  for (const deadline = Date.now() + 10_000; asked.length < 5 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
  expect(asked.length).toBeGreaterThanOrEqual(5);
  expect(new Set(asked.slice(0, 5)).size).toBe(1); // one nonce for all five waits
  expect(nonceRequests).toHaveLength(1);
  // And it still works: a tap now signs that nonce, and the card step passes.
  await tap(CLINICIAN.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  await page.close();
});

it('a 503 at the password step (audit trail unwritable) says the service is unavailable and keeps the password for a retry', async () => {
  const page = await newPage();
  await toPasswordStep(page);
  await withAuditUnusable(redis.client(), async () => {
    await page.click('#submit');
    await page.waitForSelector('#error:not([hidden])');
  });
  // The server answered 503 audit_unavailable: not "reload the page", and the password is still there.
  expect(await page.textContent('#error')).toBe('Сервис временно недоступен. Попробуйте ещё раз через минуту. Если это продолжается, обратитесь в техподдержку.');
  expect(await page.inputValue('#password-field')).toBe(CLINICIAN.password);
  await page.click('#submit'); // the trail is back: the same password, sent again, signs in
  await page.waitForURL('**/home');
  await page.close();
});

it('a failed sign-out says so on the page and stays there; signing out again works', async () => {
  const page = await newPage();
  await toPasswordStep(page);
  await page.click('#submit');
  await page.waitForURL('**/home');
  expect(await page.title()).toBe('МИС — вы вошли в систему');
  expect(await page.getAttribute('a.lang', 'hreflang')).toBe('en');
  expect(await page.getAttribute('a.lang', 'lang')).toBe('en');
  await withAuditUnusable(redis.client(), async () => {
    await page.click('#logout-form button');
    await page.waitForSelector('#logout-error:not([hidden])');
  });
  expect(await page.getAttribute('#logout-error', 'role')).toBe('alert');
  expect(await page.textContent('#logout-error')).toBe('Не удалось выйти. Приложите карту, чтобы заблокировать сеанс, или попробуйте ещё раз.');
  expect(new URL(page.url()).pathname).toBe('/home');
  expect(await page.textContent('#who')).toContain(CLINICIAN.login); // still signed in, and it shows
  await page.click('#logout-form button');
  await page.waitForURL('**/login');
  expect(await page.textContent('h1')).toBe('Приложите карту к считывателю');
  await page.close();
});

it('the page opened at another address than the public origin says so', async () => {
  const page = await newPage();
  await page.goto(`${srv.url.replace('127.0.0.1', 'localhost')}/login`); // the server refuses this Origin
  await page.waitForSelector('#error:not([hidden])');
  expect(await page.textContent('#error')).toBe('Страница входа открыта не по тому адресу. Откройте МИС по ярлыку или обратитесь к администратору.');
  await page.close();
});

it('the card status says what the agent answered, once each, and keeps waiting; "another card" puts focus on the card step', async () => {
  const page = await newPage();
  // Every text #card-status takes once the page runs (not the one it is served with).
  await page.addInitScript({
    content: `window.statuses = [];
      document.addEventListener('DOMContentLoaded', () => {
        new MutationObserver((records) => {
          for (const r of records) r.addedNodes.forEach((n) => window.statuses.push(n.textContent));
        }).observe(document.getElementById('card-status'), { childList: true });
      });`,
  });
  // The agent: no card in time, then a card it could not read, then not reachable once, then itself.
  let calls = 0;
  await page.route(`${srv.config.CARDAUTH_AGENT_URL}/v1/statement`, async (route) => {
    const n = ++calls;
    if (n === 1) return route.fulfill({ status: 408, contentType: 'application/json', body: JSON.stringify({ error: { code: 'tap_timeout', message: 'no card' } }) });
    if (n === 2) return route.fulfill({ status: 422, contentType: 'application/json', body: JSON.stringify({ error: { code: 'card_unreadable', message: 'could not read' } }) });
    if (n === 3) return route.abort('connectionrefused');
    return route.continue();
  });
  await page.goto(`${srv.url}/login`);
  // A function, not a string: the page's CSP forbids eval, which a polled string predicate needs.
  await page.waitForFunction(() => (globalThis as unknown as { statuses: string[] }).statuses.includes('Ожидание карты…'), undefined, { timeout: 15_000 });
  await new Promise((r) => setTimeout(r, 300)); // the real agent's wait has started
  await tap(CLINICIAN.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  expect(await page.evaluate('window.statuses')).toEqual([
    'Карта не приложена. Приложите карту, чтобы продолжить.',
    'Карта не прочитана. Приложите её ещё раз и держите неподвижно.',
    'Программа считывателя не отвечает. Если это продолжается больше минуты, обратитесь в техподдержку.',
    'Ожидание карты…', // the agent answers again
    'Карта прочитана, проверяем…',
  ]);
  expect(calls).toBe(4);

  await page.click('#restart');
  expect(await page.evaluate('document.activeElement.id')).toBe('card-heading');
  await page.close();
});

it('a statement request from elsewhere takes the reader: the page says so, does not ask again by itself, and takes it back on request', async () => {
  const page = await newPage();
  const asked = page.waitForRequest(`${srv.config.CARDAUTH_AGENT_URL}/v1/statement`);
  await page.goto(`${srv.url}/login`);
  await asked;
  await new Promise((r) => setTimeout(r, 300)); // the page's request waits at the agent
  // Another program on this machine sends the allowed Origin: it becomes the one request waiting.
  const other = fetch(`${srv.config.CARDAUTH_AGENT_URL}/v1/statement`, {
    method: 'POST',
    headers: { origin: srv.config.CARDAUTH_PUBLIC_ORIGIN, 'content-type': 'application/json' },
    body: JSON.stringify({ nonce: 'o'.repeat(43), aud: srv.config.CARDAUTH_PUBLIC_ORIGIN }),
  });
  await waitForStatus(page, 'Считыватель карт занят другим окном или программой');
  expect(await page.isVisible('#take-back')).toBe(true);
  expect(await page.textContent('#take-back')).toBe('Вернуть считыватель сюда');
  // The page did not ask again: the tap goes to the other request (a page asking again would have superseded it).
  await tap(CLINICIAN.uid);
  expect((await other).status).toBe(200);
  // Taken back: the page waits again, and the next tap is its own.
  await page.click('#take-back');
  await waitForStatus(page, 'Ожидание карты');
  expect(await page.isVisible('#take-back')).toBe(false);
  await new Promise((r) => setTimeout(r, 300));
  await tap(CLINICIAN.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  expect(await page.inputValue('#login-field')).toBe(CLINICIAN.login);
});

