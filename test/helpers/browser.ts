import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestPcscd } from './pcscd';

/** Debian's Chromium, headless, with no network of its own (docs/testing.md). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A tap as a person does it: the card lies on the reader a moment, then leaves. */
export async function tapCard(pcscd: Pick<TestPcscd, 'tap' | 'remove'>, uid: string): Promise<void> {
  await pcscd.tap(uid);
  await new Promise((r) => setTimeout(r, 1200));
  await pcscd.remove(0);
  await new Promise((r) => setTimeout(r, 800));
}

/**
 * Waits until the login page's card status shows `text`. A function, not a string: the
 * page's CSP forbids eval, and Playwright polls a string predicate with it.
 */
export const waitForCardStatus = (page: Page, text: string) =>
  page.waitForFunction((t) => ((globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document.getElementById('card-status')?.textContent ?? '').includes(t), text);

/**
 * In a test file: `newPage()` opens a page in a browser context of its own. Every page a test opens is closed after it,
 * even when it fails: an open login page would keep asking the agent and take the next test's tap. Its session ends too
 * (hence a context of its own, which outlives a page the test closes): the card of a session open here, tapped again, is
 * that session's tap-out.
 *
 * @example
 * const newPage = pagesOfTheirOwn(() => browser, () => srv);
 */
export function pagesOfTheirOwn(browser: () => Browser, srv: () => { url: string; config: { CARDAUTH_PUBLIC_ORIGIN: string } }): () => Promise<Page> {
  const contexts: BrowserContext[] = [];
  afterEach(async () => {
    await Promise.all(
      contexts.splice(0).map(async (context) => {
        await context.request.post(`${srv().url}/auth/logout`, { headers: { origin: srv().config.CARDAUTH_PUBLIC_ORIGIN }, data: {} }).catch(() => undefined);
        await context.close().catch(() => undefined);
      }),
    );
  });
  return async () => {
    const context = await browser().newContext();
    contexts.push(context);
    return context.newPage();
  };
}
