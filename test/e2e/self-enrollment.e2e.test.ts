import type { Browser } from 'playwright-core';
import { createEnrollmentAdmin } from '../../src/admin/enrollments';
import { normaliseUid } from '../../src/contract/uid';
import { OFFICER } from '../admin/support';
import { launchChromium, tapCard, waitForCardStatus } from '../helpers/browser';
import type { TestPcscd } from '../helpers/pcscd';
import type { TestServer } from '../helpers/app';
import { suiteChain } from '../helpers/chain';

// Self-enrollment in Chromium on the real chain (page → agent → pcscd/vpcd → server): a clinician
// with no card places a new one, gives login and password, sees that the request waits for an
// officer; once approved, the card and password log in.
const NEWCOMER = { login: 'novikova', password: 'Пароль-Новиковой-2026', uid: normaliseUid('04E7E7E7E7E7E7') };

let srv: TestServer;
let pcscd: TestPcscd;
let browser: Browser;

suiteChain({ serverEnv: { CARDAUTH_SELF_ENROLLMENT: 'true' } }, async (c) => {
  ({ pcscd, srv } = c);
  await srv.account(NEWCOMER.login, NEWCOMER.password);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

it('an unknown card offers the password form; the password makes a request shown in Russian, no session; approved, the card logs in', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${srv.url}/login`);
    await waitForCardStatus(page, 'Ожидание карты');
    await tapCard(pcscd, NEWCOMER.uid);
    await page.waitForSelector('#step-password:not([hidden])');
    expect(await page.isVisible('#enroll-offer')).toBe(true);
    expect(await page.textContent('#error')).toContain('Карта не принята');
    await page.fill('#login-field', NEWCOMER.login);
    await page.fill('#password-field', NEWCOMER.password);
    await page.click('#submit');
    await page.waitForFunction(() => ((globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document.getElementById('error')?.textContent ?? '').includes('Заявка'));
    expect(await page.textContent('#error')).toContain('после того, как администратор безопасности подтвердит');
    expect(page.url()).toContain('/login');
    expect((await context.request.get(`${srv.url}/auth/session`)).status()).toBe(401);
    expect(await srv.services.enrollments.get(NEWCOMER.uid)).toMatchObject({ workstation: expect.any(String) });

    await createEnrollmentAdmin(srv.services).approve(OFFICER, { uid: NEWCOMER.uid });
    await waitForCardStatus(page, 'Ожидание карты');
    await tapCard(pcscd, NEWCOMER.uid);
    await page.waitForSelector('#step-password:not([hidden])');
    expect(await page.isVisible('#enroll-offer')).toBe(false);
    expect(await page.inputValue('#login-field')).toBe(NEWCOMER.login); // the card identifies the user now
    await page.fill('#password-field', NEWCOMER.password);
    await page.click('#submit');
    await page.waitForURL('**/home');
    expect(await page.textContent('#who')).toContain(NEWCOMER.login);
    expect(errors).toEqual([]);
  } finally {
    await context.request.post(`${srv.url}/auth/logout`, { headers: { origin: srv.config.CARDAUTH_PUBLIC_ORIGIN }, data: {} }).catch(() => undefined);
    await context.close();
  }
});
