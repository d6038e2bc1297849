import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSystem } from '../system.ts';
import { loggedInWindow, openBrowserBed, wideElements, type BrowserBed } from './browserBed.ts';
import { registeredUser } from '../testUsers.ts';

// The account page in real headless Chromium, at a desktop's width and a phone's, with htmx and without JavaScript.
// Set to a directory to keep a screenshot of each width there (to look at the page, not needed by the test).
const SCREENSHOTS = process.env.CRA_SCREENSHOTS;
const PASSWORD = 'a browser password';

let system: TestSystem;
let base: string;

let bed: BrowserBed;
beforeAll(async () => {
  bed = await openBrowserBed({ notifier: false });
  ({ system, base } = bed);
}, 60_000);
afterAll(async () => bed?.close());

/** A window logged in as `username`, on its account page (reached from the header's link). */
async function loggedInPage(username: string, width: number, javaScriptEnabled = true): Promise<Page> {
  const page = await loggedInWindow(bed, { username, password: PASSWORD }, { width, javaScriptEnabled });
  await page.click('header nav a[href="/account"]');
  await page.waitForURL(`${base}/account`);
  return page;
}

describe('the account page in a browser', () => {
  it.each([1280, 390])('fits a window %i px wide, its header included', async (width) => {
    const username = `wide${width}`;
    await registeredUser(system, username, PASSWORD);
    await loggedInPage(username, width); // a second session, so the page lists two
    const page = await loggedInPage(username, width);
    const { scrollWidth, width: clientWidth, wide } = await wideElements(page);
    expect(wide).toEqual([]);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    expect(await page.locator('h2').allTextContents()).toEqual([
      'Email address',
      'Password',
      'Sessions',
      'Channels',
      'Your data',
      'Delete your account',
    ]);
    expect(await page.locator('header nav a[href="/account"]').isVisible()).toBe(true);
    expect(await page.locator('button', { hasText: 'Log out everywhere else' }).isVisible()).toBe(true);
    // Each field and button is big enough to hit with a finger on a phone.
    for (const target of await page.locator('main input:not([type=hidden]), main button, main a.button').all()) {
      const box = (await target.boundingBox())!;
      expect(box.height).toBeGreaterThanOrEqual(width < 600 ? 40 : 30);
    }
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/account-${width}.png`, fullPage: true });
  });

  it('changes the password and logs out everywhere else in place with htmx', async () => {
    await registeredUser(system, 'htmxer', PASSWORD);
    const other = await loggedInPage('htmxer', 390);
    const page = await loggedInPage('htmxer', 390);
    await page.fill('#f-currentPassword', 'not my password');
    await page.fill('#f-newPassword', 'a newer browser password');
    await page.click('#password button[type=submit]');
    await expect.poll(() => page.textContent('#f-currentPassword-error')).toBe('That is not your current password');
    expect(page.url()).toBe(`${base}/account`);
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/account-refused-390.png`, fullPage: true });

    await page.fill('#f-currentPassword', PASSWORD);
    await page.fill('#f-newPassword', 'a newer browser password');
    await page.click('#password button[type=submit]');
    await expect.poll(() => page.textContent('#password')).toContain('Your password was changed');
    // The sessions section came along out of band: the other session is gone from it.
    await expect.poll(() => page.locator('#sessions tbody tr').count()).toBe(1);
    expect(await page.inputValue('#f-currentPassword')).toBe('');
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/account-changed-390.png`, fullPage: true });

    await other.reload();
    expect(other.url()).toMatch(/\/login\?next=/);
  });

  it('works with JavaScript off', async () => {
    await registeredUser(system, 'nojs', PASSWORD);
    await loggedInPage('nojs', 1280, false);
    const page = await loggedInPage('nojs', 1280, false);
    await page.click('button:has-text("Log out everywhere else")');
    await expect.poll(() => page.textContent('#sessions')).toContain('No other session is open.');
    const download = page.waitForEvent('download');
    await page.click('a:has-text("Download my data")');
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^cra-data-nojs-\d{4}-\d{2}-\d{2}\.json$/);
  });
});
