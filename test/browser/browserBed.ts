import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../../platform/embedded.ts';
import type { WebDeps } from '../../web/deps.ts';
import { startTestSystem, type TestSystem } from '../system.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** What the browser specs drive: the whole system listening on a free loopback port, and Debian's headless Chromium. */
export type BrowserBed = { system: TestSystem; browser: Browser; base: string; close: () => Promise<void> };

/**
 * Start the system on a port of its own (links in emails point there) and launch Chromium with the flags this
 * machine's closed network needs (no background connections, no QUIC, no component updates).
 */
export async function openBrowserBed(
  options: { notifier?: boolean; web?: Partial<Omit<WebDeps, 'personal'>> } = {},
): Promise<BrowserBed> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const system = await startTestSystem({
    publicUrl: base,
    ...(options.notifier === false ? { notifier: false } : {}),
    ...(options.web ? { web: options.web } : {}),
  });
  await system.app.listen({ port, host: '127.0.0.1' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    system,
    browser,
    base,
    close: async () => {
      await browser.close();
      await system.close();
    },
  };
}

/** A new window `width` px wide (JavaScript on unless said), logged in through the login form: it is on /alerts. */
export async function loggedInWindow(
  bed: Pick<BrowserBed, 'browser' | 'base'>,
  login: { username: string; password: string },
  options: { width: number; javaScriptEnabled?: boolean },
): Promise<Page> {
  const context = await bed.browser.newContext({
    viewport: { width: options.width, height: 900 },
    javaScriptEnabled: options.javaScriptEnabled ?? true,
  });
  const page = await context.newPage();
  await page.goto(`${bed.base}/login`);
  await page.fill('#f-username', login.username);
  await page.fill('#f-password', login.password);
  await page.click('form[action="/login"] button[type=submit]');
  await page.waitForURL(`${bed.base}/alerts`);
  return page;
}

/**
 * What is wider than the window (no sideways scrolling, on the page or in any of its sections): the start of each such
 * element's markup, leaving out those inside `except` (a section that scrolls on its own), and the page's scroll width.
 */
export const wideElements = (page: Page, except?: string) =>
  page.evaluate((outside) => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => !(outside && e.closest(outside)) && e.getBoundingClientRect().right > width + 1)
      .map((e) => e.outerHTML.slice(0, 80));
    return { wide, scrollWidth: document.documentElement.scrollWidth, width };
  }, except);
