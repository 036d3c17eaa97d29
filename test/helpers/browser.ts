import { chromium, type Browser, type Page } from 'playwright-core';
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
