import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSystem } from '../system.ts';
import { projectedRun } from '../runs.ts';
import { registeredUser } from '../testUsers.ts';
import { loggedInWindow, openBrowserBed, wideElements, type BrowserBed } from './browserBed.ts';

// Alert kinds in real headless Chromium with JavaScript off, at a desktop's width and a phone's: the create form's new
// fields, the edit page, pausing. Set CRA_SCREENSHOTS to a directory to keep a screenshot of each page there.
const SCREENSHOTS = process.env.CRA_SCREENSHOTS;
const PASSWORD = 'a browser password';

let system: TestSystem;
let base: string;
let bed: BrowserBed;
beforeAll(async () => {
  bed = await openBrowserBed({ notifier: false });
  ({ system, base } = bed);
  await projectedRun(system.world, '2026-11-05', { USD: '1.0790', GBP: '0.8712' });
  await projectedRun(system.world, '2026-11-06', { USD: '1.0825', GBP: '0.8700' });
}, 60_000);
afterAll(async () => bed?.close());

const loggedInPage = (username: string, width: number) =>
  loggedInWindow(bed, { username, password: PASSWORD }, { width, javaScriptEnabled: false });

/** Nothing wider than the window outside the alerts table's own scrolling section. */
const overflow = async (page: Page) => (await wideElements(page, '#alerts')).wide;

describe('alert kinds in a browser, JavaScript off', () => {
  it.each([1280, 390])(
    'sets an up-only alert past the ratio, a change alert, edits and pauses them at %i px',
    async (width) => {
      const username = `kinds${width}`;
      await registeredUser(system, username, PASSWORD);
      const page = await loggedInPage(username, width);
      await page.selectOption('#f-base', 'EUR');
      await page.selectOption('#f-quote', 'USD');
      await page.fill('#f-threshold', '1.08');
      await page.selectOption('#f-direction', 'up');
      await page.selectOption('#f-repeat', 'once');
      await page.click('#new-alert button[type=submit]');
      await page.waitForURL(/\/alerts\?set=/);
      expect(await page.locator('.notice').textContent()).toContain('EUR/USD is already above 1.08');

      await page.selectOption('#f-base', 'EUR');
      await page.selectOption('#f-quote', 'GBP');
      await page.selectOption('#f-kind', 'change');
      await page.fill('#f-percent', '1.5');
      await page.fill('#f-runs', '3');
      await page.click('#new-alert button[type=submit]');
      await page.waitForURL(/\/alerts\?set=/);
      expect(await page.locator('table.alerts').textContent()).toContain('change of 1.5 % over 3 runs');
      if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/alert-kinds-${width}.png`, fullPage: true });
      expect(await overflow(page)).toEqual([]);

      await page.click('a[aria-label^="Edit alert EUR/GBP"]');
      await page.waitForURL(/\/edit$/);
      expect(await page.locator('h1').textContent()).toBe('Edit alert EUR/GBP');
      expect(await overflow(page)).toEqual([]);
      await page.fill('#f-runs', '31');
      await page.click('#edit-alert button[type=submit]');
      expect(await page.locator('#f-runs-error').textContent()).toBe('Use a whole number of runs from 1 to 30');
      if (SCREENSHOTS)
        await page.screenshot({ path: `${SCREENSHOTS}/alert-edit-refused-${width}.png`, fullPage: true });
      await page.fill('#f-runs', '2');
      await page.selectOption('#f-direction', 'down');
      await page.click('#edit-alert button[type=submit]');
      await page.waitForURL(`${base}/alerts`);
      expect(await page.locator('table.alerts').textContent()).toContain('change of 1.5 % over 2 runs');

      await page.click('button[aria-label^="Pause alert EUR/GBP"]');
      await page.waitForURL(`${base}/alerts`);
      expect(await page.locator('.status.paused').textContent()).toBe('Paused');
      if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/alert-paused-${width}.png`, fullPage: true });
    },
  );
});
