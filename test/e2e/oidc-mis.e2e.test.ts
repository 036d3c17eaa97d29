import type { Browser } from 'playwright-core';
import { startTestAgent, type TestAgentProcess } from '../helpers/agent';
import { launchChromium, tapCard, waitForCardStatus } from '../helpers/browser';
import { startOidcSetup, type OidcSetup } from '../helpers/oidc';
import { registerOidcMis, startOidcMis, type OidcMis } from '../helpers/oidc-mis';
import { startPcscd, type TestPcscd } from '../helpers/pcscd';
import { freePort } from '../helpers/redis';

// The whole OpenID flow as a clinician lives it, in Chromium: examples/oidc-mis's patients page →
// cardauth's login page → a tap of the virtual card through pcscd + vpcd and the real card agent →
// the password → back on the MIS's patients page with the clinician's name → a second tap (tap-out)
// locks the cardauth login, cardauth posts a back-channel logout to the MIS, and the MIS page says
// it is logged out within 2 s, with nobody touching it.

const CLINICIAN = { login: 'sidorova', name: 'Сидорова Елена Павловна', password: 'Пароль-Сидоровой-2026', uid: '04C0C0C0C0C0C0' };

let pcscd: TestPcscd;
let setup: OidcSetup;
let agent: TestAgentProcess;
let mis: OidcMis;
let browser: Browser;

beforeAll(async () => {
  pcscd = await startPcscd();
  const agentPort = await freePort();
  setup = await startOidcSetup({ CARDAUTH_AGENT_URL: `http://127.0.0.1:${agentPort}` });
  const s = setup.services;
  const acc = await s.accounts.create({ login: CLINICIAN.login, displayName: CLINICIAN.name, roles: ['clinician'], passwordHash: await s.hasher.hash(CLINICIAN.password) });
  await s.cards.bind({ uid: CLINICIAN.uid, accountId: acc.id, by: 'os:test' });
  // The real agent, enrolled with `cardauth serve` over HTTP and approved.
  agent = await startTestAgent({ url: setup.issuer, config: { CARDAUTH_PUBLIC_ORIGIN: setup.issuer }, services: s }, { port: agentPort });
  const misPort = await freePort();
  const secret = await registerOidcMis(setup.clients, 'oidc-mis', `http://127.0.0.1:${misPort}`);
  mis = await startOidcMis({ MIS_CARDAUTH_ORIGIN: setup.issuer, MIS_CLIENT_ID: 'oidc-mis', MIS_CLIENT_SECRET: secret, MIS_PORT: String(misPort) });
  browser = await launchChromium();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await mis?.stop();
  await agent?.close();
  await setup?.close();
  await pcscd?.stop();
});

const tap = (uid: string) => tapCard(pcscd, uid);

it('MIS patients page → cardauth login (card through the real agent, password) → the MIS shows the clinician; a tap-out logs the MIS page out within 2 s', async () => {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${mis.url}/patients`);
  // Sent to cardauth's own login page by the MIS (its /oidc/auth).
  await page.waitForURL((u) => u.origin === setup.issuer && u.pathname === '/login');
  expect(new URL(page.url()).searchParams.get('next')).toMatch(/^\/oidc\/interaction\//);
  await waitForCardStatus(page, 'Ожидание карты');
  await tap(CLINICIAN.uid);
  await page.waitForSelector('#step-password:not([hidden])');
  expect(await page.inputValue('#login-field')).toBe(CLINICIAN.login);
  await page.fill('#password-field', CLINICIAN.password);
  await page.click('#submit');

  // Back on the MIS, logged in as the clinician of the ID token.
  await page.waitForURL(`${mis.url}/patients`);
  expect(await page.textContent('#clinician-name')).toBe(CLINICIAN.name);
  expect(await page.textContent('#patient-list')).toContain('Смирнов Алексей Викторович');
  expect(await page.isVisible('#logged-out')).toBe(false);
  const login = await mis.waitForEvent('login');

  // Tap-out: cardauth locks the login and posts a logout token; the MIS drops the session…
  const dropped = mis.waitForEvent('backchannel_logout', (e) => e.sid === login.sid, 20_000);
  await tap(CLINICIAN.uid);
  expect(await dropped).toMatchObject({ sid: login.sid, dropped: 1 });
  // …and the page, untouched, notices within 2 s: the patients are gone, the notice is up.
  await page.waitForSelector('#logged-out:not([hidden])', { timeout: 2000 });
  expect(await page.textContent('#logged-out')).toContain('Вы вышли из системы. Приложите карту, чтобы войти снова.');
  expect(await page.$('#patients')).toBeNull();
  expect(await page.getAttribute('#login-again', 'href')).toBe('/patients');
  expect(errors).toEqual([]);
}, 90_000);
