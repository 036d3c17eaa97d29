import { exportJWK, generateKeyPair } from 'jose';
import type { APIRequestContext, Browser, BrowserContext, Page } from 'playwright-core';
import { signStatement } from '../../src/card-agent/sign-statement';
import type { TestAgent, TestServer } from '../helpers/app';
import { lastAudit } from '../helpers/audit';
import { launchChromium, tapCard, waitForCardStatus } from '../helpers/browser';
import { suiteChain } from '../helpers/chain';
import type { TestPcscd } from '../helpers/pcscd';

// A security officer's work in Chromium on the real chain (page → the officer's card agent →
// pcscd/vpcd → server): log in with card and password; create a clinician (the accounts page)
// and bind a card to them by reading it at the officer's own desk reader; approve a pending workstation;
// report the card lost. The clinician's session, open meanwhile in a second browser context
// (from another workstation), is gone at its next page view.
const OFFICER = { login: 'bezopasnost', password: 'Пароль-Офицера-2026', uid: '04E0E0E0E0E0E0' };
const CLINICIAN = { login: 'novikova', name: 'Новикова Анна Сергеевна', uid: '04E1E1E1E1E1E1' };
/** The one-time password the accounts page showed when the officer created the clinician. */
let clinicianPassword = '';

let srv: TestServer;
let pcscd: TestPcscd;
let browser: Browser;
/** Another workstation's approved agent, whose statements the clinician's login uses (the real reader is the officer's). */
let elsewhere: TestAgent;

suiteChain({ serverEnv: { CARDAUTH_IP_ATTEMPTS: '1000' } }, async (c) => {
  ({ pcscd, srv } = c);
  await srv.account(OFFICER.login, OFFICER.password, OFFICER.uid, ['security_officer']);
  elsewhere = await srv.agent({ name: 'РМ-305' });
  browser = await launchChromium();
});
const contexts: BrowserContext[] = [];
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  await browser?.close();
});
async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  return context.newPage();
}
/** The text of the page's aria-live status region, once it holds `text`. */
const statusHolds = (page: Page, text: string) =>
  page
    .waitForFunction((t) => ((globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document.getElementById('status')?.textContent ?? '').includes(t), text, { timeout: 10_000 })
    .catch(async (err: unknown) => {
      const body = (await page.evaluate('document.body.innerText').catch(() => '')) as string;
      throw new Error(`status never held "${text}": ${page.url()}: ${body.slice(0, 600)}; ${String(err)}`);
    });

/** The clinician's login at another workstation, in this browser context (its cookies), as that workstation's page would make it. */
async function clinicianLogsIn(request: APIRequestContext): Promise<void> {
  const origin = srv.config.CARDAUTH_PUBLIC_ORIGIN;
  const post = async (path: string, data: unknown, status = 200) => {
    const r = await request.post(`${srv.url}${path}`, { headers: { origin }, data });
    expect([path, r.status()]).toEqual([path, status]);
    return r.json();
  };
  const { nonce } = await post('/auth/nonce', {});
  const statement = await signStatement(elsewhere.key, { aud: origin, nonce, uid: CLINICIAN.uid, reader: 'Virtual PCD 00 00' }, { now: () => Date.now() });
  await post('/auth/card', { statement });
  // The officer set the first password: it is changed at the first login.
  expect((await post('/auth/password', { login: CLINICIAN.login, password: clinicianPassword }, 403)).error.code).toBe('password_change_required');
  await post('/auth/password/change', { currentPassword: clinicianPassword, newPassword: 'Новый-пароль-Новиковой-2027' });
}

it('an officer logs in with card and password, binds a card read at the desk, approves a workstation, reports the card lost: the clinician\'s open session ends', async () => {
  // A workstation waiting for approval.
  const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const pending = await srv.services.agents.register({ name: 'Регистратура-2', publicJwk: await exportJWK(publicKey), ip: '192.0.2.77' });

  // The officer logs in at the desk: card, then password.
  const page = await newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.url}/login`);
  await waitForCardStatus(page, 'Ожидание карты');
  await tapCard(pcscd, OFFICER.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  expect(await page.inputValue('#login-field')).toBe(OFFICER.login); // the card identified the officer
  await page.fill('#password-field', OFFICER.password);
  await page.click('#submit');
  await page.waitForURL('**/home');

  // Accounts: the new clinician; the one-time password shown once, for the clinician.
  await page.goto(`${srv.url}/admin/accounts`);
  await page.fill('#c-login', CLINICIAN.login);
  await page.fill('#c-name', CLINICIAN.name);
  await page.click('form[method="post"][action="/admin/accounts"] button[type="submit"]');
  await page.waitForSelector('#secret', { timeout: 10_000 }).catch(async (err: unknown) => {
    throw new Error(`no one-time password: ${page.url()}: ${String(await page.evaluate('document.body.innerText')).slice(0, 800)}; ${String(err)}`);
  });
  clinicianPassword = ((await page.textContent('#secret')) ?? '').trim();
  expect(clinicianPassword).not.toBe('');

  // Cards: read the new card at the officer's own reader; the UID fills the form, to check; bind it.
  await page.goto(`${srv.url}/admin/cards`);
  expect(await page.textContent('h1')).toBe('Карты');
  await page.waitForSelector('#desk-read:not([hidden])');
  await page.click('#desk-read-button');
  await page.waitForFunction(() => ((globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document.getElementById('desk-status')?.textContent ?? '').includes('Приложите'));
  await new Promise((r) => setTimeout(r, 300)); // the agent's wait has started
  await tapCard(pcscd, CLINICIAN.uid);
  await page.waitForFunction((uid) => (globalThis as unknown as { document: { getElementById(id: string): { value: string } | null } }).document.getElementById('bind-uid')?.value === uid, CLINICIAN.uid);
  expect(await page.textContent('#desk-status')).toBe(`Считана карта ${CLINICIAN.uid}. Проверьте UID перед привязкой.`);
  expect(await page.evaluate('document.activeElement.id')).toBe('bind-uid');
  await page.fill('#bind-login', CLINICIAN.login);
  await page.fill('#bind-label', 'ЕКП');
  await page.click('#bind-form button[type="submit"]');
  await statusHolds(page, `Карта ${CLINICIAN.uid} привязана к ${CLINICIAN.login}.`);
  expect(await srv.services.cards.get(CLINICIAN.uid)).toMatchObject({ status: 'active', label: 'ЕКП' });
  expect(await lastAudit(srv.redis, 'card.desk_read')).toMatchObject({ outcome: 'success', cardUid: CLINICIAN.uid });
  // The desk read locked nothing: the officer's session is open (no switch tap-out of their card).
  expect((await page.request.get(`${srv.url}/auth/session`)).status()).toBe(200);

  // Workstations: approve the pending one (its fingerprint and enrollment IP shown).
  await page.goto(`${srv.url}/admin/agents`);
  expect(await page.textContent('#pending')).toContain(pending.fingerprint);
  expect(await page.textContent('#pending')).toContain('192.0.2.77');
  await page.click(`form[action="/admin/agents/${pending.id}/approve"] button`);
  await statusHolds(page, 'Рабочая станция Регистратура-2 подтверждена.');
  expect((await srv.services.agents.get(pending.id))!.status).toBe('approved');

  // The clinician works at another workstation, in a browser of their own.
  const clinicianPage = await newPage();
  await clinicianLogsIn(clinicianPage.context().request);
  await clinicianPage.goto(`${srv.url}/home`);
  expect(await clinicianPage.textContent('#who')).toContain(CLINICIAN.login);

  // The clinician reports the card lost at the officer's desk.
  await page.goto(`${srv.url}/admin/cards?login=${CLINICIAN.login}`);
  await page.click(`form[action="/admin/cards/${CLINICIAN.uid}/lost"] button`);
  await statusHolds(page, `Карта ${CLINICIAN.uid} отмечена утерянной и отозвана; завершено сеансов: 1.`);

  // The clinician's next page view: no session any more, the login page; the session API refuses.
  expect((await clinicianPage.context().request.get(`${srv.url}/auth/session`)).status()).toBe(401);
  await clinicianPage.reload();
  await clinicianPage.waitForURL('**/login**');
  expect(await clinicianPage.$('#who')).toBeNull();
  expect(await srv.services.cards.get(CLINICIAN.uid)).toMatchObject({ status: 'revoked', revokeReason: 'lost' });
  expect(errors).toEqual([]);
}, 90_000);
