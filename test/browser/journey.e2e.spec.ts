import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSystem } from '../system.ts';
import { openBrowserBed, type BrowserBed } from './browserBed.ts';
import { projectedRun } from '../runs.ts';

// Real headless Chromium (Debian's package, driven by playwright-core) against the real system on a port.

let system: TestSystem;
let browser: Browser;
let base: string;

let bed: BrowserBed;
beforeAll(async () => {
  bed = await openBrowserBed();
  ({ system, browser, base } = bed);
  await projectedRun(system.world, '2026-11-02', { USD: '1.0825', JPY: '163.42', GBP: '0.8611' });
}, 60_000);
afterAll(async () => bed?.close());

async function verificationLink(email: string): Promise<string> {
  const mail = (await system.smtp.waitFor((m) => m.some((e) => e.to.includes(email)))).find((e) =>
    e.to.includes(email),
  )!;
  return new RegExp(`${base.replace(/[.:/]/g, '\\$&')}/verify\\?token=\\S+`).exec(mail.text)![0];
}

async function journey(page: Page, username: string, javaScript: boolean) {
  await page.goto(`${base}/register`);
  await page.fill('#f-username', username);
  await page.fill('#f-email', `${username}@example.com`);
  await page.fill('#f-password', 'a browser password');
  await page.click('button[type=submit]');
  await expect.poll(() => page.textContent('main')).toContain('We sent a verification link');

  await page.goto(await verificationLink(`${username}@example.com`));
  await expect.poll(() => page.textContent('main')).toContain('Your account is ready');
  await page.fill('#f-username', username);
  await page.fill('#f-password', 'a browser password');
  await page.click('form[action="/login"] button[type=submit]');
  await page.waitForURL(`${base}/alerts`);

  await page.selectOption('select[name=base]', 'EUR');
  await page.selectOption('select[name=quote]', 'USD');
  await page.fill('input[name=threshold]', '1.1');
  await page.click('form[action="/alerts"] button[type=submit]');
  await expect.poll(() => page.textContent('#alerts')).toContain('EUR/USD');
  const section = (await page.textContent('#alerts'))!;
  expect(section).toContain('1.0825');
  expect(section).toMatch(/below/i);
  expect(await page.locator('#alerts svg').count()).toBeGreaterThan(0);

  if (javaScript) {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#alerts button.danger');
  } else {
    await page.click('#alerts button.danger');
    await expect.poll(() => page.textContent('main')).toMatch(/Delete alert EUR\/USD at 1\.1\?/);
    await page.click('main form button[type=submit]');
  }
  await expect.poll(async () => (await page.textContent('main'))?.includes('EUR/USD at 1.1') ?? false).toBe(false);
  await expect.poll(() => page.locator('#alerts button.danger').count()).toBe(0);

  await page.click('header form[action="/logout"] button');
  await page.waitForURL(`${base}/login`);
  await page.goto(`${base}/alerts`);
  expect(page.url()).toContain('/login');
}

describe('in a real browser', () => {
  it('runs the whole journey with htmx', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await journey(page, 'chromium', true);
    expect(errors.filter((e) => /Content Security Policy|htmx/i.test(e))).toEqual([]);
    expect(await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx)).toBe('object');
    await context.close();
  }, 60_000);

  it('runs the same journey with JavaScript off', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await journey(page, 'nojs', false);
    await context.close();
  }, 60_000);
});
