import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSystem } from '../system.ts';
import { registeredUser } from '../testUsers.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhookReceiver.ts';
import { loggedInWindow, openBrowserBed, wideElements, type BrowserBed } from './browserBed.ts';

// The channels page in real headless Chromium, at a desktop's width and a phone's, without JavaScript: add a channel,
// send it a test (a real local receiver takes it), pause, resume and delete it.
const SCREENSHOTS = process.env.CRA_SCREENSHOTS;
const PASSWORD = 'a browser password';

let system: TestSystem;

let base: string;
let bed: BrowserBed;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  bed = await openBrowserBed();
  ({ system, base } = bed);
}, 60_000);
afterAll(async () => {
  await bed?.close();
  await receiver?.close();
});

async function channelsPage(username: string, width: number, javaScriptEnabled = true): Promise<Page> {
  await registeredUser(system, username, PASSWORD);
  const page = await loggedInWindow(bed, { username, password: PASSWORD }, { width, javaScriptEnabled });
  await page.goto(`${base}/account`);
  await page.click('a[href="/channels"]');
  await page.waitForURL(`${base}/channels`);
  return page;
}

const overflow = async (page: Page) => (await wideElements(page)).wide;

describe('the channels page in a browser', () => {
  it.each([1280, 390])('works without JavaScript and fits a window %i px wide', async (width) => {
    const page = await channelsPage(`chan${width}`, width, false);
    await page.fill('#f-url', 'ftp://nowhere');
    await page.click('#channel-form button[type=submit]');
    await expect.poll(() => page.textContent('#f-url-error')).toBe('Use an https:// URL');
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/channels-refused-${width}.png`, fullPage: true });

    await page.fill('#f-url', `${receiver.url}/browser${width}/a-long-path-that-is-the-endpoint-credential`);
    await page.check('input[name=format][value=json]');
    await page.click('#channel-form button[type=submit]');
    await expect.poll(() => page.textContent('main')).toContain('signing secret, shown this once');
    expect(await page.textContent('code.secret')).toMatch(/^whsec_/);
    expect(await overflow(page)).toEqual([]);
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/channels-added-${width}.png`, fullPage: true });

    await page.click('button:has-text("Send a test")');
    await receiver.waitFor(
      () => receiver.to(`/browser${width}/a-long-path-that-is-the-endpoint-credential`).length === 1,
    );
    await expect
      .poll(async () => (await page.reload(), await page.textContent('table.channels')), { timeout: 10_000 })
      .toContain('Test message: Delivered');
    expect(await overflow(page)).toEqual([]);
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/channels-${width}.png`, fullPage: true });

    await page.click('button:has-text("Pause")');
    await expect.poll(() => page.textContent('table.channels')).toContain('Paused');
    await page.click('button:has-text("Resume")');
    await expect.poll(() => page.textContent('table.channels')).toContain('On');
    await page.click('table.channels button:has-text("Delete")');
    await expect.poll(() => page.textContent('h1')).toBe('Delete channel');
    await page.click('button:has-text("Delete channel")');
    await expect.poll(() => page.textContent('main')).toContain('No channels yet');
  });
});
