import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSystem } from '../system.ts';
import { openBrowserBed, type BrowserBed } from './browserBed.ts';

// The change-of-address form in real headless Chromium (Debian's package), with htmx and with JavaScript off.
const PASSWORD = 'a browser password';

let system: TestSystem;
let browser: Browser;
let base: string;

let bed: BrowserBed;
beforeAll(async () => {
  bed = await openBrowserBed();
  ({ system, browser, base } = bed);
}, 60_000);
afterAll(async () => bed?.close());

/** The first link to `path` in the newest email to `address`. */
async function linkIn(address: string, path: string): Promise<string> {
  const mails = await system.smtp.waitFor((m) => m.some((e) => e.to.includes(address)));
  const mail = mails.filter((e) => e.to.includes(address)).at(-1)!;
  return new RegExp(`${base.replace(/[.:/]/g, '\\$&')}${path}\\?token=\\S+`).exec(mail.text)![0];
}

async function signedIn(page: Page, username: string) {
  await page.goto(`${base}/register`);
  await page.fill('#f-username', username);
  await page.fill('#f-email', `${username}@example.com`);
  await page.fill('#f-password', PASSWORD);
  await page.click('button[type=submit]');
  await expect.poll(() => page.textContent('main')).toContain('We sent a verification link');
  await page.goto(await linkIn(`${username}@example.com`, '/verify'));
  await page.fill('#f-username', username);
  await page.fill('#f-password', PASSWORD);
  await page.click('form[action="/login"] button[type=submit]');
  await page.waitForURL(`${base}/alerts`);
}

async function changeAddress(page: Page, username: string, htmx: boolean) {
  await signedIn(page, username);
  await page.goto(`${base}/account/email`);
  expect(await page.textContent('main')).toContain(`go to ${username}@example.com`);

  await page.fill('#f-new-email', `${username}@new.example`);
  await page.fill('#f-email-password', 'not the password');
  await page.click('form[action="/account/email"] button[type=submit]');
  await expect.poll(() => page.textContent('#f-email-password-error')).toBe('Wrong password');
  expect(await page.getAttribute('#f-email-password', 'aria-invalid')).toBe('true');
  expect(await page.inputValue('#f-new-email')).toBe(`${username}@new.example`);

  await page.fill('#f-email-password', PASSWORD);
  await page.click('form[action="/account/email"] button[type=submit]');
  await expect.poll(() => page.textContent('main')).toContain(`We sent a confirmation link to ${username}@new.example`);
  // htmx put the answer in place of the form; without JavaScript it is a page of its own.
  expect(await page.textContent('h1')).toBe(htmx ? 'Change your email address' : 'Check your new inbox');

  await page.goto(await linkIn(`${username}@new.example`, '/account/email/confirm'));
  expect(await page.textContent('h1')).toBe('Email address changed');
  await page.click('main a[href="/account/email"]');
  await expect.poll(() => page.textContent('main')).toContain(`go to ${username}@new.example`);
}

describe('changing the email address in a real browser', () => {
  it('with htmx: refusals and the answer replace the form in place', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await changeAddress(page, 'htmxmover', true);
    expect(errors.filter((e) => /Content Security Policy|htmx/i.test(e))).toEqual([]);
    await context.close();
  }, 60_000);

  it('with JavaScript off: the same, a whole page at a time', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    await changeAddress(await context.newPage(), 'plainmover', false);
    await context.close();
  }, 60_000);
});
